"""Bounded, group-less reads of Kafka partitions for `screener replay` (ops/replay/kafka_sources.py).

Every read here assigns partitions itself (no group join, nothing committed) and stops at the end
each partition had when the read was planned, so a replay reads the same records however long it
runs and whatever is produced meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, Message, TopicPartition

from streams.settings import Settings

# Seconds to wait for metadata, watermarks, or the next record of a partition not yet at its end.
TIMEOUT_S = 10.0
# Bounds of what a source reports about records it could not use.
MAX_ERRORS = 20
MAX_ERROR_CHARS = 300

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReplaySourceError(Exception):
    """A replay source that cannot be read: broker unreachable, topic missing, inconsistent arguments."""


def aware(instant: datetime) -> datetime:
    """A naive datetime is taken as UTC: every instant the screener records is UTC."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def epoch_ms(instant: datetime, *, up: bool = False) -> int:
    """Milliseconds since the epoch, rounded down, or up: record timestamps are whole milliseconds,
    so `ts >= since` is `ts >= epoch_ms(since, up=True)` and `ts <= instant` is `ts <= epoch_ms(instant)`."""
    micros = (aware(instant) - _EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000) if up else micros // 1000


def parse_instant(text: object) -> datetime | None:
    """An RFC 3339 instant as the screener writes it (isoformat), or None."""
    try:
        return aware(datetime.fromisoformat(text)) if isinstance(text, str) else None
    except ValueError:
        return None


def where(msg: Message) -> str:
    return f"{msg.topic()}/{msg.partition()}@{msg.offset()}"


def note(errors: list[str], text: str) -> None:
    """Add one bounded error line; past MAX_ERRORS only the last line counts the rest."""
    if len(errors) < MAX_ERRORS:
        errors.append(text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "...")
        return
    extra = 1
    if len(errors) > MAX_ERRORS:
        extra += int(errors.pop().split()[1])
    errors.append(f"and {extra} more")


def open_consumer(settings: Settings, purpose: str) -> Consumer:
    # A group id is required by librdkafka even for assign(); it is never joined or committed to.
    conf = settings.kafka_config() | {
        "group.id": f"{settings.app_id}-replay-{purpose}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
    }
    try:
        return Consumer(conf)
    except KafkaException as exc:
        raise ReplaySourceError(f"cannot create a Kafka client for {settings.bootstrap_servers}: {exc}") from None


def partitions_of(consumer: Consumer, settings: Settings, topic: str) -> list[int]:
    """The topic's partitions; ReplaySourceError when the broker does not answer or lacks the topic."""
    try:
        # All topics, not just this one: asking for one topic by name may create it on some brokers.
        topics = consumer.list_topics(timeout=TIMEOUT_S).topics
    except KafkaException as exc:
        raise ReplaySourceError(f"broker {settings.bootstrap_servers} unreachable: {exc.args[0]}") from None
    meta = topics.get(topic)
    if meta is None or meta.error is not None or not meta.partitions:
        raise ReplaySourceError(f"topic {topic} not found on {settings.bootstrap_servers}")
    return sorted(meta.partitions)


def extents(consumer: Consumer, topic: str, partitions: list[int]) -> dict[int, tuple[int, int]]:
    """(first offset, end offset) of each partition now, the end read forward to end-of-partition.

    The high watermark is only a hint: the embedded broker (Tansu) can answer ListOffsets per
    record batch, below the true end (streams/kafka_io.read_to_end), so the last records are read.
    """
    marks: dict[int, tuple[int, int]] = {}
    try:
        for p in partitions:
            marks[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S, cached=False)
    except KafkaException as exc:
        raise ReplaySourceError(f"{topic}: no watermarks: {exc.args[0]}") from None
    ends = {p: high for p, (_, high) in marks.items()}
    starts = {p: max(low, high - 1) for p, (low, high) in marks.items()}
    consumer.assign([TopicPartition(topic, p, start) for p, start in starts.items()])
    try:
        open_ = set(partitions)
        deadline = time.monotonic() + TIMEOUT_S
        while open_:
            msg = consumer.poll(0.1)
            if msg is None:
                if time.monotonic() > deadline:
                    raise ReplaySourceError(f"{topic}: no end of partition within {TIMEOUT_S} s for {sorted(open_)}")
                continue
            eof, at, offset = _is_eof(msg), msg.partition(), msg.offset()
            if not eof:
                _raise_on_error(msg, topic)
            if msg.topic() != topic or at is None or at not in open_ or offset is None or offset < starts[at]:
                continue  # left behind by an earlier assignment
            if eof:
                open_.discard(at)
            else:
                ends[at] = max(ends[at], offset + 1)
                deadline = time.monotonic() + TIMEOUT_S
    finally:
        consumer.unassign()
    return {p: (marks[p][0], ends[p]) for p in partitions}


def time_starts(
    consumer: Consumer, topic: str, spans: dict[int, tuple[int, int]], since_ms: int | None
) -> dict[int, int]:
    """Where each partition's first record at or after `since` is, to skip what comes before.

    Only a starting point: records are still filtered by timestamp, since timestamps need not grow
    with offsets and the embedded broker answers 0 for any time."""
    if since_ms is None:
        return {}
    try:
        found = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in spans], timeout=TIMEOUT_S)
    except KafkaException:
        return {}  # the filter alone is exact, only slower
    starts: dict[int, int] = {}
    for tp in found:
        if tp.error is None and tp.offset >= 0:
            starts[tp.partition] = tp.offset
        elif tp.error is None and tp.offset == OFFSET_END:  # no record at or after `since`
            starts[tp.partition] = spans[tp.partition][1]
    return starts


def read_range(consumer: Consumer, topic: str, partition: int, start: int, stop: int) -> Iterator[Message]:
    """The records of one partition from offset `start` to before `stop`, in offset order."""
    if start >= stop:
        return
    consumer.assign([TopicPartition(topic, partition, start)])
    try:
        deadline, next_offset = time.monotonic() + TIMEOUT_S, start
        while True:
            batch = consumer.consume(500, 0.5)
            if not batch and time.monotonic() > deadline:
                raise ReplaySourceError(f"{topic}/{partition}: no record within {TIMEOUT_S} s before offset {stop}")
            for msg in batch:
                eof, offset = _is_eof(msg), msg.offset()
                if not eof:
                    _raise_on_error(msg, topic)
                # Whatever an earlier assignment left behind (another topic or partition, an older
                # end-of-partition, a record already read) is not part of this range.
                if msg.topic() != topic or msg.partition() != partition or offset is None or offset < next_offset:
                    continue
                if eof:
                    return  # offsets can end early: compacted records, transaction markers
                if offset >= stop:
                    return
                next_offset, deadline = offset + 1, time.monotonic() + TIMEOUT_S
                yield msg
    finally:
        consumer.unassign()


def read_all(consumer: Consumer, settings: Settings, topic: str) -> Iterator[Message]:
    """Every record of a topic up to its end now, partition by partition in offset order."""
    spans = extents(consumer, topic, partitions_of(consumer, settings, topic))
    for partition, (first, end) in sorted(spans.items()):
        yield from read_range(consumer, topic, partition, first, end)


def _is_eof(msg: Message) -> bool:
    err = msg.error()
    return err is not None and err.code() == KafkaError._PARTITION_EOF


def _raise_on_error(msg: Message, topic: str) -> None:
    err = msg.error()
    if err is not None:
        raise ReplaySourceError(f"{topic}/{msg.partition()}: {err.str()}")
