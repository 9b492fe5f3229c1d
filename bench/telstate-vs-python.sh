#!/usr/bin/env bash
# Side-by-side benchmark of sdpkit's telstate and Python's katsdptelstate
# against one redis-server, in one run. Prints each side's JSON and a
# Markdown table of ratios (Go / Python; for add-batch, Go / redis-benchmark's
# pipelined ZADD rate on the same server).
#
#   bench/telstate-vs-python.sh            # defaults: N=20000, CLIENTS=1
#   N=50000 CLIENTS=4 bench/telstate-vs-python.sh
#
# Needs redis-server and redis-benchmark (scripts/deps.sh) and the Python
# peers (scripts/peers.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${N:-20000}
CLIENTS=${CLIENTS:-1}
py=${SDP_PYTHON:-$top/.venv/bin/python}
[ -x "$py" ] || ./scripts/peers.sh >&2

work=$(mktemp -d)
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log"
trap 'kill "$(cat "$work/redis.pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
url="redis://127.0.0.1:$port/0"

go build -o "$work/sdp" ./cmd/sdp
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs, $(redis-server --version | cut -d' ' -f3), N=$N CLIENTS=$CLIENTS" >&2

rows=()
field() { "$py" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
compare() { # name, go args..., then -- python args... (DB: the database)
  local name=$1; shift
  local goargs=() pyargs=()
  while [ "$1" != "--" ]; do goargs+=("$1"); shift; done; shift
  pyargs=("$@")
  local g p
  if [ "$DB" = memory ]; then
    g=$("$work/sdp" bench telstate "${goargs[@]}")
  else
    g=$("$work/sdp" bench telstate --db "$DB" "${goargs[@]}")
  fi
  p=$("$py" bench/telstate_bench.py --db "$DB" "${pyargs[@]}")
  echo "go     $g"
  echo "python $p"
  local ratio
  ratio=$("$py" -c "import json,sys; g,p=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print('%.1f' % (g['ops_per_s']/p['ops_per_s']))" "$g" "$p")
  rows+=("| $name | $(field "$g" ops_per_s) | $(field "$g" p50_us) | $(field "$g" p99_us) | $(field "$p" ops_per_s) | $(field "$p" p50_us) | $(field "$p" p99_us) | ${ratio}× |")
}

DB=$url
for op in add get set-indexed get-indexed; do
  compare "$op" --op "$op" --n "$N" --clients "$CLIENTS" -- --op "$op" --n "$N" --clients "$CLIENTS"
done
compare "range (100 samples)" --op range --range-size 100 --n "$N" --clients "$CLIENTS" -- --op range --range-size 100 --n "$N" --clients "$CLIENTS"
rn=$(( N / 50 > 100 ? N / 50 : 100 ))
compare "range (10k samples)" --op range --range-size 10000 --n "$rn" --clients "$CLIENTS" -- --op range --range-size 10000 --n "$rn" --clients "$CLIENTS"
# The server's own ceiling for replies of 10k members (the key the Python
# run left: 100k samples).
zr=$(redis-benchmark -p "$port" -n "$rn" -c "$CLIENTS" --csv ZRANGE bench_range_shared 0 9999 | tail -n 1 | cut -d, -f2 | tr -d '"')
rows+=("| (redis-benchmark ZRANGE of 10k members, the server's ceiling) | $zr | | | | | | |")

# Batched sensor adds against the server's own pipelined ZADD rate.
bn=$(( N * 20 ))
g=$("$work/sdp" bench telstate --db "$url" --op add-batch --batch 1000 --n "$bn" --clients "$CLIENTS")
echo "go     $g"
rb=$(redis-benchmark -p "$port" -n "$bn" -P 100 -c "$CLIENTS" -r 100000000 --csv ZADD bench_zadd 0 __rand_int__ | tail -n 1)
echo "redis-benchmark $rb"
zadd=$(echo "$rb" | cut -d, -f2 | tr -d '"')
ratio=$("$py" -c "import sys; print('%.2f' % (float(sys.argv[1])/float(sys.argv[2])))" "$(field "$g" ops_per_s)" "$zadd")
rows+=("| add-batch (1000/call) vs redis-benchmark ZADD -P 100 | $(field "$g" ops_per_s) | $(field "$g" p50_us) | $(field "$g" p99_us) | $zadd (ZADD) | | | ${ratio}× |")

# The round-trip floor: what the server answers to one client doing nothing.
ping=$(redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -t ping_mbulk --csv | tail -n 1 | cut -d, -f2 | tr -d '"')
rows+=("| (redis-benchmark PING, the round-trip floor) | $ping | | | | | | |")

redis_rows=("${rows[@]}")

# The same workloads on the in-process backends (one client).
rows=()
DB=memory
for op in add get set-indexed get-indexed; do
  compare "$op" --op "$op" --n "$((N * 10))" -- --op "$op" --n "$((N * 10))"
done
compare "range (100 samples)" --op range --range-size 100 --n "$N" -- --op range --range-size 100 --n "$N"

header() {
  echo
  echo "$1"
  echo
  echo "| op | Go ops/s | Go p50 µs | Go p99 µs | Python ops/s | Python p50 µs | Python p99 µs | Go/Python |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
}
header "Redis backend, $CLIENTS client(s):"
printf '%s\n' "${redis_rows[@]}"
header "Memory backend, 1 client:"
printf '%s\n' "${rows[@]}"
