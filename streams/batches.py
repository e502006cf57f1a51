"""One batch of the screen loop: payments screened and notice requests answered, their records
handed to the producer together, and a future that is done once all of them are on the broker
(the loop's BatchScreener). Nothing here decides: the processors call the engine."""

from __future__ import annotations

import asyncio
import time

from rules import Registry
from streams.delivery import Outbox
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.notice_processing import NoticeProcessor
from streams.processing import PaymentProcessor
from streams.records import Source
from streams.stages import Stages, clock
from streams.stores import NoticesSent

log = get_logger("screener.stream")


class Batches:
    """Screens the screen loop's batches."""

    def __init__(
        self,
        payments_topic: str,
        payments: PaymentProcessor,
        notices: NoticeProcessor,
        notices_sent: NoticesSent,
        outbox: Outbox,
        metrics: Metrics,
        stages: Stages,
        registry: Registry,
    ) -> None:
        self.payments_topic = payments_topic
        self.payments = payments
        self.notices = notices
        self.notices_sent = notices_sent
        self.outbox = outbox
        self.metrics = metrics
        self.stages = stages
        self.registry = registry

    def screen_records(self, sources: list[Source]) -> asyncio.Future[None]:
        """Screen a batch of payments and notice requests; return a future done when all its
        records are on the broker. Nothing here awaits: every record produced belongs to it."""
        now = time.time()
        self.metrics.batch_size.observe(len(sources))
        self.outbox.begin_batch(asyncio.get_running_loop())
        try:
            for src in sources:
                if src.topic == self.payments_topic:
                    self._screen_payment(src)
                    self.metrics.e2e.observe(max(0.0, now - src.timestamp))
                else:
                    self._request_notice(src)
        finally:
            # The hand-off to librdkafka (its produce calls) is the "produce" stage.
            t0 = clock()
            delivered = self.outbox.end_batch()
            self.stages.add("produce", clock() - t0)
        return delivered

    def _screen_payment(self, src: Source) -> None:
        started = time.perf_counter()
        outcomes = self.payments.process(src)
        self.metrics.latency.observe(time.perf_counter() - started)
        for outcome in outcomes:
            self.outbox.send_outputs(outcome.outputs)
            if outcome.dead_letter:
                self.metrics.dead_letters.labels(src.topic).inc()
                log.warning("payment dead-lettered", position=src.position)
            else:
                self.metrics.screened.labels(outcome.decision or "unknown").inc()
                if outcome.replayed:
                    self.metrics.replayed.inc()

    def _request_notice(self, src: Source) -> None:
        sent = self.notices_sent.view(src.partition)
        outcome = self.notices.process(src, sent, self.registry.version)
        if outcome.dead_letter:
            self.metrics.dead_letters.labels(src.topic).inc()
        self.outbox.send_outputs(outcome.outputs)
        if outcome.remember is not None:
            # Remembered at once, so this worker never sends it twice; after a restart the notices
            # topic itself says what was sent (streams/stores.py).
            key, notice_id, section = outcome.remember
            sent[key] = notice_id
            self.metrics.notices.labels(section).inc()
            log.info("notice emitted", notice_id=notice_id, section=section)
