"""Helpers of the workbench's browser tests: Debian's Chromium (never a downloaded browser), signing
in and out the way a person does, and the workbench's topics read back."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from ops.workbench.demo_stack import chromium_missing, launch_chromium
from schemas.codec import RecordName
from streams.settings import Settings

# A person waits a little; a page that needs more than this is a failure, not a slow machine.
PAGE_TIMEOUT_MS = 20_000


def browser_or_fail(playwright: Playwright) -> Browser:
    """Debian's Chromium, or a failed test saying how to install it: CI installs it
    (ops/bootstrap.sh), so a missing browser is an error, never a skipped test."""
    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    return launch_chromium(playwright)


def sign_in(page: Page, base_url: str, user: str, password: str) -> None:
    """The sign-in form, filled through its labels and sent with its button."""
    page.goto(f"{base_url}/login")
    page.get_by_label("User", exact=False).first.fill(user)
    page.get_by_label("Password", exact=False).first.fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def topic_records(
    settings: Settings, topic: str, name: RecordName, until: int = 1, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Every record of a topic from its beginning, decoded as `name`: read until at least `until`
    have arrived and the topic has been quiet for a moment (so a second copy would be seen too),
    or the time is up."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from streams.serde import Serde

    serde = Serde(settings)
    consumer = Consumer(settings.kafka_config() | {"group.id": "test-browser-read", "enable.auto.commit": False})
    records: list[dict[str, Any]] = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.consume(500, 0.3)
            for msg in batch:
                if msg.error() or msg.value() is None:
                    continue
                records.append(serde.decode(topic, name, msg.value()))
            if batch:
                quiet_since = time.monotonic()
            elif len(records) >= until and time.monotonic() - quiet_since > 2.0:
                break
    finally:
        consumer.close()
    return records
