"""The benchmark's naive Faust agent runs beside anything holding Faust's default web port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ops.bench.kafka_bench import faust_naive
from streams.kafka_io import Sender
from streams.settings import Settings
from streams.topics import ensure_topics

FAUST_DEFAULT_WEB_PORT = 6066


def test_the_naive_agent_binds_no_fixed_port(settings: Settings, tmp_path: Path) -> None:
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", FAUST_DEFAULT_WEB_PORT))
    except OSError:
        pytest.skip("port 6066 is taken by another process on this machine")
    holder.listen()
    try:
        ensure_topics(settings)
        source, target = "bench-naive-in", "bench-naive-out"
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.cimpl import NewTopic

        admin = AdminClient(settings.kafka_config())
        for future in admin.create_topics([NewTopic(t, 1, 1) for t in (source, target)]).values():
            future.result(30)
        sender = Sender(settings)
        for i in range(200):
            sender.send(source, f"k{i}".encode(), b"x" * 100)
        sender.flush()
        rate, _ = faust_naive(settings, source, target, 200, tmp_path, 120.0, None)
        assert rate.counted > 0
    finally:
        holder.close()
