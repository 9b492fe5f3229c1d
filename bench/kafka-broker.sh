#!/usr/bin/env bash
# Starts and stops a single-node Apache Kafka broker (KRaft, combined broker
# and controller; the release pinned in scripts/kafka/pom.xml) for the queue
# benchmarks, on free loopback ports, with everything in one directory.
#
#   addr=$(bench/kafka-broker.sh start /tmp/kbench)   # prints 127.0.0.1:PORT when ready
#   bench/kafka-broker.sh topic /tmp/kbench NAME [PARTITIONS]   # creates a topic
#   bench/kafka-broker.sh stop /tmp/kbench            # clean shutdown, keeps the directory
#
# The broker runs with the full JIT and a 1 GiB heap (KAFKA_HEAP, e.g.
# KAFKA_HEAP=2g); its output goes to DIR/kafka.log. Needs java and the jars
# of scripts/kafka.sh (fetched on first use). The tests start their brokers
# through internal/testenv instead, with the same settings.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
libs=$("$top/scripts/kafka.sh")
java_cmd() {
  java -Dlog4j2.configurationFile="$top/scripts/kafka/log4j2.xml" -cp "$libs/*" "$@"
}
# ready: the broker answers a metadata request (kcat is quicker to ask
# than a JVM tool).
ready() {
  if command -v kcat >/dev/null 2>&1; then
    timeout 10 kcat -b "$1" -L -m 2 >/dev/null 2>&1
  else
    java_cmd org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$1" >/dev/null 2>&1
  fi
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    echo "kafka-broker: already running in $dir" >&2
    exit 1
  fi
  if [ ! -f "$dir/server.properties" ]; then
    bport=$(free_port)
    cport=$(free_port)
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=10485760
EOF
    java_cmd kafka.tools.StorageTool format --ignore-formatted \
      --cluster-id "$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))')" \
      --config "$dir/server.properties" >&2
  fi
  addr=$(sed -n 's|^advertised.listeners=PLAINTEXT://||p' "$dir/server.properties")
  heap=${KAFKA_HEAP:-1g}
  nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$top/scripts/kafka/log4j2.xml" -cp "$libs/*" \
    kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  for _ in $(seq 1200); do
    if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
      echo "kafka-broker: the broker exited; end of $dir/kafka.log:" >&2
      tail -40 "$dir/kafka.log" >&2
      exit 1
    fi
    if ready "$addr"; then
      echo "$addr"
      exit 0
    fi
    sleep 0.5
  done
  echo "kafka-broker: not ready after 10 minutes; see $dir/kafka.log" >&2
  exit 1
  ;;
topic)
  name=${3:?topic name}
  addr=$(sed -n 's|^advertised.listeners=PLAINTEXT://||p' "$dir/server.properties")
  java_cmd org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --create \
    --topic "$name" --partitions "${4:-1}" --replication-factor 1 >&2
  ;;
stop)
  [ -f "$dir/kafka.pid" ] || exit 0
  pid=$(cat "$dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka-broker: no clean shutdown in 30 s; killing $pid" >&2
      kill -KILL "$pid"
    fi
  fi
  rm -f "$dir/kafka.pid"
  ;;
*)
  echo "kafka-broker: unknown command $cmd (start, topic, stop)" >&2
  exit 2
  ;;
esac
