"""`python -m ops ...` is the `screener` command."""

from ops.cli import main

main()
