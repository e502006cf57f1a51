"""The offline commands of the `screener` CLI: `screen` (payments from a file or folder) and `rules`."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from ops.cli.common import AccountMappingOpt, OwnershipOpt, RulesOpt, SanctionsOpt, UsageError, app, load_ruleset
from ops.screen_file import FileScreener, InputError, load_registry_file


@app.command()
def screen(
    registry: Annotated[Path, typer.Option("--registry", help="Registry file, JSON or YAML (SPEC 1.2).")],
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            help="JSON Lines payment events, an ISO 20022 XML or SWIFT MT file, or a folder of such files; "
            "'-' reads stdin.",
        ),
    ],
    output: Annotated[Path | None, typer.Option("--output", help="Decisions, JSON Lines (default: stdout).")] = None,
    dead_letter: Annotated[
        Path | None,
        typer.Option(
            "--dead-letter",
            help="Where bad lines go (default: INPUT.dead-letter.jsonl, created only if needed).",
        ),
    ] = None,
    sanctions: SanctionsOpt = None,
    ownership: OwnershipOpt = None,
    rules_dir: RulesOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Screening instant recorded as screened_at (RFC 3339); default: the clock."),
    ] = None,
    account_mapping: AccountMappingOpt = None,
) -> None:
    """Screen payments from a file or folder (format told from the content): one decision per
    payment, in input order."""
    from schemas.messages import AccountMappingError, load_account_mapping

    instant = None
    if as_of is not None:
        try:
            instant = datetime.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not an RFC 3339 timestamp") from None
        if instant.tzinfo is None:
            raise UsageError("--as-of needs a UTC offset, e.g. 2025-06-01T12:00:00Z")
    folder = input_file.is_dir()
    if str(input_file) != "-" and not (folder or input_file.is_file()):
        raise UsageError(f"cannot read input {input_file}: no such file or folder")
    try:
        accounts = load_account_mapping(account_mapping)
    except AccountMappingError as exc:
        raise UsageError(str(exc)) from None
    ruleset = load_ruleset(rules_dir, sanctions, ownership)
    try:
        reg = load_registry_file(registry)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    _keep_registry(registry, reg.version)
    dead_path = dead_letter or Path(f"{'stdin' if str(input_file) == '-' else input_file}.dead-letter.jsonl")
    with contextlib.ExitStack() as stack:
        try:
            out: IO[str] = stack.enter_context(output.open("w", encoding="utf-8")) if output else sys.stdout
        except OSError as exc:
            raise UsageError(f"cannot write output {output}: {exc.strerror}") from None
        dead_file: list[IO[str]] = []

        def write_dead(record: dict[str, Any]) -> None:
            if not dead_file:
                try:
                    dead_file.append(stack.enter_context(dead_path.open("w", encoding="utf-8")))
                except OSError as exc:
                    raise UsageError(f"cannot write dead-letter file {dead_path}: {exc.strerror}") from None
            dead_file[0].write(json.dumps(record, ensure_ascii=False) + "\n")

        screener = FileScreener(ruleset, reg, as_of=instant, accounts=accounts)
        if folder:
            summary = screener.run_folder(input_file, out, write_dead)
        else:
            stdin = str(input_file) == "-"
            source: IO[bytes] = sys.stdin.buffer if stdin else stack.enter_context(input_file.open("rb"))
            progress = stack.enter_context(_progress(input_file))
            summary = screener.run(str(input_file), source, out, write_dead, progress)
    print(summary.line(dead_path), file=sys.stderr)


def _keep_registry(path: Path, version: str) -> None:
    """Keep a copy of the registry by its version, so that `screener replay` can screen these
    payments again against it (SPEC 2.3) without being told where it was. A copy that cannot be
    kept is reported, and screening goes on."""
    from ops.cli.common import settings_for
    from ops.replay.recorded import keep_registry

    data_dir = settings_for().data_dir
    try:
        keep_registry(data_dir, version, path, path.read_bytes())
    except OSError as exc:
        print(
            f"screener: registry {version} not kept in {data_dir} ({exc.strerror}); replay will need --registry",
            file=sys.stderr,
        )


@contextlib.contextmanager
def _progress(input_file: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal and the input's size is known: yields the
    callback that moves it to the bytes read so far, or None."""
    if not sys.stderr.isatty() or str(input_file) == "-":
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = input_file.stat().st_size
    with Progress(
        TextColumn("screening"),
        BarColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("screen", total=total)

        def advance(done: int) -> None:
            bar.update(task, completed=done)

        yield advance


@app.command("rules")
def show_rules(
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    ownership: OwnershipOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List what is loaded: each measure, its effective date, the checks it drives, and the rules_version."""
    from ops.rules_report import rules_report, rules_table

    ruleset = load_ruleset(rules_dir, sanctions, ownership)
    report = rules_report(ruleset)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(rules_table(report))
