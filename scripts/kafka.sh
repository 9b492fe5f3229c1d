#!/usr/bin/env bash
# Fetches the Apache Kafka jars (broker and perf tools, version pinned in
# scripts/kafka/pom.xml) from Maven Central into one directory and prints
# that directory. The tests (internal/testenv.Kafka) and bench/kafka-perf.sh
# run them as `java -cp "$libs/*" …`.
#
#   scripts/kafka.sh            # → ~/.cache/sdpkit/kafka-<version>/libs
#   SDP_KAFKA_LIBS=/x scripts/kafka.sh   # → /x
#
# Idempotent: a directory that a previous run completed is reused without
# asking Maven anything. Needs java and mvn (scripts/deps.sh installs them).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pom=$top/scripts/kafka/pom.xml
version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$pom")
if [ -z "$version" ]; then
  echo "kafka.sh: no <kafka.version> in $pom" >&2
  exit 1
fi
libs=${SDP_KAFKA_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/sdpkit/kafka-$version/libs}
# The marker names the version so that a directory given by SDP_KAFKA_LIBS
# and filled for another version is not mistaken for this one.
marker=$libs/.sdpkit-kafka-$version
if [ ! -f "$marker" ] && [ -n "${SDP_KAFKA_LIBS:-}" ] && compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then
  # A directory of jars made some other way (a Kafka distribution's libs/):
  # used as it is, never replaced.
  echo "kafka.sh: using the jars in $libs as they are" >&2
elif [ ! -f "$marker" ]; then
  if [ -d "$libs" ] && [ -n "$(ls -A "$libs")" ]; then
    echo "kafka.sh: $libs is neither empty nor a set this script made; remove it or set SDP_KAFKA_LIBS" >&2
    exit 1
  fi
  echo "kafka.sh: fetching Apache Kafka $version jars into $libs" >&2
  tmp=$(mktemp -d "${libs%/}.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$libs")"; mktemp -d "${libs%/}.tmp.XXXXXX"; })
  trap 'rm -rf "$tmp" "$tmp.log"' EXIT
  # Maven's output is noise unless it fails; then it is the diagnosis.
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -f "$tmp.log"
    exit 1
  fi
  rm -f "$tmp.log"
  touch "$tmp/.sdpkit-kafka-$version"
  # Replace the directory in one step, so a run killed half-way leaves
  # either nothing or a complete set.
  rm -rf "$libs"
  mv "$tmp" "$libs"
  trap - EXIT
fi
echo "$libs"
