"""The workbench's Prometheus metrics at GET /metrics (behind sign-in or a Bearer token, like every
route but the sign-in page and /healthz).

Computed from the store at scrape time by a collector on the workbench's own registry: the store is
the truth, several workbench processes may share it, and a restart loses no count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.workbench import case_view, views
from ops.workbench.store import Store

REGISTRY_KEY = web.AppKey("workbench_metrics", CollectorRegistry)


class WorkbenchCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        _, oldest, by_state = self._store.open_summary()
        reviews = GaugeMetricFamily(
            "screener_workbench_open_reviews", "Held payments waiting for a person, by case state", labels=["state"]
        )
        for state in views.OPEN_STATES:
            reviews.add_metric([state.value], by_state.get(state.value, 0))
        yield reviews
        yield GaugeMetricFamily(
            "screener_workbench_oldest_open_review_age_seconds",
            "Seconds since the oldest open case's payment was screened (0 when none is open)",
            value=case_view.age_seconds(oldest, self._clock()) if oldest else 0.0,
        )
        closed = GaugeMetricFamily(
            "screener_workbench_closed_cases", "Held payments decided by people, by outcome", labels=["outcome"]
        )
        by_outcome = self._store.closed_summary()
        for outcome in ("released", "stopped"):
            closed.add_metric([outcome], by_outcome.get(outcome, 0))
        yield closed
        yield CounterMetricFamily(
            "screener_workbench_feed_dead_letters",
            "Records on the decisions or payments topic the feed could not read (kept in the store)",
            value=self._store.dead_letter_count(),
        )
        dispositions = CounterMetricFamily(
            "screener_workbench_dispositions", "Dispositions recorded, by kind and person", labels=["kind", "actor"]
        )
        for (kind, actor), count in sorted(self._store.dispositions_by().items()):
            dispositions.add_metric([kind, actor], count)
        yield dispositions


def add_routes(app: web.Application, store: Store, clock: Callable[[], datetime]) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkbenchCollector(store, clock))
    app[REGISTRY_KEY] = registry
    app.router.add_get("/metrics", handler)


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(request.app[REGISTRY_KEY]), headers={"Content-Type": CONTENT_TYPE_LATEST})
