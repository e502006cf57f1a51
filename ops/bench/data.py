"""Seeded synthetic data for the benchmark: a blocked-persons list, a registry and a payment mix.

Everything is drawn from one `random.Random(seed)` per artefact, so the same seed gives the same
bytes on any machine. Names are built from pools of real-world given and family names (Latin,
Cyrillic, Hangul and Han script) and from generated words for companies, so that the traffic
shares common names with the list, as real traffic does, without copying any real designation.
The pools and the name builders are in ops/bench/names.py (data: ops/bench/name_pools.json).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ops.bench import names

SAMPLE_REGISTRY = Path(__file__).resolve().parent.parent / "samples" / "registry.yaml"

# Institutions and accounts of the sample registry that each trigger a rule (ops/samples).
_RULE_ACCOUNTS = {
    "special_measure_account": ["ACC-KP-001", "ACC-IR-001", "ACC-MM-001", "ACC-LB-SUB", "ACC-HK-DANDONG"],
    "account_rule": ["ACC-SHELL-001", "ACC-NOCERT-001", "ACC-OLDCERT-001", "ACC-VERIFY-001", "ACC-NESTED-001"],
    "termination": ["ACC-TERM-001"],
    "review_account": ["ACC-OFFSHORE-001", "ACC-AFFIL-001", "ACC-LB-HALF"],
}
_COVERED_AGENTS = [
    {"bic": "KKBCKPPYXXX"},
    {"bic": "MELIIRTH"},
    {"name": "Commercial Bank of Syria", "country": "SY"},
    {"name": "Bank of Dandong", "country": "CN"},
    {"bic": "FBMECY2N"},
    {"name": "Myanma Foreign Trade Bank"},
]
_LOOK_ALIKE_AGENTS = [
    {"bic": "KOEXKRSE", "name": "KEB Hana Bank"},
    {"bic": "KODBKRSE", "name": "Korea Development Bank"},
    {"name": "Commercial Bank of Dubai", "country": "AE"},
    {"name": "Syrian Arab Airlines Credit Union", "country": "SY"},
]

# The share of payments of each kind; the rest is clean traffic.
MIX: dict[str, float] = {
    "blocked_party": 0.02,
    "blocked_party_other_script": 0.005,
    "remittance_mention": 0.005,
    "special_measure_account": 0.01,
    "covered_intermediary": 0.015,
    "account_rule": 0.01,
    "termination": 0.003,
    "review_account": 0.007,
    "look_alike_agent": 0.01,
    "unknown_account": 0.005,
}

BASE_DAY = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ListedName:
    """A synthetic listed person: its list entry and, for some, the name in its own script."""

    entry: dict[str, Any]
    native: str | None = None


def blocked_persons(count: int, seed: int) -> list[ListedName]:
    """count synthetic listed persons (about 45 percent individuals, the rest entities), with aliases."""
    rng = random.Random(f"list-{seed}")
    cultures = list(names.GIVEN)
    out: list[ListedName] = []
    seen: set[str] = set()
    while len(out) < count:
        culture = rng.choice(cultures)
        native: str | None = None
        if rng.random() < 0.45:
            kind = "individual"
            # Listed people mostly have rarer family names than the customers; some share them.
            parts = names.person_parts(rng, culture, common=0.03)
            name = " ".join(p for p, _ in parts)
            aliases = names.spelling_variants(rng, parts)
            if all(n for _, n in parts):
                native = ("" if culture in ("korean", "chinese") else " ").join(n or "" for _, n in parts)
        else:
            kind = "entity"
            stem = names.word(rng, rng.randint(2, 3)) + (f" {names.word(rng, 2)}" if rng.random() < 0.4 else "")
            name = f"{stem} {rng.choice(names.ENTITY_SUFFIXES)}"
            aliases = {f"{stem} {rng.choice(names.ENTITY_SUFFIXES)}" for _ in range(rng.randint(0, 2))}
        key = name.lower()
        if key in seen:
            continue
        seen.add(key)
        aliases.discard(name)
        entry = {
            "id": f"bench-{len(out) + 1}",
            "name": name,
            "type": kind,
            "aliases": sorted(aliases),
            "countries": rng.sample(names.CULTURE_COUNTRIES[culture], k=min(2, len(names.CULTURE_COUNTRIES[culture]))),
            "programs": [rng.choice(names.PROGRAMS)],
        }
        out.append(ListedName(entry, native))
    return out


def write_list(path: Path, listed: list[ListedName], seed: int) -> Path:
    """The list in the project's YAML form (rules/lists/blocked_persons.yaml), for `--sanctions`."""
    doc = {
        "kind": "blocked_persons",
        "source": f"synthetic benchmark list, {len(listed)} entries, seed {seed}",
        "entries": [x.entry for x in listed],
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    return path


def _bic(rng: random.Random, country: str, taken: set[str]) -> str:
    while True:
        bic = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + country
        bic += rng.choice(string.ascii_uppercase) + rng.choice(string.ascii_uppercase + "23456789")
        # Q/X bank codes are avoided so a generated bank never takes a listed one's code.
        if bic not in taken and "Q" not in bic[:4]:
            taken.add(bic)
            return bic


def registry(seed: int, clean_accounts: int = 300) -> dict[str, Any]:
    """The sample registry (every rule has an account) plus clean_accounts certified foreign banks."""
    data: dict[str, Any] = yaml.safe_load(SAMPLE_REGISTRY.read_text(encoding="utf-8"))
    rng = random.Random(f"registry-{seed}")
    taken = {a["holder"]["bic"][:8] for a in data["accounts"]}
    for i in range(clean_accounts):
        country = rng.choice(names.CLEAN_COUNTRIES)
        bic = _bic(rng, country, taken)
        name = f"{names.word(rng, rng.randint(2, 3))} {rng.choice(names.BANK_SUFFIXES)}"
        data["accounts"].append(
            {
                "account_id": f"ACC-BENCH-{i + 1:04d}",
                "status": "open",
                "opened_on": f"{rng.randint(2005, 2022)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "holder": {"bic": bic, "name": name, "country": country, "license": "onshore"},
                "certified_on": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            }
        )
    return data


_CLEAN_CULTURES = (["latin"] * 5) + ["arabic", "persian", "russian", "korean", "chinese"]


def _clean_party(rng: random.Random) -> dict[str, Any]:
    """A customer: a company (generated name) or a person with a name from any culture."""
    if rng.random() < 0.55:
        syllables = rng.choice((names.SYLLABLES, names.CLEAN_SYLLABLES, names.CLEAN_SYLLABLES))
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()
        return {"name": f"{stem} {rng.choice(names.CLEAN_SUFFIXES)}", "country": rng.choice(names.CLEAN_COUNTRIES)}
    culture = rng.choice(_CLEAN_CULTURES)
    return {
        "name": names.person_name(rng, culture),
        "country": rng.choice(names.CLEAN_COUNTRIES + names.CULTURE_COUNTRIES[culture]),
    }


def _listed_form(rng: random.Random, listed: ListedName, other_script: bool) -> tuple[str, str | None]:
    """A name a payment might carry for a listed person: exact, an alias, a slip, upper case or
    (other_script) the person's own script."""
    entry = listed.entry
    if other_script and listed.native:
        return listed.native, rng.choice(entry["countries"])
    name = rng.choice([entry["name"], *entry["aliases"]])
    roll = rng.random()
    if roll < 0.25:
        name = names.typo(rng, name)
    elif roll < 0.4:
        name = name.upper()
    country = rng.choice(entry["countries"]) if rng.random() < 0.7 else None
    return name, country


@dataclass(frozen=True, slots=True)
class Generated:
    """One synthetic payment and the kind of traffic it stands for."""

    kind: str
    payment: dict[str, Any]


# The bank's counterparties: a population that recurs with a Zipf-like frequency (a few pay and
# are paid often, most rarely), plus a share of names seen once. Real payment traffic repeats its
# parties; a screener that caches per name benefits, and the one-off share keeps it honest.
CUSTOMERS = 20_000
ONE_OFF_SHARE = 0.2
_ZIPF = 1.0


def customers(seed: int, size: int = CUSTOMERS) -> tuple[list[dict[str, Any]], list[float]]:
    """The counterparty population and its cumulative draw weights."""
    rng = random.Random(f"customers-{seed}")
    population = [_clean_party(rng) for _ in range(size)]
    cumulative: list[float] = []
    total = 0.0
    for rank in range(1, size + 1):
        total += 1 / rank**_ZIPF
        cumulative.append(total)
    return population, cumulative


def payments(
    count: int,
    seed: int,
    listed: list[ListedName],
    registry_data: dict[str, Any],
    run: int = 0,
    one_off: float = ONE_OFF_SHARE,
) -> Iterator[Generated]:
    """count payments: mostly clean traffic, a few percent of each kind in MIX. Runs with the same
    seed share the counterparty population; `run` draws a different sequence with other ids;
    one_off is the share of parties drawn fresh rather than from the population."""
    rng = random.Random(f"payments-{seed}-{run}")
    population, cumulative = customers(seed)

    def party() -> dict[str, Any]:
        if rng.random() < one_off:
            return _clean_party(rng)
        return dict(rng.choices(population, cum_weights=cumulative)[0])

    clean = [a for a in registry_data["accounts"] if a["account_id"].startswith("ACC-BENCH-")]
    kinds, weights = list(MIX), list(MIX.values())
    for i in range(count):
        roll = rng.random()
        kind = "clean"
        acc = 0.0
        for k, w in zip(kinds, weights, strict=True):
            acc += w
            if roll < acc:
                kind = k
                break
        account = rng.choice(clean)
        holder = account["holder"]
        counter = rng.choice(clean)["holder"]
        outbound = rng.random() < 0.5
        p: dict[str, Any] = {
            "payment_id": f"BENCH-{seed}-{run}-{i:08d}",
            # Customer transfers: the parties are customers (in a pacs.009 or MT202 they are banks).
            "message_type": rng.choice(["pacs.008", "pacs.008", "MT103", "pacs.008"]),
            "direction": "outbound" if outbound else "inbound",
            "amount": f"{rng.randint(100, 5_000_000)}.{rng.randint(0, 99):02d}",
            "currency": "USD",
            "debtor": party(),
            "creditor": party(),
            "debtor_agent": {"bic": holder["bic"], "name": holder["name"]},
            "creditor_agent": {"bic": counter["bic"]},
            "remittance_information": [f"Invoice {rng.randint(1000, 99999)}"],
            "created_at": (BASE_DAY + timedelta(seconds=rng.randint(0, 6 * 3600))).isoformat().replace("+00:00", "Z"),
            "correspondent_account_id": account["account_id"],
        }
        if kind in ("blocked_party", "blocked_party_other_script"):
            pool = [x for x in listed if x.native] if kind == "blocked_party_other_script" else listed
            person = rng.choice(pool or listed)
            name, country = _listed_form(rng, person, kind == "blocked_party_other_script")
            p[rng.choice(["debtor", "creditor"])] = {"name": name} | ({"country": country} if country else {})
        elif kind == "remittance_mention":
            p["remittance_information"] = [f"Goods for {rng.choice(listed).entry['name']} per contract"]
        elif kind in ("special_measure_account", "account_rule", "termination", "review_account"):
            p["correspondent_account_id"] = rng.choice(_RULE_ACCOUNTS[kind])
        elif kind == "covered_intermediary":
            p["intermediary_agents"] = [dict(rng.choice(_COVERED_AGENTS))]
        elif kind == "look_alike_agent":
            p["intermediary_agents"] = [dict(rng.choice(_LOOK_ALIKE_AGENTS))]
        elif kind == "unknown_account":
            p["correspondent_account_id"] = f"ACC-UNKNOWN-{rng.randint(1, 999):03d}"
        yield Generated(kind, p)
