"""`screener replay`: what would these rules, lists or registry have decided, and what changed.

A lookback (a new OFAC designation, a new Section 311 measure, tuned matching) re-screens past
payments from a file or from the `payments` topic and compares each new decision with the recorded
one. It writes only to its own output folder (and `--to-topic`, a topic of its own), ends with a
summary table and, as the last line on stdout, one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ops.cli.common import (
    AccountMappingOpt,
    Bootstrap,
    OwnershipOpt,
    RulesOpt,
    SanctionsOpt,
    UsageError,
    app,
    load_ruleset,
    settings_for,
)

if TYPE_CHECKING:
    from ops.file_inputs import BadInput, Item
    from ops.replay.recorded import Recorded
    from schemas.messages import AccountMapping
    from streams.settings import Settings


def _instant(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not an RFC 3339 timestamp") from None
    if instant.tzinfo is None:
        raise UsageError(f"{flag} needs a UTC offset, e.g. 2025-06-01T12:00:00Z")
    return instant


def _default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@app.command()
def replay(
    payments: Annotated[
        Path | None,
        typer.Argument(help="Payments: any input `screen` accepts (file, folder, '-'); omit with --from-topic."),
    ] = None,
    against: Annotated[
        Path | None, typer.Option("--against", help="Recorded decisions, JSON Lines (what `screen` wrote).")
    ] = None,
    against_topic: Annotated[
        bool, typer.Option("--against-topic", help="Compare with the decisions on screening.decisions.")
    ] = False,
    against_audit: Annotated[
        bool, typer.Option("--against-audit", help="Compare with the decisions recorded in the audit trail.")
    ] = False,
    from_topic: Annotated[
        bool, typer.Option("--from-topic", help="Replay the payments topic (bounded by --since/--until/offsets).")
    ] = False,
    since: Annotated[str | None, typer.Option("--since", help="With --from-topic: records from (RFC 3339).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="With --from-topic: records before (RFC 3339).")] = None,
    from_offset: Annotated[int | None, typer.Option("--from-offset", help="With --from-topic: first offset.")] = None,
    to_offset: Annotated[
        int | None, typer.Option("--to-offset", help="With --from-topic: offset to stop before.")
    ] = None,
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    ownership: OwnershipOpt = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            help="Registry file for every payment (default: the registry each recorded decision names, as kept "
            "by `screen`; with --from-topic, the registry topics now).",
        ),
    ] = None,
    registry_at: Annotated[
        str | None,
        typer.Option("--registry-at", help="The registry as it stood at this instant (RFC 3339), rebuilt."),
    ] = None,
    registry_from: Annotated[
        str, typer.Option("--registry-from", help="Rebuild --registry-at from 'topics' or 'audit'.")
    ] = "topics",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="screened_at of the new decisions (default: now).")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Processes (default: every core).", min=1)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: replay-<UTC time> here).")] = None,
    to_topic: Annotated[
        str | None,
        typer.Option("--to-topic", help="Also write new decisions and diffs to this topic (not a live one)."),
    ] = None,
    account_mapping: AccountMappingOpt = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Re-screen payments under the rules, lists and registry given and compare with what was decided."""
    from ops.replay.registries import RegistryChoice, RegistryChoiceError
    from ops.replay.run import Outputs, Replay

    if (payments is None) == (not from_topic):
        raise UsageError("give PAYMENTS (a file or folder) or --from-topic, not both")
    if sum((against is not None, against_topic, against_audit)) > 1:
        raise UsageError("give at most one of --against, --against-topic, --against-audit")
    if registry is not None and registry_at is not None:
        raise UsageError("give --registry or --registry-at, not both")
    if registry_from not in ("topics", "audit"):
        raise UsageError("--registry-from is 'topics' or 'audit'")
    instant = _instant(as_of, "--as-of") or datetime.now(UTC)
    started_at = datetime.now(UTC)
    needs_broker = from_topic or against_topic or against_audit or registry_at is not None or to_topic is not None
    settings = settings_for(bootstrap)
    ruleset = load_ruleset(rules_dir, sanctions, ownership)
    recorded = _recorded(settings, against, against_topic, against_audit)
    beside = tuple(
        p.resolve() if p.is_dir() else p.resolve().parent for p in (payments, against) if p and str(p) != "-"
    )
    choice = RegistryChoice(
        settings,
        recorded,
        registry,
        _instant(registry_at, "--registry-at"),
        registry_from,
        from_topic,
        needs_broker,
        beside,
    )
    try:
        context = choice.context(ruleset, instant)
    except _broker_errors(needs_broker, RegistryChoiceError) as exc:
        raise UsageError(str(exc)) from None
    for warning in choice.warnings:
        print(f"replay: {warning}", file=sys.stderr)
    jobs = jobs or _default_jobs()
    folder = out or Path(f"replay-{started_at.strftime('%Y%m%dT%H%M%SZ')}")
    sink = _topic_sink(settings, to_topic) if to_topic else None
    outputs = Outputs(folder, sink)
    with _progress(len(recorded.decisions)) as progress:
        run = Replay(context, jobs, outputs, progress, later=recorded.later)
        try:
            seconds = run.run(
                _items(settings, payments, from_topic, since, until, from_offset, to_offset, account_mapping)
            )
        except _broker_errors(needs_broker) as exc:
            raise UsageError(f"replay stopped: {exc}") from None
    versions = {
        "rules_version_after": ruleset.version,
        "rules_version_before": ", ".join(v for v, _ in run.tally.rules_before.most_common()) or "none recorded",
        "registry_version": ", ".join(v for v, _ in run.tally.registries.most_common()),
    }
    try:
        paths = run.finish(versions)
    except _broker_errors(needs_broker) as exc:
        raise UsageError(f"replay's outputs not all delivered: {exc} (its files are in {folder})") from None
    if recorded.bad_lines:
        print(
            f"recorded decisions: {recorded.bad_lines} lines not read ({'; '.join(recorded.errors)})", file=sys.stderr
        )
    print(run.tally.table())
    print(json.dumps(run.tally.line(ruleset.version, seconds, jobs, paths), ensure_ascii=False))


def _broker_errors(needed: bool, *more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """The errors a replay turns into one line and exit code 2: `more`, and Kafka's when it uses a broker."""
    if not needed:
        return more
    from ops.cli.common import kafka_errors
    from ops.replay.kafka_sources import ReplaySourceError
    from ops.replay.topic_sink import TopicSinkError

    return (*kafka_errors(), ReplaySourceError, TopicSinkError, *more)


def _recorded(settings: Settings, against: Path | None, topic: bool, audit: bool) -> Recorded:
    from ops.replay.recorded import Recorded, RecordedError, load_decisions

    if against is not None:
        try:
            return load_decisions(against)
        except RecordedError as exc:
            raise UsageError(str(exc)) from None
    if not (topic or audit):
        return Recorded()
    from ops.replay import kafka_sources

    try:
        if topic:
            return Recorded(kafka_sources.recorded_decisions_from_topic(settings))
        return Recorded(kafka_sources.recorded_decisions_from_audit(settings))
    except _broker_errors(needed=True) as exc:
        raise UsageError(f"cannot read the recorded decisions: {exc}") from None


def _topic_sink(settings: Settings, topic: str) -> Any:
    from ops.replay.topic_sink import TopicSink

    try:
        return TopicSink(settings, topic)
    except _broker_errors(needed=True) as exc:
        raise UsageError(str(exc)) from None


def _items(
    settings: Settings,
    payments: Path | None,
    from_topic: bool,
    since: str | None,
    until: str | None,
    from_offset: int | None,
    to_offset: int | None,
    account_mapping: Path | None,
) -> Iterable[Item | BadInput]:
    from ops.file_inputs import InputReader
    from schemas.messages import AccountMappingError, load_account_mapping

    try:
        accounts = load_account_mapping(account_mapping)
    except AccountMappingError as exc:
        raise UsageError(str(exc)) from None
    if from_topic:
        return _topic_items(
            settings, accounts, _instant(since, "--since"), _instant(until, "--until"), from_offset, to_offset
        )
    if payments is None:
        raise UsageError("give PAYMENTS or --from-topic")
    reader = InputReader(accounts)
    if payments.is_dir():
        return reader.folder(payments)
    if str(payments) == "-":
        return reader.file("stdin", sys.stdin.buffer)
    if not payments.is_file():
        raise UsageError(f"cannot read payments {payments}: no such file or folder")
    return _file_items(reader, payments)


def _file_items(reader: Any, path: Path) -> Iterator[Item | BadInput]:
    with path.open("rb") as stream:
        yield from reader.file(str(path), stream)


def _topic_items(
    settings: Settings,
    accounts: AccountMapping,
    since: datetime | None,
    until: datetime | None,
    from_offset: int | None,
    to_offset: int | None,
) -> Iterator[Item | BadInput]:
    from ops.replay.kafka_sources import payment_records
    from ops.replay.topic_items import record_items
    from streams.serde import Serde

    serde = Serde(settings)
    for record in payment_records(settings, since=since, until=until, from_offset=from_offset, to_offset=to_offset):
        yield from record_items(record, serde, accounts)


@contextlib.contextmanager
def _progress(expected: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal (the recorded decisions give the expected count)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("replay", total=expected or None)

        def advance(done: int) -> None:
            bar.update(task, completed=done)

        yield advance
