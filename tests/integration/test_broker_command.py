"""`screener broker`: SIGTERM stops it cleanly (exit 0, no traceback, no broker left)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_embedded_broker_cleanly():
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ops.cli import main; main()", "broker", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    bootstrap = proc.stdout.readline().decode().strip()
    assert bootstrap.startswith("127.0.0.1:")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(15)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 0 and "Traceback" not in err, err
