#!/usr/bin/env bash
# Runs the tests behind the tango build tag (cgo over Debian's cppTango 9.3,
# with pytango peers). Any failure, a crash included, fails the step. The
# second run adds the tests that wait for cppTango's keep-alive thread
# (about a minute; docs/tango.md, "Limits and caveats").
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
$GO test -tags tango -race -count=1 ./tango/... ./connector/tangoio/...
$GO test -tags tango -race -count=1 -run 'TestKeepAliveRecovers|TestSubscriptionChurn' ./tango/ -args -tango.keepalive
