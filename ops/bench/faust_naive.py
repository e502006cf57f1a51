"""The baseline Faust agent: forwards each record's raw bytes, one event at a time.

Run by `screener bench` as `python -m ops.bench.faust_naive` with BENCH_BROKER, BENCH_SOURCE,
BENCH_TARGET and BENCH_DATADIR set. It does nothing a screener does: no decoding, no decision,
no audit; it measures what Faust itself costs per event on this broker.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import faust


def main() -> None:
    app = faust.App(
        "bench-faust-naive",
        broker=f"kafka://{os.environ['BENCH_BROKER']}",
        datadir=os.environ["BENCH_DATADIR"],
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        web_bind="127.0.0.1",
        topic_disable_leader=True,
    )
    source = app.topic(
        os.environ["BENCH_SOURCE"], key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    target = app.topic(
        os.environ["BENCH_TARGET"], key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await target.send(key=event.key, value=event.value)

    # The worker command's --with-web defaults to true and overrides web_enabled=False: without
    # --without-web it binds Faust's fixed port 6066, and fails beside a worker that holds it.
    sys.argv = [sys.argv[0], "worker", "--without-web", "--web-bind", "127.0.0.1", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()
