"""All configuration in one object: environment variables prefixed SCREENER_, or flags.

Nothing else in the project reads os.environ; the Faust app, the Kafka clients and the operator
commands are all built from a Settings.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FIVE_YEARS_MS = 5 * 366 * 24 * 3600 * 1000


class Topics(BaseSettings):
    """Topic names (SPEC 1.3); override with SCREENER_TOPICS__<NAME>."""

    payments: str = "payments"
    decisions: str = "screening.decisions"
    blocks: str = "screening.blocks"
    alerts: str = "screening.alerts"
    notices: str = "screening.notices"
    audit: str = "screening.audit"
    dead_letter: str = "screening.dead-letter"
    registry_accounts: str = "registry.accounts"
    registry_institutions: str = "registry.institutions"
    # Internal: notices are decided by account, so requests are repartitioned by account_id.
    notice_requests: str = "screening.notice-requests"
    # The analyst workbench (ops/workbench): each person's action on a review, and the outcome of
    # each held payment (released or stopped), which core banking consumes.
    dispositions: str = "screening.dispositions"
    releases: str = "screening.releases"


MASK = "**********"
# An HMAC-SHA256 key shorter than this is guessable (RFC 2104: at least the hash's output length).
MIN_AUDIT_KEY_BYTES = 32


class AuditKeyError(ValueError):
    """The audit trail's keys are missing or inconsistent; the message says what to set."""


def mask_url_credentials(text: str) -> str:
    """A URL (or a comma-separated list of them) with the user-info part masked."""
    out: list[str] = []
    for item in text.split(","):
        parts = urlsplit(item.strip()) if "://" in item else None
        if parts is not None and (parts.username or parts.password):
            netloc = f"{MASK}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
            out.append(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))
        else:
            out.append(item)
    return ",".join(out)


class Settings(BaseSettings):
    """The screener's effective configuration."""

    model_config = SettingsConfigDict(env_prefix="SCREENER_", env_nested_delimiter="__", extra="ignore")

    app_id: str = "payment-screener"
    bootstrap_servers: str = "127.0.0.1:9092"
    # Security, passed through to every Kafka client.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None

    topics: Topics = Field(default_factory=Topics)
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    audit_retention_ms: int = Field(default=FIVE_YEARS_MS, ge=FIVE_YEARS_MS)
    # Keys of the audit trail's HMAC (SPEC 2.5: the trail is authenticated, not only chained):
    # key id -> secret, as JSON in SCREENER_AUDIT_KEYS. New records use audit_key_id (or the only
    # key); older ids stay for verifying records written before a rotation (README, "Audit keys").
    audit_keys: dict[str, SecretStr] = Field(default_factory=dict)
    audit_key_id: str | None = None
    # Signed checkpoints (`screener audit checkpoint`), kept outside Kafka: a worker loading a chain
    # shorter than a checkpoint reports a truncated chain or a broker that lost its data.
    audit_checkpoints: Path | None = None
    schema_registry_url: str | None = None
    schema_registry_auth: SecretStr | None = None  # "user:password"
    # Faust's exactly_once does not start on the embedded broker (ARCHITECTURE.md); the service
    # gives at-least-once delivery with idempotent outputs (README, "Delivery guarantees").
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    # A batch is what librdkafka has fetched, up to this many records: no waiting to fill it, so
    # batches are small at low load (latency) and fill by themselves under load.
    batch_size: int = Field(default=500, ge=1, le=100_000)
    commit_interval_s: float = Field(default=1.0, gt=0)
    # How long the screen loop sleeps when librdkafka has nothing fetched for it (it never blocks
    # the event loop waiting for records).
    poll_interval_s: float = Field(default=0.001, gt=0, le=1)
    session_timeout_s: float = Field(default=30.0, ge=1)
    web_port: int = Field(default=6066, ge=0, le=65535)
    web_host: str = "127.0.0.1"
    data_dir: Path = Path("./screener-data")
    table_store: str = "memory://"
    rules_dir: Path | None = None
    sanctions: Path | None = None
    ownership: Path | None = None
    # Seconds between looks at the rules directory, sanctions list and ownership file above for new
    # content, put in force without a restart (streams/rules_watch.py); 0: not watched.
    rules_watch_interval_s: float = Field(default=2.0, ge=0)
    # How the bank names its correspondent accounts in ISO 20022 and MT messages, when not by the
    # settlement account itself (YAML: `accounts:` and `bics:` maps; schemas/messages.py).
    account_mapping: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Severity of an alert by the strongest action in the decision.
    alert_severity: dict[str, str] = Field(default_factory=lambda: {"block": "high", "review": "medium", "info": "low"})

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("bootstrap_servers must name at least one host:port")
        return value.strip()

    @property
    def broker_url(self) -> str:
        """Faust's broker URL (kafka:// for each server)."""
        return ";".join(f"kafka://{s.strip()}" for s in self.bootstrap_servers.split(",") if s.strip())

    def kafka_config(self) -> dict[str, Any]:
        """librdkafka (confluent-kafka) client settings, security included."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            # librdkafka's own log lines go through Python logging (one JSON object each in the
            # worker), not straight to stderr.
            "logger": logging.getLogger("librdkafka"),
            # Topics are created only by `ensure_topics`, with their specs. A producer's default
            # (true) would let a broker that lost its data re-create, say, the audit topic with the
            # broker's default partition count the moment a record is retried to it, before the
            # data-loss guard has looked (streams/broker_guard.py).
            "allow.auto.create.topics": False,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_cafile:
            conf["ssl.ca.location"] = str(self.ssl_cafile)
        if self.ssl_certfile:
            conf["ssl.certificate.location"] = str(self.ssl_certfile)
        if self.ssl_keyfile:
            conf["ssl.key.location"] = str(self.ssl_keyfile)
        if self.ssl_key_password:
            conf["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return conf

    def faust_security(self) -> Any:
        """Faust's credentials object for the configured security, or None for PLAINTEXT."""
        if self.security_protocol == "PLAINTEXT":
            return None
        import ssl

        import faust

        context = None
        if self.security_protocol in ("SSL", "SASL_SSL"):
            context = ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
            if self.ssl_certfile:
                password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None
                context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile or self.ssl_certfile), password)
        if self.security_protocol == "SSL":
            return faust.SSLCredentials(context)
        mechanism = (self.sasl_mechanism or "PLAIN").replace("-", "_")
        return faust.SASLCredentials(
            username=self.sasl_username or "",
            password=self.sasl_password.get_secret_value() if self.sasl_password else "",
            ssl_context=context,
            mechanism=mechanism,
        )

    def audit_keyring(self) -> tuple[str, dict[str, bytes]]:
        """(the key id new audit records are written with, every key by id).

        Raises AuditKeyError when no key is configured or the active id names none.
        """
        keys = {k: v.get_secret_value().encode() for k, v in self.audit_keys.items()}
        if not keys:
            raise AuditKeyError(
                "no audit key: set SCREENER_AUDIT_KEYS to a JSON object of key id -> secret "
                '(e.g. {"2026-11": "<32+ random bytes, hex>"}) and SCREENER_AUDIT_KEY_ID to the id in use'
            )
        active = self.audit_key_id or (next(iter(keys)) if len(keys) == 1 else None)
        if active is None or active not in keys:
            raise AuditKeyError(
                f"SCREENER_AUDIT_KEY_ID {self.audit_key_id!r} names none of the keys in SCREENER_AUDIT_KEYS "
                f"({', '.join(sorted(keys))})"
            )
        if len(keys[active]) < MIN_AUDIT_KEY_BYTES:
            raise AuditKeyError(f"audit key {active!r} is shorter than {MIN_AUDIT_KEY_BYTES} bytes")
        return active, keys

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets masked, for `screener config`: the secret
        fields, and credentials written into a URL (https://user:password@host)."""
        data = self.model_dump(mode="json")
        for key in ("sasl_password", "ssl_key_password", "schema_registry_auth"):
            if data.get(key):
                data[key] = MASK
        for key, value in data.items():
            if isinstance(value, str) and "@" in value:
                data[key] = mask_url_credentials(value)
        return data
