#!/usr/bin/env bash
# Change events per second: our Go device (tango.Server.Set) vs a pytango
# device (push_change_event in a loop), each to one pytango subscriber, in
# one run. Needs libtango-dev and python3-tango (scripts/deps.sh).
# RUNS=3 bench/tango-events.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for _ in $(seq "${RUNS:-1}"); do
  go test -tags tango -run '^$' -bench TangoEvents -benchtime 1x ./tango/ | grep '^Benchmark'
done
