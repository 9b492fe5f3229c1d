#!/usr/bin/env bash
# Runs Apache Kafka's own perf tools (kafka-producer-perf-test and
# kafka-consumer-perf-test: org.apache.kafka.tools.ProducerPerformance and
# ConsumerPerformance, from the jars of scripts/kafka.sh) against a broker
# and prints their summary as one JSON line in the shape of our queue
# benchmarks:
#
#   bench/kafka-perf.sh produce --bootstrap-server 127.0.0.1:9092 --topic perf \
#       [--num-records 100000] [--record-size 1024] [--acks 1] [-- EXTRA PRODUCER PROPS k=v…]
#   bench/kafka-perf.sh consume --bootstrap-server 127.0.0.1:9092 --topic perf \
#       [--num-records 100000] [--record-size 1024]
#
#   {"tool":"kafka-producer-perf-test","op":"produce","n":100000,"record_size":1024,
#    "msgs_per_s":…,"mb_per_s":…,"p50_us":…,"p99_us":…,"avg_us":…,"max_us":…,"elapsed_s":…}
#   {"tool":"kafka-consumer-perf-test","op":"consume","n":100000,"record_size":1024,
#    "msgs_per_s":…,"mb_per_s":…,"p50_us":null,"p99_us":null,
#    "fetch_msgs_per_s":…,"rebalance_s":…,"elapsed_s":…}
#
# The producer runs unthrottled (--throughput -1), no compression, acks=1
# unless --acks says otherwise (ska-sdp-dataqueues uses aiokafka's default,
# acks=1). Its latencies are per record, send to acknowledgement, which the
# tool prints in whole ms; they are given here in µs. The consumer tool has
# no latencies (null); msgs_per_s is its overall rate, including joining
# the consumer group (rebalance_s), and fetch_msgs_per_s excludes that. The
# consumer reads the topic from the beginning, so produce first. mb_per_s
# counts record values in 10^6 bytes per second (the tools print MiB/s).
# The tools' own output goes to stderr. Start a broker with
# bench/kafka-broker.sh; a topic with bench/kafka-broker.sh topic.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
op=${1:-}
shift || true
bootstrap= topic= n=100000 size=1024 acks=1
extra=()
while [ $# -gt 0 ]; do
  case $1 in
  --bootstrap-server) bootstrap=$2; shift 2 ;;
  --topic) topic=$2; shift 2 ;;
  --num-records) n=$2; shift 2 ;;
  --record-size) size=$2; shift 2 ;;
  --acks) acks=$2; shift 2 ;;
  --) shift; extra=("$@"); break ;;
  *) echo "kafka-perf: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$op" ] || [ -z "$bootstrap" ] || [ -z "$topic" ]; then
  sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
libs=$("$top/scripts/kafka.sh")
java_cmd() {
  java -Xmx1g -Dlog4j2.configurationFile="$top/scripts/kafka/log4j2.xml" -cp "$libs/*" "$@"
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

case $op in
produce)
  java_cmd org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$n" --record-size "$size" --throughput -1 \
    --producer-props bootstrap.servers="$bootstrap" acks="$acks" compression.type=none "${extra[@]}" \
    2>&1 | tee "$out" >&2
  # The summary, unlike the progress lines, has the percentiles:
  # N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max
  # latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.
  line=$(grep ' ms 50th' "$out" | tail -1)
  [ -n "$line" ] || { echo "kafka-perf: no summary line from ProducerPerformance" >&2; exit 1; }
  echo "$line" | awk -v size="$size" -F', ' '
    function num(s) { sub(/^ */, "", s); split(s, w, " "); return w[1] + 0 }
    {
      sent = num($1); rate = num($2); avg = num($3); max = num($4); p50 = num($5); p99 = num($7)
      printf "{\"tool\":\"kafka-producer-perf-test\",\"op\":\"produce\",\"n\":%d,\"record_size\":%d,", sent, size
      printf "\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f,\"p50_us\":%d,\"p99_us\":%d,", rate, rate * size / 1e6, p50 * 1000, p99 * 1000
      printf "\"avg_us\":%d,\"max_us\":%d,\"elapsed_s\":%.3f}\n", avg * 1000, max * 1000, (rate > 0 ? sent / rate : 0)
    }'
  ;;
consume)
  java_cmd org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bootstrap" \
    --topic "$topic" --messages "$n" --timeout 60000 "${extra[@]}" \
    2>&1 | tee "$out" >&2
  # A header line, then one line of values:
  # start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
  # nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  awk -v size="$size" -F', *' '
    /^start.time/ { for (i = 1; i <= NF; i++) col[$i] = i; header = 1; next }
    header && NF >= 10 {
      mib = $col["data.consumed.in.MB"]; nmsg = $col["data.consumed.in.nMsg"]; rate = $col["nMsg.sec"]
      printf "{\"tool\":\"kafka-consumer-perf-test\",\"op\":\"consume\",\"n\":%d,\"record_size\":%d,", nmsg, size
      printf "\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f,\"p50_us\":null,\"p99_us\":null,", rate, $col["MB.sec"] * 1.048576
      printf "\"fetch_msgs_per_s\":%.1f,\"rebalance_s\":%.3f,\"elapsed_s\":%.3f}\n", $col["fetch.nMsg.sec"], $col["rebalance.time.ms"] / 1000, (rate > 0 ? nmsg / rate : 0)
      found = 1; exit
    }
    END { if (!found) { print "kafka-perf: no summary from ConsumerPerformance" > "/dev/stderr"; exit 1 } }
  ' "$out"
  ;;
*)
  echo "kafka-perf: unknown operation $op (produce, consume)" >&2
  exit 2
  ;;
esac
