"""aiokafka's side of the queue benchmarks (what ska-sdp-dataqueues runs on):
produce or consume raw records against a broker and print one JSON line in
the shape of bench/kafka-perf.sh and `sdp bench queue`.

  python bench/queue_bench_aiokafka.py produce --bootstrap-server 127.0.0.1:9092 --topic perf \\
      [--num-records 100000] [--record-size 1024] [--acks 1] [--linger-ms 0] [--max-batch-size 16384]
  python bench/queue_bench_aiokafka.py consume --bootstrap-server 127.0.0.1:9092 --topic perf \\
      [--num-records 100000] [--record-size 1024]
  python bench/queue_bench_aiokafka.py roundtrip --bootstrap-server 127.0.0.1:9092 --topic rt \\
      [--num-records 1000] [--record-size 1024] [--acks 1]

  {"tool":"aiokafka","op":"produce","n":…,"record_size":…,"msgs_per_s":…,"mb_per_s":…,
   "p50_us":…,"p99_us":…,"elapsed_s":…}

produce sends n records of random bytes (no key, no compression) without
waiting for each one, like kafka-producer-perf-test: aiokafka batches them
and blocks when its buffer is full. Latency is per record, from the send()
call to the broker's acknowledgement. The defaults are aiokafka's (acks=1,
linger_ms=0), which ska-sdp-dataqueues keeps.

consume reads n records from the beginning of the topic without a consumer
group (as ska-sdp-dataqueues does); the clock starts once the consumer has
started, and there are no latencies (null). mb_per_s counts record values
in 10^6 bytes per second.

roundtrip sends one record at a time (send_and_wait) and waits until a
consumer assigned partition 0 receives it; latency is from the send to the
receipt, after one record off the clock. Run it with the peers' venv
(scripts/peers.sh).
"""
import argparse
import asyncio
import json
import math
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def result(args, n, elapsed, latencies_us):
    lat = sorted(latencies_us) if latencies_us is not None else []
    rate = n / elapsed if elapsed > 0 else 0.0
    return {
        "tool": "aiokafka",
        "op": args.op,
        "n": n,
        "record_size": args.record_size,
        "msgs_per_s": round(rate, 1),
        "mb_per_s": round(rate * args.record_size / 1e6, 2),
        "p50_us": None if latencies_us is None else round(percentile(lat, 0.50), 1),
        "p99_us": None if latencies_us is None else round(percentile(lat, 0.99), 1),
        "elapsed_s": round(elapsed, 3),
    }


async def produce(args):
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap_server,
        acks=int(args.acks) if args.acks != "all" else "all",
        linger_ms=args.linger_ms,
        max_batch_size=args.max_batch_size,
        max_request_size=max(1048576, args.record_size + 1024),
    )
    await producer.start()
    # A few distinct random payloads: no two neighbours alike, nothing a
    # compressor could exploit if one were switched on.
    payloads = [os.urandom(args.record_size) for _ in range(64)]
    latencies = []
    try:
        start = time.perf_counter()
        futures = []
        for i in range(args.num_records):
            t0 = time.perf_counter()
            fut = await producer.send(args.topic, payloads[i % len(payloads)])
            fut.add_done_callback(lambda f, t0=t0: latencies.append((time.perf_counter() - t0) * 1e6))
            futures.append(fut)
        await producer.flush()
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - start
    finally:
        await producer.stop()
    return result(args, args.num_records, elapsed, latencies)


async def consume(args):
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap_server,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=max(1048576, args.record_size + 1024),
    )
    await consumer.start()
    got = 0
    try:
        start = time.perf_counter()
        deadline = start + args.timeout
        while got < args.num_records:
            if time.perf_counter() > deadline:
                raise SystemExit("queue_bench_aiokafka: consumed {} of {} records in {} s".format(
                    got, args.num_records, args.timeout))
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                got += len(records)
        elapsed = time.perf_counter() - start
    finally:
        await consumer.stop()
    return result(args, got, elapsed, None)


async def roundtrip(args):
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap_server,
        acks=int(args.acks) if args.acks != "all" else "all",
        max_request_size=max(1048576, args.record_size + 1024),
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=args.bootstrap_server,
        enable_auto_commit=False,
        max_partition_fetch_bytes=max(1048576, args.record_size + 1024),
    )
    await producer.start()
    await consumer.start()
    tp = TopicPartition(args.topic, 0)
    consumer.assign([tp])
    await consumer.seek_to_end(tp)
    payload = os.urandom(args.record_size)
    latencies = []
    try:
        start = None
        for i in range(args.num_records + 1):  # record 0 warms up, off the clock
            if i == 1:
                start = time.perf_counter()
            key = str(i).encode()
            t0 = time.perf_counter()
            await producer.send_and_wait(args.topic, payload, key=key)
            while True:
                msg = await asyncio.wait_for(consumer.getone(), args.timeout)
                if msg.key == key:
                    break
            if i > 0:
                latencies.append((time.perf_counter() - t0) * 1e6)
        elapsed = time.perf_counter() - start
    finally:
        await consumer.stop()
        await producer.stop()
    return result(args, args.num_records, elapsed, latencies)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("op", choices=["produce", "consume", "roundtrip"])
    p.add_argument("--bootstrap-server", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--num-records", type=int, default=100000)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--acks", default="1", choices=["0", "1", "all"])
    p.add_argument("--linger-ms", type=int, default=0)
    p.add_argument("--max-batch-size", type=int, default=16384)
    p.add_argument("--timeout", type=float, default=120.0, help="consume: give up after this many seconds")
    args = p.parse_args()
    run = {"produce": produce, "consume": consume, "roundtrip": roundtrip}[args.op]
    print(json.dumps(asyncio.run(run(args)), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
