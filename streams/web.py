"""The worker's web port: /healthz, /readyz and /metrics, and nothing of Faust's own pages
(they would serve table contents, /table/...: registry records, and routing metadata without
authentication)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

# (ready, the /readyz body)
Readiness = Callable[[], tuple[bool, Mapping[str, object]]]


def serve(app: faust.App, readiness: Readiness, registry: CollectorRegistry) -> None:
    """Define our pages on the app and drop Faust's."""

    async def healthz(view: View, request: Request) -> Response:
        return view.json({"status": "alive"})

    async def readyz(view: View, request: Request) -> Response:
        ready, body = readiness()
        return view.json(dict(body), status=200 if ready else 503)

    async def metrics(view: View, request: Request) -> Response:
        return view.bytes(generate_latest(registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(metrics)
    _serve_only_our_pages(app)


def _serve_only_our_pages(app: faust.App) -> None:
    """Drop Faust's built-in pages: with its settings off, it still mounts a status index at "/".
    The blueprint manager has no public remover, so its list is filtered before the server
    starts; our pages are views, not blueprints, and stay."""
    blueprints = app.web.blueprints
    blueprints._enabled = [(prefix, bp) for prefix, bp in blueprints._enabled if not str(bp).startswith("faust.")]
