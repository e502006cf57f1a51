"""The streaming commands of the `screener` CLI: broker, run, config, produce, tail, registry, audit, demo.

(About 320 lines: one Typer sub-application with its registry and audit groups, a function per
command; the work is in the modules each command calls.)
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ops.cli.common import (
    SAMPLES,
    AccountMappingOpt,
    Bootstrap,
    UsageError,
    app,
    kafka_errors,
    load_ruleset,
    settings_for,
)

if TYPE_CHECKING:
    from streams.audit_verify import VerifyReport
    from streams.settings import Settings

registry_app = typer.Typer(help="The correspondent-account registry on Kafka.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(audit_app, name="audit")


@app.command()
def broker(
    port: Annotated[int, typer.Option("--port", help="Loopback port (0: a free one).")] = 9092,
) -> None:
    """Run the embedded Tansu broker in the foreground and print its bootstrap address."""
    from ops.broker import BrokerError, EmbeddedBroker

    try:
        embedded = EmbeddedBroker(port=port).start()
    except BrokerError as exc:
        raise UsageError(str(exc)) from None
    print(embedded.bootstrap, flush=True)
    print(f"embedded broker ready: SCREENER_BOOTSTRAP_SERVERS={embedded.bootstrap} (Ctrl-C stops it)", file=sys.stderr)

    # The handler only passes SIGTERM on: waiting for the broker inside it would race the wait below
    # (both would reap the same process) and end in a timeout and a traceback.
    signal.signal(signal.SIGTERM, lambda *_: embedded.terminate())
    with contextlib.suppress(KeyboardInterrupt):
        embedded.wait()
    embedded.stop()


@app.command()
def run(
    bootstrap: Bootstrap = None,
    web_port: Annotated[int | None, typer.Option("--web-port", help="Health, readiness and metrics port.")] = None,
    rules_dir: Annotated[Path | None, typer.Option("--rules")] = None,
    sanctions: Annotated[Path | None, typer.Option("--sanctions")] = None,
    ownership: Annotated[Path | None, typer.Option("--ownership")] = None,
    account_mapping: AccountMappingOpt = None,
) -> None:
    """Run the screening worker (Faust) until SIGTERM."""
    from schemas.messages import AccountMappingError, load_account_mapping
    from streams.broker_guard import EXIT_CODE as BROKER_DATA_LOST_EXIT
    from streams.rules_watch import look, watched_paths
    from streams.settings import AuditKeyError
    from streams.topics import BrokerDataLostError
    from streams.worker import run as run_worker

    settings = settings_for(
        bootstrap,
        web_port=web_port,
        rules_dir=rules_dir,
        sanctions=sanctions,
        ownership=ownership,
        account_mapping=account_mapping,
    )
    try:
        settings.audit_keyring()  # no worker writes a trail anyone could forge
        load_account_mapping(settings.account_mapping)
    except (AuditKeyError, AccountMappingError) as exc:
        raise UsageError(str(exc)) from None
    # What the watched files held before the rules were read from them: the live-update watcher
    # takes these as in force, so it loads again only content that differs (streams/rules_watch.py).
    started_with = look(watched_paths(settings))
    rules = load_ruleset(settings.rules_dir, settings.sanctions, settings.ownership)
    try:
        run_worker(settings, rules, started_with)
    except BrokerDataLostError:
        # Already logged (one JSON line); its own exit code, the same at every restart.
        raise typer.Exit(BROKER_DATA_LOST_EXIT) from None
    except kafka_errors() as exc:
        raise UsageError(f"cannot start the worker: {exc}") from None


@app.command()
def config(bootstrap: Bootstrap = None) -> None:
    """Print the effective configuration, secrets masked."""
    print(json.dumps(settings_for(bootstrap).masked(), indent=2, default=str))


@app.command()
def produce(
    input_file: Annotated[
        Path,
        typer.Argument(
            help="JSON Lines payment events, an ISO 20022 XML or SWIFT MT file, or a folder of such files ('-': stdin)."
        ),
    ],
    topic: Annotated[str | None, typer.Option("--topic", help="Target topic (default: payments).")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Send each JSON line as it is instead of Avro.")] = False,
    bootstrap: Bootstrap = None,
) -> None:
    """Publish payments: JSON events keyed by payment_id, ISO 20022 and MT messages unchanged."""
    from ops.file_inputs import input_files
    from ops.kafka_commands import produce_payments

    settings = settings_for(bootstrap)
    stdin = str(input_file) == "-"
    if not stdin and not (input_file.is_file() or input_file.is_dir()):
        raise UsageError(f"cannot read input {input_file}: no such file or folder")
    paths = input_files(input_file) if input_file.is_dir() else [] if stdin else [input_file]
    for skipped in [p for p in paths if not p.is_file()]:
        print(
            f"screener: not sent: {skipped} is not a regular file (a dangling link, a pipe or a device)",
            file=sys.stderr,
        )
    paths = [p for p in paths if p.is_file()]
    try:
        with contextlib.ExitStack() as stack:
            sources = (
                [("stdin", sys.stdin.buffer)] if stdin else [(str(p), stack.enter_context(p.open("rb"))) for p in paths]
            )
            sent, raw_count, errors = produce_payments(settings, sources, topic, raw)
    except kafka_errors() as exc:
        raise UsageError(f"cannot produce: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read input: {exc.strerror}") from None
    print(
        f"published {sent} records to {topic or settings.topics.payments}"
        + (f" ({raw_count} as they were, not valid payment events)" if raw_count and not raw else ""),
        file=sys.stderr,
    )
    for error in errors:
        print(f"screener: not delivered: {error[:300]}", file=sys.stderr)
    if errors:
        raise typer.Exit(1)


@app.command("tail")
def tail_topic(
    topic: Annotated[str, typer.Argument(help="One of the screener's topics, e.g. screening.decisions.")],
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Read from the first record.")] = False,
    count: Annotated[int | None, typer.Option("--count", help="Stop after this many records.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Stop after this many idle seconds.")] = 10.0,
    with_position: Annotated[
        bool, typer.Option("--position", help="Keep topic/partition/offset in each line.")
    ] = False,
    bootstrap: Bootstrap = None,
) -> None:
    """Decode one of our topics and print its records as JSON lines."""
    from ops.kafka_commands import decoded_records

    settings = settings_for(bootstrap)
    try:
        for record in decoded_records(settings, topic, from_beginning, count, timeout):
            if not with_position:
                record.pop("_position", None)
            print(json.dumps(record, ensure_ascii=False), flush=True)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except kafka_errors() as exc:
        raise UsageError(f"cannot read {topic}: {exc}") from None


@registry_app.command("load")
def registry_load(
    registry_file: Annotated[Path, typer.Argument(help="Registry file, JSON or YAML (SPEC 1.2).")],
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Do not tombstone keys absent from the file.")
    ] = False,
    bootstrap: Bootstrap = None,
) -> None:
    """Publish a registry file: upserts, and tombstones for keys the file no longer holds."""
    from ops.kafka_commands import load_registry
    from ops.screen_file import InputError

    settings = settings_for(bootstrap)
    try:
        counts = load_registry(settings, registry_file, delete_missing=not keep_missing)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    except kafka_errors() as exc:
        raise UsageError(f"cannot publish the registry: {exc}") from None
    print(
        f"registry published: {counts['accounts']} accounts, {counts['institutions']} institutions, "
        f"{counts['tombstones']} tombstones",
        file=sys.stderr,
    )


CheckpointsOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Signed checkpoints file (from `audit checkpoint`): detects truncation and rewriting, "
        "and vouches for a chain whose oldest records are archived.",
    ),
]


def _verified(settings: Settings, checkpoints: Path | None) -> VerifyReport:
    """The verification report, turning key, checkpoint and broker problems into one line."""
    from streams.audit_verify import verify
    from streams.checkpoints import CheckpointError, load
    from streams.serde import Serde
    from streams.settings import AuditKeyError

    try:
        anchors = load(checkpoints, settings) if checkpoints is not None and checkpoints.exists() else None
        return verify(settings, Serde(settings), anchors)
    except (AuditKeyError, CheckpointError) as exc:
        raise UsageError(f"cannot verify the audit trail: {exc}") from None
    except kafka_errors() as exc:
        raise UsageError(f"cannot read the audit topic: {exc}") from None


def _chain_name(settings: Settings, partition: int) -> str:
    """A chain as the report names it: `<audit topic>/<partition>`, and which chain the last two are."""
    from streams.topics import audit_partition_for_casework, audit_partition_for_registry

    roles = {audit_partition_for_registry(settings): "registry", audit_partition_for_casework(settings): "casework"}
    role = roles.get(partition)
    return f"{settings.topics.audit}/{partition}" + (f" ({role})" if role else "")


def _report_or_exit(settings: Settings, report: VerifyReport) -> None:
    from streams.topics import audit_partition_for_casework

    chains = ", ".join(f"{_chain_name(settings, p)}: {n}" for p, n in sorted(report.chains.items()))
    if report.first_break is not None:
        b = report.first_break
        where = f"offset {b.offset}" if b.offset >= 0 else "its end"
        print(f"audit trail BROKEN at {_chain_name(settings, b.partition)} {where} ({b.audit_id}): {b.problem}")
        raise typer.Exit(1)
    if report.records == 0:
        # Nothing to verify is no proof of integrity: a broker that lost its data looks the same.
        print(f"audit trail EMPTY: {settings.topics.audit} holds no record ({chains or 'no partition'})")
        raise typer.Exit(1)
    print(f"audit trail intact: {report.records} records in {len(report.chains)} chains ({chains})")
    casework = audit_partition_for_casework(settings)
    if casework not in report.chains:
        # An audit topic from before the casework chain: a worker's start grows it (streams/topics.py).
        print(
            f"note: {settings.topics.audit} has no partition {casework} for the casework chain yet "
            "(a deployment from before the analyst workbench; the next worker start adds it)",
            file=sys.stderr,
        )


@audit_app.command("verify")
def audit_verify(bootstrap: Bootstrap = None, checkpoints: CheckpointsOpt = None) -> None:
    """Walk every chain and report the first broken link (exit 1 on any break, or an empty trail)."""
    settings = settings_for(bootstrap)
    _report_or_exit(settings, _verified(settings, checkpoints))


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[Path, typer.Option("--out", help="Checkpoints file to add to (keep it outside Kafka).")],
    bootstrap: Bootstrap = None,
) -> None:
    """Verify the trail, then add a signed checkpoint of every chain's last record to a file."""
    from datetime import UTC, datetime

    from streams.checkpoints import Checkpoint, append, sign

    settings = settings_for(bootstrap)
    report = _verified(settings, out)
    _report_or_exit(settings, report)
    now = datetime.now(UTC).isoformat()
    taken = [
        sign(Checkpoint(f"{settings.topics.audit}/{p}", seq, digest, now, ""), settings)
        for p, (seq, digest) in sorted(report.tips.items())
    ]
    append(out, taken)
    print(f"{len(taken)} checkpoints added to {out}", file=sys.stderr)


@app.command()
def demo(
    payments: Annotated[Path, typer.Option("--payments")] = SAMPLES / "payments.jsonl",
    registry_file: Annotated[Path, typer.Option("--registry")] = SAMPLES / "registry.yaml",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for all decisions.")] = 120.0,
    messages: Annotated[
        Path | None, typer.Option("--messages", help="Folder of ISO 20022 and MT messages to send as they are.")
    ] = SAMPLES / "messages",
    workbench: Annotated[
        bool,
        typer.Option(
            "--workbench/--no-workbench",
            help="After the decisions, serve the analyst workbench (the sample reviews in its queue, demo users "
            "with fresh passwords) until Ctrl-C; --no-workbench prints the decisions and exits.",
        ),
    ] = True,
    workbench_port: Annotated[
        int | None, typer.Option("--workbench-port", help="The workbench's loopback port (default: a free one).")
    ] = None,
) -> None:
    """Embedded broker + worker: load the sample registry, produce the sample payments and messages,
    show the decisions, then open the analyst workbench on them."""
    from ops.demo import run_demo

    code = run_demo(payments, registry_file, timeout, messages, workbench, workbench_port)
    if code:
        raise typer.Exit(code)
