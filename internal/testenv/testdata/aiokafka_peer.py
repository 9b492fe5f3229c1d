"""aiokafka's side of internal/testenv's Kafka interop test.

  python aiokafka_peer.py produce BOOTSTRAP TOPIC   < values, one hex string a line
  python aiokafka_peer.py consume BOOTSTRAP TOPIC N > values, one hex string a line

produce sends each value (no key) and waits for the broker's acknowledgement;
consume reads the topic from the beginning without a consumer group until it
has N records, and fails after 60 s. Values travel as hex so that any bytes
survive the pipe.
"""
import asyncio
import binascii
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def produce(bootstrap, topic):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for line in sys.stdin:
            await producer.send_and_wait(topic, binascii.unhexlify(line.strip()))
    finally:
        await producer.stop()


async def consume(bootstrap, topic, n):
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        got = 0
        while got < n:
            msg = await asyncio.wait_for(consumer.getone(), 60)
            print(binascii.hexlify(msg.value).decode(), flush=True)
            got += 1
    finally:
        await consumer.stop()


def main():
    cmd, bootstrap, topic = sys.argv[1:4]
    if cmd == "produce":
        asyncio.run(produce(bootstrap, topic))
    elif cmd == "consume":
        asyncio.run(consume(bootstrap, topic, int(sys.argv[4])))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
