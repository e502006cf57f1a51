#!/usr/bin/env bash
# Set up everything the project needs on a machine with Python 3.11, then run it.
#   bash ops/bootstrap.sh run    the demo: embedded broker, worker, sample registry and payments, decisions shown
#   bash ops/bootstrap.sh test   lint, type-check and run the whole test suite
#   bash ops/bootstrap.sh setup  only set up .venv
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="${VENV:-.venv}"

say() { printf '==> %s\n' "$*" >&2; }

ensure_system_packages() {
  # PyICU (transliteration, via normality) compiles against ICU: it needs libicu-dev and pkg-config.
  if pkg-config --exists icu-uc 2>/dev/null; then return; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing libicu-dev and pkg-config (needed to build PyICU)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null
  else
    say "PyICU needs ICU headers: install libicu-dev and pkg-config (Debian/Ubuntu) or icu4c (Homebrew)"
    exit 1
  fi
}

setup() {
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || {
    say "Python 3.11 is required (found $("$PYTHON" --version 2>&1))"; exit 1; }
  ensure_system_packages
  local stamp="$VENV/.installed"
  local want
  want="$(cat pyproject.toml ops/constraints.txt | sha256sum | cut -d' ' -f1)"
  if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "creating $VENV and installing pinned dependencies"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c ops/constraints.txt -e ".[dev,embedded]"
    echo "$want" > "$stamp"
  fi
  compile_rules
}

compile_rules() {
  # The engine's modules compiled with mypyc (ops/native.py), again whenever one of their sources
  # changed. If that fails (no C compiler), the source runs: the same decisions, slower.
  local log="$VENV/native-build.log"
  if "$VENV/bin/python" -m ops.native build >"$log" 2>&1; then
    say "$(tail -n 1 "$log")"
  else
    say "compiling the rules modules with mypyc failed (see $log): the source runs instead, slower, same decisions"
  fi
}

run() {
  setup
  "$VENV/bin/screener" demo "$@"
}

install_debian_package() {
  # $1: the package; $2: what needs it. As root on Debian/Ubuntu it is installed; elsewhere the
  # run stops and says what to install.
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $1 (used by $2)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    say "$2 need the $1 package: install it"
    exit 1
  fi
}

ensure_test_packages() {
  # The integration tests produce one payment with kcat, as any client would.
  command -v kcat >/dev/null 2>&1 || install_debian_package kcat "the integration tests"
  # The workbench's browser tests drive Debian's Chromium through Playwright's Python client. The
  # browser comes from the distribution: `playwright install` (a download of its own build) is never run.
  [ -x /usr/bin/chromium ] || install_debian_package chromium "the workbench's browser tests"
  # The workbench store's tests run on PostgreSQL too: they start a throwaway cluster with the
  # server's initdb and pg_ctl (Debian keeps them in /usr/lib/postgresql/VERSION/bin, off the PATH).
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || install_debian_package postgresql "the workbench store's tests"
}

test_all() {
  setup
  ensure_test_packages
  say "ruff (every rule, each ignore reasoned in pyproject.toml) and its format check"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  say "mypy --strict (every package: rules, schemas, streams, ops, tests)"
  "$VENV/bin/mypy"
  say "pytest"
  "$VENV/bin/python" -m pytest "$@"
}

case "${1:-run}" in
  setup) setup ;;
  run) shift || true; run "$@" ;;
  test) shift || true; test_all "$@" ;;
  *) echo "usage: bash ops/bootstrap.sh [run|test|setup]" >&2; exit 2 ;;
esac
