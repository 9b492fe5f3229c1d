"""katsdptelstate's side of `sdp bench telstate`: the same workloads, the
same keys and the same JSON output, so bench/telstate-vs-python.sh can put
the two side by side.

  python telstate_bench.py --db redis://127.0.0.1:6379/0 --op add --n 10000 --clients 1

Clients are separate processes (one connection each), started together
behind a barrier; latencies are per call, ops_per_s counts calls over the
wall time of the whole run.
"""
import argparse
import json
import math
import multiprocessing as mp
import time

import katsdptelstate

OPS = ["add", "get", "range", "set-indexed", "get-indexed"]


def keys(args, c):
    return "bench_{}_{}".format(args.op, c), "bench_{}_shared".format(args.op)


def open_ts(args):
    # "memory" is katsdptelstate's in-process MemoryBackend (one client).
    return katsdptelstate.TelescopeState() if args.db == "memory" else katsdptelstate.TelescopeState(args.db)


def prepare(args, ts):
    for c in range(args.clients):
        ts.delete(keys(args, c)[0])
    shared = keys(args, 0)[1]
    ts.delete(shared)
    total = 0
    if args.op == "get":
        total = 1000
    elif args.op == "range":
        total = max(10 * args.range_size, 1000)
    if total and args.db == "memory":
        for i in range(total):
            ts.add(shared, float(i), ts=float(i))
    elif total:
        # Pipelined like Go's AddSamples, so set-up time stays short.
        pipe = ts.backend.client.pipeline(transaction=False)
        for i in range(total):
            ts_packed = katsdptelstate.utils.pack_timestamp(float(i))
            pipe.zadd(shared, {ts_packed + katsdptelstate.encode_value(float(i)): 0})
        pipe.execute()
    if args.op == "get-indexed":
        for i in range(1000):
            ts.set_indexed(shared, i, float(i))
    return total


def worker(args, c, total, barrier, results, ts=None):
    if ts is None:
        ts = open_ts(args)
    key, shared = keys(args, c)
    k = args.range_size
    ops = {
        "add": lambda i: ts.add(key, float(i), ts=float(i)),
        "get": lambda i: ts.get(shared),
        "range": lambda i: ts.get_range(shared, st=float((i * 7919) % (total - k + 1)),
                                        et=float((i * 7919) % (total - k + 1) + k)),
        "set-indexed": lambda i: ts.set_indexed(key, i, float(i)),
        "get-indexed": lambda i: ts.get_indexed(shared, i % 1000),
    }
    op = ops[args.op]
    lat = []
    if barrier is not None:
        barrier.wait()
    clock = time.perf_counter
    for i in range(c, args.n, args.clients):
        t0 = clock()
        r = op(i)
        lat.append(clock() - t0)
        if args.op == "range" and len(r) != k:
            raise RuntimeError("range returned {} samples, want {}".format(len(r), k))
    results.put(lat)


def percentile(lat, q):
    i = max(0, min(len(lat) - 1, int(math.ceil(q * len(lat))) - 1))
    return lat[i] * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--op", choices=OPS, default="add")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--range-size", type=int, default=100)
    args = p.parse_args()
    ts = open_ts(args)
    total = prepare(args, ts)
    if args.db == "memory":
        if args.clients != 1:
            raise SystemExit("--db memory runs one client")
        import queue
        results = queue.Queue()
        start = time.perf_counter()
        worker(args, 0, total, None, results, ts)
        elapsed = time.perf_counter() - start
        report(args, sorted(results.get()), elapsed)
        return
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.clients + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(args, c, total, barrier, results))
             for c in range(args.clients)]
    for proc in procs:
        proc.start()
    barrier.wait()
    start = time.perf_counter()
    lat = []
    for _ in procs:
        lat.extend(results.get())
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise SystemExit("a client failed")
    lat.sort()
    report(args, lat, elapsed)


def report(args, lat, elapsed):
    out = {"op": args.op, "n": len(lat), "clients": args.clients,
           "ops_per_s": round(len(lat) / elapsed, 2),
           "p50_us": round(percentile(lat, 0.5), 2), "p99_us": round(percentile(lat, 0.99), 2)}
    if args.op == "range":
        out["range_size"] = args.range_size
    out["elapsed_s"] = round(elapsed, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
