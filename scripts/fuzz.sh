#!/usr/bin/env bash
# Runs every fuzz target of the module briefly (FUZZTIME each, default 10s):
# a smoke run in CI; run longer by hand, e.g. FUZZTIME=5m scripts/fuzz.sh.
set -euo pipefail
fuzztime=${FUZZTIME:-10s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r file; do
  pkg="./$(dirname "${file#./}")"
  grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r target; do
    echo "fuzz: $pkg $target ($fuzztime)"
    # Only the last lines on success; everything on failure, so a crasher
    # (or a worker that died) is visible in the CI log.
    if ! out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1); then
      # Go's fuzzing coordinator sometimes ends with "context deadline
      # exceeded" when -fuzztime runs out, with no failing input (seen
      # in CI on a loaded machine): that is no finding, so run the
      # target once more. A real failure writes its input and fails.
      if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
        echo "fuzz: $target: the fuzzing engine timed out without a finding; running it once more"
        out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1) || {
          printf '%s\n' "$out" | tail -n 60
          exit 1
        }
      else
        printf '%s\n' "$out" | tail -n 60
        exit 1
      fi
    fi
    printf '%s\n' "$out" | tail -n 3
  done
done
