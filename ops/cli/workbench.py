"""The analyst workbench's commands: `screener workbench serve`, `hash-password` and `token`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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

workbench_app = typer.Typer(help="The analyst workbench: held payments, worked by people.", no_args_is_help=True)
app.add_typer(workbench_app, name="workbench")

# Shorter would be guessable offline from a stolen users file, scrypt or not.
MIN_PASSWORD_CHARS = 12


@workbench_app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: a free one).")] = 8080,
    users: Annotated[
        Path | None,
        typer.Option(
            "--users",
            envvar="SCREENER_WORKBENCH_USERS",
            help="Users file (YAML: name, role, password_hash and/or api_token_hash).",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SCREENER_WORKBENCH_DB",
            help="The workbench's store: a SQLite file (default: $SCREENER_DATA_DIR/workbench.sqlite) or a "
            "postgresql://user@host:port/dbname URL (password: PGPASSWORD or ~/.pgpass).",
        ),
    ] = None,
    bootstrap: Bootstrap = None,
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="Registry file, JSON or YAML, instead of the registry topics."),
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (served over TLS, or behind a TLS proxy).")
    ] = False,
    trusted_user_header: Annotated[
        str | None,
        typer.Option(
            "--trusted-user-header",
            help="Header naming the signed-in user, set by the bank's single sign-on proxy (honoured from it only).",
        ),
    ] = None,
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    ownership: OwnershipOpt = None,
    account_mapping: AccountMappingOpt = None,
) -> None:
    """Serve the workbench until SIGTERM: its queue follows screening.decisions."""
    import sqlite3

    from ops.screen_file import InputError
    from ops.workbench.auth import UsersError, load_users
    from ops.workbench.service import ServeOptions, run_workbench
    from ops.workbench.store_sql import StoreError
    from schemas.messages import AccountMappingError, load_account_mapping
    from streams.settings import AuditKeyError

    if users is None:
        raise UsageError("no users file: --users FILE or SCREENER_WORKBENCH_USERS")
    settings = settings_for(
        bootstrap, rules_dir=rules_dir, sanctions=sanctions, ownership=ownership, account_mapping=account_mapping
    )
    try:
        settings.audit_keyring()  # every disposition goes on the casework audit chain, signed
        accounts = load_account_mapping(settings.account_mapping)
        people = load_users(users)
    except (AuditKeyError, AccountMappingError, UsersError) as exc:
        raise UsageError(str(exc)) from None
    rules = load_ruleset(settings.rules_dir, settings.sanctions, settings.ownership)
    options = ServeOptions(people, host, port, db, registry, secure_cookies, trusted_user_header or None)
    try:
        run_workbench(settings, rules, options, accounts)
    except InputError as exc:  # the registry file
        raise UsageError(str(exc)) from None
    except (OSError, sqlite3.Error, StoreError) as exc:  # the port taken, the store unreachable or in use
        raise UsageError(f"cannot start the workbench: {exc}") from None


@workbench_app.command("hash-password")
def hash_password_command() -> None:
    """Print the scrypt hash of a password for the users file (asked without echo, or read from
    stdin when it is not a terminal)."""
    import getpass

    from ops.workbench.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            raise UsageError("the two entries differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsageError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    print(hash_password(password))


@workbench_app.command()
def token() -> None:
    """Print a new random API token (give it to its client once) and its hash (api_token_hash in
    the users file)."""
    from ops.workbench.auth import hash_token, new_token

    value = new_token()
    print(f"token: {value}")
    print(f"api_token_hash: {hash_token(value)}")
