"""Who may use the workbench: users from a YAML file, their passwords and API tokens, sessions.

Passwords are kept as scrypt hashes (`scrypt$16384$8$1$<salt b64>$<hash b64>`, the standard
library's hashlib.scrypt: memory-hard, no extra dependency). API tokens are 32 random bytes, so a
plain SHA-256 (`sha256$<hex>`) is enough: nobody can search that space, slow hash or not. Session
tokens are 32 random bytes too; the store keeps only their SHA-256, so a copy of the database
opens no session. Failed sign-ins are limited per user name, in memory: a restart forgets them,
which costs an attacker a restart they cannot cause.

`screener workbench hash-password` and `screener workbench token` (ops/cli/workbench.py) make the
users file's hashes with the functions here.

(About 340 lines: users, passwords, tokens, sessions and the sign-in limit are one trust boundary,
reviewed together.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.workbench.context import User
from ops.workbench.store import Session, Store
from rules.casework import Role

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# A hash from the file decides how much memory one sign-in takes: bounded, so an edited file cannot
# make every sign-in allocate gigabytes (128 * r * n bytes; the defaults take 16 MiB).
_MAX_SCRYPT_MEMORY = 128 * 1024 * 1024
MAX_PASSWORD_CHARS = 1_024
# Names are actors in the audit trail and labels in the metrics: short, plain, unambiguous.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_TOKEN_HASH = re.compile(r"sha256\$[0-9a-f]{64}")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_ENTRY_KEYS = frozenset({"name", "role", "password_hash", "api_token_hash", "display_name"})

SESSION_COOKIE = "wb_session"
MAX_TOKEN_CHARS = 256


class UsersError(ValueError):
    """The users file is wrong; the message names the file and the entry."""


class SignInRefused(Exception):  # noqa: N818 (an outcome shown to the person signing in)
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# -- passwords and tokens ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=size,
        maxmem=_MAX_SCRYPT_MEMORY + 2**20,
    )


def parse_password_hash(stored: object) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, hash) of a stored scrypt hash, or ValueError saying what is wrong."""
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("not of the form scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>")
    if not all(part.isdigit() and len(part) <= 8 for part in parts[1:4]):
        raise ValueError("n, r and p are positive integers")
    n, r, p = (int(part) for part in parts[1:4])
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or p > 16 or 128 * r * n > _MAX_SCRYPT_MEMORY:
        raise ValueError("n is a power of two and n, r, p within bounds (at most 128 MiB, p <= 16)")
    try:
        if not (_B64.fullmatch(parts[4]) and _B64.fullmatch(parts[5])):
            raise binascii.Error
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except binascii.Error:
        raise ValueError("salt and hash are standard base64") from None
    if len(salt) < SALT_BYTES or not 16 <= len(digest) <= 64:
        raise ValueError(f"the salt has at least {SALT_BYTES} bytes and the hash 16 to 64")
    return n, r, p, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches; False for a malformed hash or an over-long password."""
    try:
        n, r, p, salt, digest = parse_password_hash(stored)
    except ValueError:
        return False
    # An over-long password is still hashed (as empty), so the time taken says nothing about it.
    too_long = len(password) > MAX_PASSWORD_CHARS
    candidate = _scrypt("" if too_long else password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest) and not too_long


def hash_token(token: str) -> str:
    return "sha256$" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@functools.cache
def _decoy_hash() -> str:
    """Verified for an unknown user, so that a wrong name takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


# -- users ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    user: User
    password_hash: str
    api_token_hash: str | None = None


class Users:
    """The configured users. Names match case-insensitively (as four eyes compares them); the
    configured spelling is the one recorded."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._accounts = {a.user.name.casefold(): a for a in accounts}

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, name: str) -> User | None:
        account = self._accounts.get(name.casefold()) if isinstance(name, str) and len(name) <= 64 else None
        return account.user if account else None

    def check_password(self, name: str, password: str) -> User | None:
        """The user if the password is theirs. Costs one scrypt whether or not the user exists."""
        account = self._accounts.get(name.casefold()) if len(name) <= 64 else None
        ok = verify_password(password, account.password_hash if account else _decoy_hash())
        return account.user if account and ok else None

    def by_token(self, token: str) -> User | None:
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        digest = hash_token(token)
        found = None
        for account in self._accounts.values():  # every entry compared: the time names none of them
            if account.api_token_hash and hmac.compare_digest(account.api_token_hash, digest):
                found = account.user
        return found


def load_users(path: Path) -> Users:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsersError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
    return parse_users(data, str(path))


def parse_users(data: Any, source: str = "users") -> Users:
    """The users of a parsed users file, strictly: any doubt about who may do what is an error."""
    if not isinstance(data, Mapping) or set(data) != {"users"}:
        raise UsersError(f"{source}: a mapping with one key, users (a list of users)")
    entries = data["users"]
    if not isinstance(entries, list) or not entries:
        raise UsersError(f"{source}: users is a non-empty list")
    accounts: list[Account] = []
    names: set[str] = set()
    tokens: set[str] = set()
    for i, entry in enumerate(entries):
        account = _account(entry, f"{source}: users[{i}]")
        where = f"{source}: users[{i}] ({account.user.name})"
        if account.user.name.casefold() in names:
            raise UsersError(f"{where}: a second user of this name (names are compared ignoring case)")
        if account.api_token_hash and account.api_token_hash in tokens:
            raise UsersError(f"{where}: api_token_hash is another user's too")
        names.add(account.user.name.casefold())
        tokens.add(account.api_token_hash or "")
        accounts.append(account)
    return Users(accounts)


def _account(entry: Any, where: str) -> Account:
    if not isinstance(entry, Mapping):
        raise UsersError(f"{where}: a mapping with name, role and password_hash")
    unknown = sorted(str(k)[:40] for k in entry if k not in _ENTRY_KEYS)
    if unknown:
        raise UsersError(f"{where}: unknown keys {', '.join(unknown)} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsersError(f"{where}: name is 1-64 letters, digits or . _ @ - (starting with a letter or digit)")
    where = f"{where} ({name})"
    role = entry.get("role")
    if role not in {r.value for r in Role}:
        raise UsersError(f"{where}: role {str(role)[:40]!r} is not one of {', '.join(r.value for r in Role)}")
    try:
        parse_password_hash(entry.get("password_hash"))
    except ValueError as exc:
        raise UsersError(f"{where}: password_hash: {exc} (make one with: screener workbench hash-password)") from None
    token_hash = entry.get("api_token_hash")
    if token_hash is not None and not (isinstance(token_hash, str) and _TOKEN_HASH.fullmatch(token_hash)):
        raise UsersError(f"{where}: api_token_hash is sha256$<64 lower-case hex digits>")
    display = entry.get("display_name", "")
    if not isinstance(display, str) or len(display) > 200:
        raise UsersError(f"{where}: display_name is text of at most 200 characters")
    return Account(User(name, Role(role), display), entry["password_hash"], token_hash)


# -- failed sign-ins --------------------------------------------------------------------------


class SignInLimiter:
    """At most `max_failures` failed sign-ins per user name in a sliding window. Names that do not
    exist count too (the limiter must not say which exist), so the table is bounded."""

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_names: int = 10_000,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._max_names = max_names
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, name: str) -> float:
        """Seconds until the name may try again; 0 when it may now."""
        times = self._recent(name.casefold()[:64])
        if len(times) < self._max:
            return 0.0
        return max(1.0, times[0] + self._window - self._clock())

    def failed(self, name: str) -> None:
        key = name.casefold()[:64]
        times = self._recent(key)
        times.append(self._clock())
        self._failures[key] = times
        if len(self._failures) > self._max_names:
            self._prune()

    def succeeded(self, name: str) -> None:
        self._failures.pop(name.casefold()[:64], None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key, deque())
        cutoff = self._clock() - self._window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def _prune(self) -> None:
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]
        while len(self._failures) > self._max_names:  # still full: forget the oldest entries
            del self._failures[next(iter(self._failures))]


async def sign_in(users: Users, limiter: SignInLimiter, name: str, password: str) -> User:
    """The user, or SignInRefused (401 wrong name or password, 429 too many failures)."""
    wait = limiter.retry_after(name)
    if wait:
        minutes = max(1, round(wait / 60))
        raise SignInRefused(
            f"Too many failed sign-ins for this user name: try again in {minutes} min, or ask an administrator.", 429
        )
    loop = asyncio.get_running_loop()
    # scrypt takes tens of milliseconds and 16 MiB: off the event loop, which serves everyone else.
    user = await loop.run_in_executor(None, users.check_password, name, password)
    if user is None:
        limiter.failed(name)
        raise SignInRefused("Wrong user name or password.", 401)
    limiter.succeeded(name)
    return user


# -- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # for the cookie only; never stored or logged
    csrf: str
    expires_at: float


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(store: Store, user_name: str, now: float, seconds: int) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    store.put_session(session_key(token), user_name, csrf, now, now + seconds)
    return NewSession(token, csrf, now + seconds)


def find_session(store: Store, token: str | None, now: float) -> Session | None:
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return store.session(session_key(token), now)


def end_session(store: Store, token: str | None) -> None:
    if token and len(token) <= MAX_TOKEN_CHARS:
        store.drop_session(session_key(token))
