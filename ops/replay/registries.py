"""Which registry each replayed payment is screened against.

Every decision is made against the registry as it stood when the payment was screened and names
its `registry_version` (SPEC 2.3). A lookback should change nothing but the rules, so by default a
payment is screened again against the registry its recorded decision names: the copy `screener
screen` kept under the data directory, a registry file beside the replay's inputs with that
version, or, when a broker is in use, the registry rebuilt from the
audit trail's registry records (else the registry topics) as it stood at the first decision naming
that version, kept only when its version is exactly the recorded one. An operator can instead give
one registry file, or an instant to rebuild the registry at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ops.replay.recorded import Recorded, find_registry
from ops.replay.screening import Context
from ops.screen_file import InputError, load_registry_file
from rules.catalog import RuleSet
from rules.registry import Registry
from streams.settings import Settings

Source = Literal["topics", "audit"]
REGISTRY_SUFFIXES = (".yaml", ".yml", ".json")
# A registry file looked at beside the inputs is read whole: bounded.
MAX_REGISTRY_FILE_BYTES = 64 << 20


class RegistryChoiceError(Exception):
    """No registry can be found or read for the replay."""


def _screened_at(value: object) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass
class RegistryChoice:
    """The operator's choice (a file, an instant, or neither) and what it takes to honour it."""

    settings: Settings
    recorded: Recorded
    registry_file: Path | None = None
    registry_at: datetime | None = None
    registry_from: str = "topics"
    from_topic: bool = False
    broker: bool = False
    # Folders of the replay's input files: a registry file there with a recorded version is used.
    beside: tuple[Path, ...] = ()
    warnings: list[str] = field(default_factory=list)

    def context(self, rules: RuleSet, as_of: datetime) -> Context:
        decisions = self.recorded.decisions
        if self.registry_file is not None:
            try:
                return Context(rules, as_of, decisions, registry=load_registry_file(self.registry_file))
            except InputError as exc:
                raise RegistryChoiceError(str(exc)) from None
        if self.registry_at is not None or (self.from_topic and not decisions):
            at = self.registry_at or datetime.now(UTC)
            source: Source = "audit" if self.registry_from == "audit" else "topics"
            return Context(rules, as_of, decisions, registry=self._rebuilt(at, source))
        registries, missing = self._recorded_registries()
        if not registries:
            where = self.settings.data_dir / "registries"
            why = f"registry {', '.join(missing[:3])} not kept in {where}" if missing else "no recorded decisions"
            if missing and self.broker:
                why += " nor rebuilt from the broker"
            raise RegistryChoiceError(
                f"no registry to screen with ({why}): give --registry FILE or --registry-at INSTANT"
            )
        if missing:
            self.warnings.append(
                f"registries {', '.join(missing[:3])} not found: their payments are dead-lettered; give "
                "--registry to screen them all"
            )
        by_payment = {pid: str(d.get("registry_version")) for pid, d in decisions.items()}
        return Context(rules, as_of, decisions, registries=registries, recorded_registry=by_payment)

    def _recorded_registries(self) -> tuple[dict[str, Registry], list[str]]:
        registries: dict[str, Registry] = {}
        missing: list[str] = []
        for version in self.recorded.versions("registry_version"):
            path = find_registry(self.settings.data_dir, version)
            if path is None:
                missing.append(version)
                continue
            try:
                registries[version] = load_registry_file(path)
            except InputError as exc:
                raise RegistryChoiceError(f"kept registry {version}: {exc}") from None
        if missing and self.beside:
            registries |= self._beside(missing)
            missing = [v for v in missing if v not in registries]
        if missing and self.broker:
            registries |= self._rebuilt_versions(missing)
            missing = [v for v in missing if v not in registries]
        return registries, missing

    def _beside(self, versions: list[str]) -> dict[str, Registry]:
        """Registry files in the folders of the replay's inputs whose version is a recorded one
        (the registry `screen` was given usually sits beside its payments)."""
        found: dict[str, Registry] = {}
        for folder in dict.fromkeys(self.beside):
            try:
                files = sorted(p for p in folder.iterdir() if p.suffix in REGISTRY_SUFFIXES and p.is_file())
            except OSError:
                continue
            for path in files:
                try:
                    if path.stat().st_size > MAX_REGISTRY_FILE_BYTES:
                        continue
                    registry = load_registry_file(path)
                except (InputError, OSError):
                    continue  # not a registry: the folder holds other files too
                if registry.version in versions and registry.version not in found:
                    found[registry.version] = registry
        return found

    def _rebuilt_versions(self, versions: list[str]) -> dict[str, Registry]:
        from ops.replay.kafka_sources import ReplaySourceError, registry_at

        first: dict[str, datetime] = {}
        for decision in self.recorded.decisions.values():
            version = str(decision.get("registry_version"))
            at = _screened_at(decision.get("screened_at"))
            if version in versions and at is not None and (version not in first or at < first[version]):
                first[version] = at
        found: dict[str, Registry] = {}
        for version, at in first.items():
            for source in ("audit", "topics"):
                try:
                    rebuilt = registry_at(self.settings, at, "audit" if source == "audit" else "topics")
                except ReplaySourceError:
                    continue
                if rebuilt.version == version:
                    found[version] = rebuilt.registry
                    break
        return found

    def _rebuilt(self, at: datetime, source: Source) -> Registry:
        from ops.replay.kafka_sources import ReplaySourceError, registry_at

        try:
            rebuilt = registry_at(self.settings, at, source)
        except ReplaySourceError as exc:
            raise RegistryChoiceError(f"cannot rebuild the registry: {exc}") from None
        if rebuilt.errors:
            self.warnings.append(f"registry at {at.isoformat()}: {len(rebuilt.errors)} records not applied")
        self.warnings.extend(rebuilt.notes)
        return rebuilt.registry
