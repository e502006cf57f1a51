"""Live updates of the rules: the configured rules directory, blocked-persons list and ownership
file are watched, and new content is put in force without a restart.

Every `rules_watch_interval_s` the watcher digests what `rules.catalog.load_rules` reads from
them (the directory's *.yaml files; a YAML list, or OFAC's files beside sdn.csv; the ownership
CSV). New content is taken only once two consecutive looks agree, so a file still being written is
not loaded half-written. The RuleSet is then built on a thread of its own (the real OFAC list
takes over a second), never on the event loop nor the screen loop's turn, and offered to the
holder (streams/rules_in_force.py); the screen loop puts it in force between two batches.

Content that does not load is refused whole: the old RuleSet stays in force; one error line, a
count, the /readyz body and the audit trail say why. The same content is not tried again; any
other content is. The packaged rules and lists (settings unset) are not watched.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from rules import RuleSet
from rules.catalog import load_rules
from rules.ofac import LAYOUTS
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.rules_in_force import MAX_REASON_CHARS, FileState, RulesInForce, Update, now_iso
from streams.settings import Settings

log = get_logger("screener.rules")

# Setting name -> what load_rules takes it as.
ROLES = ("rules_dir", "sanctions", "ownership")
Loader = Callable[[Path | None, Path | None, Path | None], RuleSet]


def worker_id(settings: Settings) -> str:
    """Who made a change: this worker process, as the audit record names it."""
    return f"{settings.app_id}@{socket.gethostname()}:{os.getpid()}"


def watched_paths(settings: Settings) -> dict[str, Path]:
    """The configured paths by role; the packaged defaults are not watched."""
    configured = {"rules_dir": settings.rules_dir, "sanctions": settings.sanctions, "ownership": settings.ownership}
    return {role: path for role, path in configured.items() if path is not None}


def files_read(role: str, path: Path) -> list[Path]:
    """The files load_rules reads for one setting (rules/catalog.py, rules/sanctions_files.py)."""
    if role == "rules_dir":
        return sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if role == "sanctions" and path.suffix not in (".yaml", ".yml"):
        folder = path if path.is_dir() else path.parent
        names = []
        for prefix, _list, _id in LAYOUTS:
            primary = "sdn.csv" if not prefix else f"{prefix}prim.csv"
            comments = "sdn_comments.csv" if not prefix else f"{prefix}comments.csv"
            names += [primary, comments, f"{prefix}alt.csv", f"{prefix}add.csv"]
        # A file of the layout that is not there is not read; it counts once it appears.
        return [folder / n for n in names if (folder / n).exists()] or [folder / "sdn.csv"]
    return [path]


def _file_state(role: str, path: Path) -> FileState:
    try:
        stat = path.stat()
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        return FileState(role, str(path), "", None, "missing")
    except OSError as exc:
        return FileState(role, str(path), "", None, f"unreadable: {exc.strerror}")
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat()
    return FileState(role, str(path), digest.hexdigest(), mtime)


# One look at the watched files: the digest over all of them, and each file's state.
Look = tuple[str, tuple[FileState, ...]]


def look(paths: Mapping[str, Path]) -> Look:
    """One look (blocking): the digest over every file read, and each file's state."""
    states = tuple(_file_state(role, f) for role, path in paths.items() for f in files_read(role, path))
    whole = hashlib.sha256()
    for s in states:
        whole.update(f"{s.role}\0{s.path}\0{s.sha256}\0{s.problem or ''}\n".encode())
    return whole.hexdigest(), states


class RulesWatch:
    """Polls the watched paths and offers new RuleSets (or refusals) to the holder."""

    def __init__(
        self,
        settings: Settings,
        holder: RulesInForce,
        metrics: Metrics,
        *,
        by: str | None = None,
        loader: Loader = load_rules,
        executor: ThreadPoolExecutor | None = None,
        started_with: Look | None = None,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self.metrics = metrics
        self.paths = watched_paths(settings)
        self.interval = settings.rules_watch_interval_s
        self.by = by or worker_id(settings)
        self.loader = loader
        self._executor = executor
        # The previous look, the content behind the last RuleSet taken (None until the first
        # look has been checked against the rules the worker started with), the last refused.
        self._previous: str | None = None
        self._files: dict[str, FileState] = {}
        self._taken: str | None = None
        self._refused: str | None = None
        if started_with is not None:
            # The files as they were when the rules in force were read from them (a look taken
            # just before): the same content is not loaded again; content changed since is.
            digest, states = started_with
            self._previous = self._taken = digest
            self._files = {f.path: f for f in states}

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and bool(self.paths)

    async def run(self) -> None:
        """The watcher's task: look, and load what has settled, until cancelled."""
        if not self.enabled:
            return
        # A thread of its own: a large list's load must not hold up the executor that loads
        # assigned partitions' state.
        self._executor = self._executor or ThreadPoolExecutor(1, thread_name_prefix="rules-watch")
        log.info("watching rules", paths={r: str(p) for r, p in self.paths.items()}, interval_s=self.interval)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the watcher must never stop the worker
                log.error("rules watch failed; the rules in force stay", error=str(exc))
            await asyncio.sleep(self.interval)

    async def step(self) -> None:
        """One look; a settled change is loaded and offered, or refused."""
        loop = asyncio.get_running_loop()
        digest, files = await loop.run_in_executor(self._executor, look, self.paths)
        previous, self._previous = self._previous, digest
        if digest != previous or digest in (self._taken, self._refused):
            return  # still changing, or nothing new
        cause, by_file = self._cause(files)
        detected_at = now_iso()
        started = time.monotonic()
        try:
            rules = await loop.run_in_executor(self._executor, self._load)
        except Exception as exc:  # noqa: BLE001 - any failure to load is a refusal, never a crash
            if await self._unchanged_since(digest):
                self._refuse(Update(digest, files, cause, self.by, detected_at, error=_reason(exc)))
            return
        if not await self._unchanged_since(digest):
            return
        self._files = by_file
        self._taken = digest
        update = Update(digest, files, cause, self.by, detected_at, rules, load_seconds=time.monotonic() - started)
        if rules.version == self.holder.version and self.holder.pending is None:
            log.info("rules content checked: the version in force", rules_version=rules.version, digest=digest)
            return
        self.holder.offer(update)
        log.info("rules loaded; put in force between batches", after=rules.version, cause=cause, digest=digest)

    async def _unchanged_since(self, digest: str) -> bool:
        """Whether the files still hold what the look before the load found: the loader reads them
        itself, so content that changed meanwhile may be half-written. If not, the load is dropped
        and the new content must settle like any other."""
        now, _ = await asyncio.get_running_loop().run_in_executor(self._executor, look, self.paths)
        if now == digest:
            return True
        self._previous = now
        log.info("rules files changed while loading; looking again", digest=now)
        return False

    def _load(self) -> RuleSet:
        p = self.paths
        return self.loader(p.get("rules_dir"), p.get("sanctions"), p.get("ownership"))

    def _cause(self, files: tuple[FileState, ...]) -> tuple[str, dict[str, FileState]]:
        """What made this update: the roles whose files differ from the content last taken, with
        the latest modification time among them."""
        by_file = {f.path: f for f in files}
        if self._taken is None:
            return "watched paths checked at start", by_file
        changed = [f for f in files if self._files.get(f.path) != f]
        changed += [f for path, f in self._files.items() if path not in by_file]
        roles = sorted({f.role for f in changed})
        mtimes = [f.mtime for f in changed if f.mtime and f.path in by_file]
        cause = f"watched path changed: {', '.join(roles) or 'none'}"
        if mtimes:
            cause += f" (modified {max(mtimes)})"
        return cause, by_file

    def _refuse(self, update: Update) -> None:
        self._refused = update.digest
        self.metrics.rules_updates.labels("refused").inc()
        self.holder.offer(update)
        log.error(
            "rules update refused; the rules in force stay",
            error=update.error,
            rules_version=self.holder.version,
            digest=update.digest,
            cause=update.cause,
        )


def _reason(exc: Exception) -> str:
    """The loader's message (it names the file and field), bounded; a type for the unexpected."""
    from rules.measure_files import RulesError
    from rules.sanctions_files import SanctionsError

    text = str(exc) if isinstance(exc, (RulesError, SanctionsError)) else f"{type(exc).__name__}: {exc}"
    return text[:MAX_REASON_CHARS]
