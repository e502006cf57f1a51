"""The pure parts of the replay's Kafka sources (ops/replay/kafka_read.py, kafka_sources.py): instants,
bounded error lists, argument checks made before any broker is asked, and the rebuilding of the
registry from the changes the audit trail records. The reads themselves are in
tests/integration/test_replay_sources.py."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ops.replay import kafka_sources
from ops.replay.kafka_read import MAX_ERROR_CHARS, MAX_ERRORS, epoch_ms, note, parse_instant
from ops.replay.kafka_sources import ReplaySourceError, TopicRecord, payment_records, registry_at
from rules import Registry, RegistryError
from streams.registry_processing import apply_registry_change
from streams.serde import Serde
from streams.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"
# Nothing listens here: a check that needed the broker would fail with "unreachable" instead.
NOWHERE = Settings(bootstrap_servers="127.0.0.1:9", partitions=4)


def test_instants_to_record_timestamps():
    instant = datetime(2025, 6, 15, 15, 6, 40, 250_500, tzinfo=UTC)
    assert epoch_ms(instant) == 1_750_000_000_250
    assert epoch_ms(instant, up=True) == 1_750_000_000_251
    assert epoch_ms(instant.replace(microsecond=250_000), up=True) == 1_750_000_000_250
    assert epoch_ms(instant.replace(tzinfo=None)) == epoch_ms(instant)  # naive is UTC
    assert epoch_ms(instant.astimezone(timezone(timedelta(hours=2)))) == epoch_ms(instant)
    assert epoch_ms(datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)) == -1


def test_parse_instant():
    assert parse_instant("2025-06-15T15:06:40.250000+00:00") == datetime(2025, 6, 15, 15, 6, 40, 250_000, tzinfo=UTC)
    assert parse_instant("2025-06-15T15:06:40") == datetime(2025, 6, 15, 15, 6, 40, tzinfo=UTC)
    assert parse_instant("yesterday") is None
    assert parse_instant(None) is None


def test_error_lists_stay_bounded():
    errors: list[str] = []
    note(errors, "x" * 1000)
    assert len(errors[0]) == MAX_ERROR_CHARS and errors[0].endswith("...")
    for i in range(MAX_ERRORS + 4):
        note(errors, f"error {i}")
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1] == "and 5 more"


def test_topic_record_position():
    record = TopicRecord("payments", 2, 17, None, b"{}", 0.0)
    assert record.position == "payments/2/17"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": datetime(2025, 1, 2, tzinfo=UTC), "until": datetime(2025, 1, 1, tzinfo=UTC)}, "must be before"),
        ({"since": datetime(2025, 1, 1, tzinfo=UTC), "until": datetime(2025, 1, 1)}, "must be before"),
        ({"from_offset": 10, "to_offset": 3}, "must be below"),
        ({"from_offset": -1}, "0 or more"),
        ({"to_offset": -5}, "0 or more"),
    ],
)
def test_inconsistent_arguments_are_refused_before_the_broker_is_asked(kwargs, message):
    with pytest.raises(ReplaySourceError, match=message):
        payment_records(NOWHERE, **kwargs)


def test_an_unknown_registry_source_is_refused():
    with pytest.raises(ReplaySourceError, match="'topics' or 'audit'"):
        registry_at(NOWHERE, datetime.now(UTC), "file")  # type: ignore[arg-type]


def audited_changes(settings: Settings, serde: Serde) -> tuple[Registry, list[dict[str, object]]]:
    """The sample registry applied record by record as the worker's registry agent does, with the
    change each record gives (what it audits as the record's body)."""
    from ops.screen_file import load_registry_file

    sample = load_registry_file(SAMPLES / "registry.yaml")
    t = settings.topics
    registry = Registry()
    changes = []
    for account in sample.accounts():
        value = serde.encode(t.registry_accounts, "Account", account.model_dump(mode="json"))
        changes.append(
            apply_registry_change(registry, serde, settings, t.registry_accounts, account.account_id.encode(), value)
        )
    for record in sample.institutions():
        value = serde.encode(t.registry_institutions, "RegistryInstitution", record.model_dump(mode="json"))
        # The BIC8 form of the key: the worker keeps the BIC11 form, and so must the rebuild.
        changes.append(
            apply_registry_change(registry, serde, settings, t.registry_institutions, record.bic[:8].encode(), value)
        )
    changes.append(apply_registry_change(registry, serde, settings, t.registry_accounts, b"ACC-KP-001", None))
    return registry, changes


def test_audited_changes_rebuild_the_registry_the_worker_had():
    settings, serde = Settings(), Serde(Settings())
    worker_view, changes = audited_changes(settings, serde)
    rebuilt = Registry()
    for change in changes:
        kafka_sources._apply_audited(rebuilt, serde, settings, change)
    assert rebuilt.version == worker_view.version
    assert rebuilt.account("ACC-KP-001") is None and rebuilt.account("ACC-DE-001") is not None
    assert len(rebuilt.institutions()) == len(worker_view.institutions()) > 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"topic": "registry.accounts", "key": "ACC-X", "op": "rename"}, "unknown registry change"),
        ({"topic": "payments", "key": "ACC-X", "op": "delete"}, "not a registry topic"),
        ({"topic": "registry.institutions", "key": "not a bic", "op": "delete"}, "not a bic"),
        ({"topic": "registry.accounts", "key": "ACC-X", "op": "upsert", "value": {"account_id": "ACC-X"}}, "status"),
    ],
)
def test_audited_changes_that_cannot_be_applied_raise(change, error):
    settings, serde = Settings(), Serde(Settings())
    with pytest.raises((RegistryError, ValueError), match=error):
        kafka_sources._apply_audited(Registry(), serde, settings, change)


def test_an_audited_upsert_goes_through_the_workers_key_check():
    settings, serde = Settings(), Serde(Settings())
    _, changes = audited_changes(settings, serde)
    account = next(c for c in changes if c["op"] == "upsert" and c["topic"] == settings.topics.registry_accounts)
    with pytest.raises(RegistryError, match="is not the record's account_id"):
        kafka_sources._apply_audited(Registry(), serde, settings, dict(account, key="ACC-OTHER"))
