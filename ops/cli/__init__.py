"""The `screener` command line.

Errors the operator can fix (a missing file, a bad argument, an invalid rules or registry file)
end the run with exit code 2 and one line on stderr, never a traceback.

Layout: `common` holds the Typer app, the usage error and what the commands share; each command
module (`screen`, `replay`, `names`, `stream`, `workbench`, `bench`) imports `common` and registers its commands on the
app when imported; this package imports them all, in the order `screener --help` lists them, and
runs the app. No module here imports one that imports it back.
"""

from __future__ import annotations

import sys

import typer

from ops.cli.common import UsageError, app

# Imported for their commands: each registers its own on `app`, and `screener --help` lists them
# in this order (not the alphabetical one a sort would give).
# isort: off
import ops.cli.screen
import ops.cli.replay
import ops.cli.names
import ops.cli.stream
import ops.cli.workbench
import ops.cli.bench  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning usage problems into one line and exit code 2."""
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
