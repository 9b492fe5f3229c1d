#!/usr/bin/env bash
# Runs the tests behind the tango build tag (cgo over Debian's cppTango 9.3,
# with pytango peers). cppTango 9.3 can crash inside its event
# unsubscription (upstream cppTango#686, pytango#371; docs/tango.md): seen
# once in about twenty runs here, on a heavily loaded machine. A package
# whose test binary died of SIGSEGV/SIGABRT without any failed test is run
# once more, and says so; a failed test, or a second crash, fails the step.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
status=0
for pkg in ./tango/... ./connector/tangoio/...; do
  log=$(mktemp)
  $GO test -tags tango -race -count=1 "$pkg" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] && grep -qE 'signal (SIGSEGV|SIGABRT)|SIGSEGV: segmentation violation' "$log" && ! grep -q -- '--- FAIL' "$log"; then
    echo "unit-tango: $pkg crashed inside cppTango without a failed test (known upstream fragility); running it once more" >&2
    $GO test -tags tango -race -count=1 "$pkg"
    rc=$?
  fi
  rm -f "$log"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
