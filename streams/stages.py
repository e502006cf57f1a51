"""Where a worker's time per payment goes: decode, screen, encode, audit, produce.

Each stage adds the CPU time the screen loop's thread spent in it (CLOCK_THREAD_CPUTIME_ID): not
wall time, which would also count the waits for the GIL while librdkafka's callbacks and the
delivery-report thread hold it. Reading that clock costs about 0.5 us, so about 3 us of each
payment's figures are the clock itself. Plain float sums, not a Prometheus counter per call: a
counter takes a lock, and five of them per payment would cost more than the encoding they measure. The
sums are read at scrape time (`StageCollector`) as `screener_stage_seconds_total{stage=...}`,
beside `screener_stage_payments_total`; `screener bench` divides the two over its saturation run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Final, Literal

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

Stage = Literal["decode", "screen", "encode", "audit", "produce"]
STAGES: Final[tuple[Stage, ...]] = ("decode", "screen", "encode", "audit", "produce")

clock = time.thread_time


class Stages:
    """Seconds spent per stage, and the payments they were spent on."""

    __slots__ = ("payments", "seconds")

    def __init__(self) -> None:
        self.seconds: dict[Stage, float] = dict.fromkeys(STAGES, 0.0)
        self.payments = 0

    def add(self, stage: Stage, seconds: float) -> None:
        self.seconds[stage] += seconds

    def per_payment_us(self) -> dict[Stage, float]:
        """Microseconds per payment by stage, since start."""
        n = max(self.payments, 1)
        return {stage: s * 1e6 / n for stage, s in self.seconds.items()}


class StageCollector(Collector):
    """Exposes a Stages object's sums to a Prometheus registry."""

    def __init__(self, stages: Stages) -> None:
        self._stages = stages

    def collect(self) -> Iterator[CounterMetricFamily]:
        seconds = CounterMetricFamily(
            "screener_stage_seconds", "Screen-loop thread time by stage of the payment path", labels=["stage"]
        )
        for stage, value in self._stages.seconds.items():
            seconds.add_metric([stage], value)
        yield seconds
        yield CounterMetricFamily(
            "screener_stage_payments",
            "Payments (decisions and dead-letters) the stage times cover",
            value=self._stages.payments,
        )
