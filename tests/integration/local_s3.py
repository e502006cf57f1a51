"""A local S3 server (moto) on a free loopback port, for Tansu's S3 storage engine.

The Tansu build the `embedded` extra ships has no PostgreSQL engine (FeatureNotEnabled), so the
tests give it durable storage through its S3 engine instead: the broker can be stopped and started
again over the same bucket, as a broker over a kept volume would be.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Self

from ops.broker import free_port

REGION = "eu-west-2"


class LocalS3:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.bucket = f"tansu-{uuid.uuid4().hex[:12]}"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def broker_env(self) -> dict[str, str]:
        """What Tansu's S3 engine (object_store) reads: a plain-HTTP endpoint and test credentials."""
        return dict(
            os.environ,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",  # moto accepts any credentials
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT=self.endpoint,
            AWS_ALLOW_HTTP="true",
        )

    @property
    def storage_engine(self) -> str:
        return f"s3://{self.bucket}/"

    def start(self, timeout: float = 30.0) -> Self:
        server = Path(sys.executable).with_name("moto_server")
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"moto_server did not listen on {self.endpoint}")
        import boto3  # type: ignore[import-untyped]  # boto3 ships no type information

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=REGION,
        )
        client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
