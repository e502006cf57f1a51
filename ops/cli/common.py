"""What every command module of the `screener` CLI shares: the Typer app they register on, the
usage error (exit code 2), the shared option types, rules and settings loading.

This module imports no other module of the CLI: the command modules import it, never the reverse.
Heavy imports (the rules, the settings, Kafka) stay inside the functions: `screener --help` and
the offline commands start without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rules.catalog import RuleSet
    from streams.settings import Settings

app = typer.Typer(
    name="screener",
    help="Payment screener: Section 311 special measures, correspondent-account rules, blocked persons.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SAMPLES = Path(__file__).parent.parent / "samples"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "tests" / "golden" / "name_pairs.csv"

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
Bootstrap = Annotated[
    str | None,
    typer.Option("--bootstrap-servers", "-b", help="Kafka bootstrap servers (default: SCREENER_BOOTSTRAP_SERVERS)."),
]


class UsageError(Exception):
    """Raised for exit code 2 with a one-line message."""


def load_ruleset(rules_dir: Path | None, sanctions: Path | None, ownership: Path | None) -> RuleSet:
    """The rules, or a usage error naming the file that cannot be used."""
    from rules.catalog import load_rules
    from rules.measure_files import RulesError
    from rules.sanctions_files import SanctionsError

    try:
        return load_rules(rules_dir, sanctions, ownership)
    except (RulesError, SanctionsError) as exc:
        raise UsageError(str(exc)) from None


def settings_for(bootstrap: str | None = None, **overrides: object) -> Settings:
    """The effective settings: environment (SCREENER_*), then flags (None: not given)."""
    from pydantic import ValidationError

    from streams.settings import Settings

    # Any: each value goes to the field of its name, which validates it (Settings' __init__ takes
    # the fields as keywords of their own types; a flag's value is checked there, not here).
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if bootstrap:
        values["bootstrap_servers"] = bootstrap
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"configuration: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def kafka_errors() -> tuple[type[BaseException], ...]:
    """The errors a Kafka command turns into one line and exit code 2."""
    from confluent_kafka import KafkaException

    from streams.topics import TopicError

    return (KafkaException, TopicError, RuntimeError)
