#!/usr/bin/env bash
# Data-queue throughput and latency of sdpkit against its peers, on one
# real Kafka broker in one run:
#
#   Kafka's own tools   kafka-producer-perf-test / kafka-consumer-perf-test
#                       (bench/kafka-perf.sh) and kafka-e2e-latency
#                       (org.apache.kafka.tools.EndToEndLatency), same jars
#   aiokafka            bench/queue_bench_aiokafka.py (what ska-sdp-dataqueues
#                       runs on), with the peers' venv
#   sdpkit              `sdp bench queue`, built once
#
# and then the encoding benchmarks of dataqueue/encoding (msgpack_numpy and
# npy of a 1 MiB float64 array). Prints the JSON lines of every run, then a
# table with ratios (ours/java, ours/aiokafka: above 1 means sdpkit is
# faster, for latencies too, where the ratio is theirs/ours).
#
#   bench/queue-vs-peers.sh            # N=200000 SIZE=1024 ACKS=1 RT_N=2000
#   N=500000 SIZE=100 ACKS=all bench/queue-vs-peers.sh
#
# Every tool produces N raw records of SIZE random bytes (no key, no
# compression) with the same acks, each with its client's defaults
# otherwise (linger: 5 ms Java, 0 aiokafka and sdpkit); consumers read N
# records from the beginning of a topic (Java's tool in a consumer group, so
# its fetch-only rate is the one compared; aiokafka and sdpkit without a
# group). Roundtrip sends RT_N records one at a time and waits for each to
# be consumed. The broker runs with the full JIT (bench/kafka-broker.sh).
# Python: $SDP_PYTHON, else .venv/bin/python. The machine's load is printed
# before and after: re-run when it is high.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200000}
SIZE=${SIZE:-1024}
ACKS=${ACKS:-1}
RT_N=${RT_N:-2000}
py=${SDP_PYTHON:-$top/.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/queue-vs-peers.XXXXXX")
results=$work/results.jsonl
cleanup() {
  "$top/bench/kafka-broker.sh" stop "$work/broker" || true
  rm -rf "$work"
}
trap cleanup EXIT

log() { echo "queue-vs-peers: $*" >&2; }
log "load before: $(uptime)"
log "building sdp"
(cd "$top" && go build -o "$work/sdp" ./cmd/sdp)
log "starting the broker"
addr=$("$top/bench/kafka-broker.sh" start "$work/broker")
libs=$("$top/scripts/kafka.sh")
topic() { "$top/bench/kafka-broker.sh" topic "$work/broker" "$1" 1; }
# tag OP JSON [TOOL]: one result line with the op named the same way by
# every tool (and the tool renamed, for a second run of one tool).
tag() {
  python3 -c 'import json,sys; r=json.loads(sys.argv[2]); r["op"]=sys.argv[1]; r.setdefault("tool","?")
if len(sys.argv) > 3: r["tool"]=sys.argv[3]
print(json.dumps(r))' "$@" >>"$results"
}

# Produce.
topic jprod
log "java produce"
tag produce "$("$top/bench/kafka-perf.sh" produce --bootstrap-server "$addr" --topic jprod \
  --num-records "$N" --record-size "$SIZE" --acks "$ACKS" 2>/dev/null)"
# Java's producer once more with batches as big as franz-go's (1 MiB):
# its 16 KiB default batch.size is what limits it above.
topic jprod2
log "java produce, batch.size=1MiB"
tag produce "$("$top/bench/kafka-perf.sh" produce --bootstrap-server "$addr" --topic jprod2 \
  --num-records "$N" --record-size "$SIZE" --acks "$ACKS" -- batch.size=1048576 2>/dev/null)" kafka-producer-perf-test-1MiB
topic aprod
log "aiokafka produce"
tag produce "$("$py" "$top/bench/queue_bench_aiokafka.py" produce --bootstrap-server "$addr" --topic aprod \
  --num-records "$N" --record-size "$SIZE" --acks "$ACKS")"
log "sdpkit produce"
tag produce "$("$work/sdp" bench queue --brokers "$addr" --mode produce --n "$N" --size "$SIZE" --acks "$ACKS")"

# Consume: Java and aiokafka read what Java's producer wrote; sdpkit
# writes its own N records first (not timed).
log "java consume"
tag consume "$("$top/bench/kafka-perf.sh" consume --bootstrap-server "$addr" --topic jprod \
  --num-records "$N" --record-size "$SIZE" 2>/dev/null)"
log "aiokafka consume"
tag consume "$("$py" "$top/bench/queue_bench_aiokafka.py" consume --bootstrap-server "$addr" --topic jprod \
  --num-records "$N" --record-size "$SIZE")"
log "sdpkit consume"
tag consume "$("$work/sdp" bench queue --brokers "$addr" --mode consume --n "$N" --size "$SIZE" --acks "$ACKS")"

# Roundtrip: one record at a time, send to receipt.
topic jrt
log "java roundtrip"
e2e=$(java -Xmx512m -Dlog4j2.configurationFile="$top/scripts/kafka/log4j2.xml" -cp "$libs/*" \
  org.apache.kafka.tools.EndToEndLatency "$addr" jrt "$RT_N" "$ACKS" "$SIZE" 2>&1)
echo "$e2e" >&2
# "Avg latency: 1.2345 ms" and "Percentiles: 50th = 1, 99th = 2, 99.9th = 3" (whole ms).
tag roundtrip "$(echo "$e2e" | python3 -c '
import json, re, sys
t = sys.stdin.read()
avg = float(re.search(r"Avg latency: ([0-9.]+) ms", t).group(1))
p = dict(re.findall(r"([0-9.]+)th = ([0-9.]+)", t))
print(json.dumps({"tool": "kafka-e2e-latency", "n": int(sys.argv[1]), "record_size": int(sys.argv[2]),
                  "msgs_per_s": round(1e3 / avg, 1) if avg else None, "avg_us": avg * 1e3,
                  "p50_us": float(p["50"]) * 1e3, "p99_us": float(p["99"]) * 1e3,
                  "note": "percentiles in whole ms"}))' "$RT_N" "$SIZE")"
topic art
log "aiokafka roundtrip"
tag roundtrip "$("$py" "$top/bench/queue_bench_aiokafka.py" roundtrip --bootstrap-server "$addr" --topic art \
  --num-records "$RT_N" --record-size "$SIZE" --acks "$ACKS")"
log "sdpkit roundtrip"
tag roundtrip "$("$work/sdp" bench queue --brokers "$addr" --mode roundtrip --n "$RT_N" --size "$SIZE" --acks "$ACKS")"

"$top/bench/kafka-broker.sh" stop "$work/broker"

# Encodings of a 1 MiB float64 array.
log "encoding benchmarks"
(cd "$top" && go test -run '^$' -bench 'BenchmarkMsgpackNumpy/(Encode|Decode)/1MiB|BenchmarkNPY/(Encode|Decode)/1MiB' \
  -benchtime 2s ./dataqueue/encoding) | tee "$work/enc.txt" >&2
log "load after: $(uptime)"

cat "$results"
python3 - "$results" "$work/enc.txt" "$N" "$SIZE" "$ACKS" "$RT_N" <<'EOF'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n, size, acks, rt_n = sys.argv[3:7]
def get(op, tool):
    for r in rows:
        if r["op"] == op and r["tool"] == tool:
            return r
    return {}
java = {"produce": "kafka-producer-perf-test", "consume": "kafka-consumer-perf-test", "roundtrip": "kafka-e2e-latency"}
def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"
print()
print("data queues: N=%s records of %s bytes, acks=%s; roundtrip %s records" % (n, size, acks, rt_n))
print()
print("| op | Kafka Java tools | aiokafka | sdpkit | ours/java | ours/aiokafka |")
print("|---|---|---|---|---|---|")
for op, jtool in (("produce", java["produce"]), ("produce", java["produce"] + "-1MiB"), ("consume", java["consume"])):
    j, a, s = get(op, jtool), get(op, "aiokafka"), get(op, "sdpkit")
    jr = j.get("fetch_msgs_per_s") or j.get("msgs_per_s")
    label = op + (" (Java batch.size=1MiB)" if jtool.endswith("1MiB") else "")
    print("| %s msgs/s | %.0f%s | %.0f | %.0f | %s | %s |" % (
        label, jr or 0, " (fetch only; %.0f overall)" % j["msgs_per_s"] if j.get("fetch_msgs_per_s") else "",
        a.get("msgs_per_s") or 0, s.get("msgs_per_s") or 0,
        ratio(s.get("msgs_per_s"), jr), ratio(s.get("msgs_per_s"), a.get("msgs_per_s"))))
    if jtool == java["produce"]:
        print("| produce p50/p99 µs (send to ack) | %s / %s | %s / %s | %s / %s | | |" % (
            j.get("p50_us"), j.get("p99_us"), a.get("p50_us"), a.get("p99_us"), s.get("p50_us"), s.get("p99_us")))
j, a, s = get("roundtrip", java["roundtrip"]), get("roundtrip", "aiokafka"), get("roundtrip", "sdpkit")
print("| roundtrip records/s (1 / mean latency) | %.0f | %.0f | %.0f | %s | %s |" % (
    j.get("msgs_per_s") or 0, a.get("msgs_per_s") or 0, s.get("msgs_per_s") or 0,
    ratio(s.get("msgs_per_s"), j.get("msgs_per_s")), ratio(s.get("msgs_per_s"), a.get("msgs_per_s"))))
print("| roundtrip p50 µs | %s | %s | %s | %s | %s |" % (
    j.get("p50_us"), a.get("p50_us"), s.get("p50_us"), ratio(j.get("p50_us"), s.get("p50_us")), ratio(a.get("p50_us"), s.get("p50_us"))))
print("| roundtrip p99 µs | %s | %s | %s | %s | %s |" % (
    j.get("p99_us"), a.get("p99_us"), s.get("p99_us"), ratio(j.get("p99_us"), s.get("p99_us")), ratio(a.get("p99_us"), s.get("p99_us"))))
print()
print("| encoding (1 MiB float64 array) | MB/s |")
print("|---|---|")
for line in open(sys.argv[2]):
    m = re.match(r"Benchmark(\S+?)(-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) MB/s", line)
    if m:
        print("| %s | %s |" % (m.group(1), m.group(3)))
EOF
