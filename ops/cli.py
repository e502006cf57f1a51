"""The `screener` command line.

Errors the operator can fix (a missing file, a bad argument, an invalid rules or registry file)
end the run with exit code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from ops.screen_file import FileScreener, InputError, load_registry_file

app = typer.Typer(
    name="screener",
    help="Payment screener: Section 311 special measures, correspondent-account rules, blocked persons.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "golden" / "name_pairs.csv"

RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="Folder of measure files (default: packaged rules/measures).")
]
SanctionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--sanctions",
        help="Blocked-persons list: OFAC sdn.csv (with alt.csv, add.csv beside it), its folder, or a YAML list.",
    ),
]
OwnershipOpt = Annotated[
    Path | None,
    typer.Option("--ownership", help="Ownership CSV (owner,owned,percent[,owned_country]) for the 50 percent rule."),
]

AccountMappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--account-mapping",
        help="YAML: how messages name our correspondent accounts (accounts: and bics: maps to account ids).",
    ),
]


class UsageError(Exception):
    """Raised for exit code 2 with a one-line message."""


def _load_rules(rules_dir: Path | None, sanctions: Path | None, ownership: Path | None) -> Any:
    from rules.catalog import RulesError, load_rules
    from rules.sanctions import SanctionsError

    try:
        return load_rules(rules_dir, sanctions, ownership)
    except (RulesError, SanctionsError) as exc:
        raise UsageError(str(exc)) from None


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
            instant = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
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
    ruleset = _load_rules(rules_dir, sanctions, ownership)
    try:
        reg = load_registry_file(registry)
    except InputError as exc:
        raise UsageError(str(exc)) from None
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


@contextlib.contextmanager
def _progress(input_file: Path) -> Any:
    """A progress bar on stderr when it is a terminal and the input's size is known."""
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
        yield lambda done: bar.update(task, completed=done)


@app.command("rules")
def show_rules(
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    ownership: OwnershipOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List what is loaded: each measure, its effective date, the checks it drives, and the rules_version."""
    from ops.rules_report import rules_report, rules_table

    ruleset = _load_rules(rules_dir, sanctions, ownership)
    report = rules_report(ruleset)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(rules_table(report))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning usage problems into one line and exit code 2."""
    _register_extra_commands()
    try:
        # Outside standalone mode Click returns a command's typer.Exit code instead of raising it.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except UsageError as exc:
        print(f"screener: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("screener: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        # Typer's usage errors (missing option, bad value) carry exit code 2.
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)
        print(f"screener: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)


def _register_extra_commands() -> None:
    """The streaming and name-matching commands live in their own modules; importing them
    registers them."""
    import ops.name_cli
    import ops.stream_cli  # noqa: F401
