"""Seeded synthetic data for the benchmark: a blocked-persons list, a registry and a payment mix.

Everything is drawn from one `random.Random(seed)` per artefact, so the same seed gives the same
bytes on any machine. Names are built from pools of real-world given and family names (Latin,
Cyrillic, Hangul and Han script) and from generated words for companies, so that the traffic
shares common names with the list, as real traffic does, without copying any real designation.
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

SAMPLE_REGISTRY = Path(__file__).resolve().parent.parent / "samples" / "registry.yaml"

# (Latin form, form in the culture's own script or None): names from several cultures, shared by
# the list and the traffic, so that clean payments carry names that resemble listed ones.
_GIVEN: dict[str, list[Any]] = {
    "arabic": [
        "Mohammed",
        "Ahmed",
        "Ali",
        "Hassan",
        "Hussein",
        "Omar",
        "Khalid",
        "Yousef",
        "Ibrahim",
        "Abdullah",
        "Mahmoud",
        "Mustafa",
        "Saeed",
        "Tariq",
        "Walid",
        "Karim",
        "Nabil",
        "Rami",
        "Samir",
        "Faisal",
        "Hamza",
        "Adel",
        "Bilal",
        "Jamal",
        "Majid",
        "Nasser",
        "Qasim",
        "Rashid",
        "Salim",
        "Ziad",
    ],
    "persian": [
        "Reza",
        "Mehdi",
        "Hossein",
        "Ali Reza",
        "Mohsen",
        "Saeed",
        "Javad",
        "Hamid",
        "Amir",
        "Farhad",
        "Kourosh",
        "Dariush",
        "Behrouz",
        "Masoud",
        "Hadi",
        "Morteza",
        "Ehsan",
        "Babak",
        "Kamran",
        "Siavash",
    ],
    "russian": [
        ("Ivan", "Иван"),
        ("Sergei", "Сергей"),
        ("Dmitry", "Дмитрий"),
        ("Alexei", "Алексей"),
        ("Andrei", "Андрей"),
        ("Mikhail", "Михаил"),
        ("Nikolai", "Николай"),
        ("Vladimir", "Владимир"),
        ("Yuri", "Юрий"),
        ("Oleg", "Олег"),
        ("Pavel", "Павел"),
        ("Viktor", "Виктор"),
        ("Igor", "Игорь"),
        ("Boris", "Борис"),
        ("Anatoly", "Анатолий"),
        ("Olga", "Ольга"),
        ("Tatiana", "Татьяна"),
        ("Elena", "Елена"),
        ("Natalia", "Наталья"),
        ("Irina", "Ирина"),
    ],
    "korean": [],  # two syllables of _KOREAN_SYLLABLES
    "chinese": [],  # one or two characters of _CHINESE_CHARS
    "latin": [
        "Carlos",
        "Jose",
        "Luis",
        "Juan",
        "Miguel",
        "Pedro",
        "Jorge",
        "Diego",
        "Maria",
        "Ana",
        "Lucia",
        "Sofia",
        "John",
        "James",
        "Robert",
        "Michael",
        "David",
        "Peter",
        "Anna",
        "Laura",
        "Thomas",
        "Martin",
        "Paul",
        "Marc",
    ],
}
# A name of the pool: its Latin form, or (Latin form, form in the culture's own script).
NamePool = dict[str, list[Any]]
_FAMILY: NamePool = {
    "arabic": [
        "Al-Rashid",
        "Haddad",
        "Khoury",
        "Mansour",
        "Nasser",
        "Saleh",
        "Hamdan",
        "Aziz",
        "Barakat",
        "Darwish",
        "Farouk",
        "Habib",
        "Issa",
        "Jaber",
        "Kassem",
        "Madani",
        "Najjar",
        "Qureshi",
        "Rahman",
        "Sabbagh",
        "Shami",
        "Tamimi",
        "Yassin",
        "Zein",
        "Al-Masri",
        "Al-Hakim",
        "Bakri",
        "Ghanem",
        "Hijazi",
        "Khatib",
    ],
    "persian": [
        "Ahmadi",
        "Hosseini",
        "Rezaei",
        "Mohammadi",
        "Karimi",
        "Moradi",
        "Jafari",
        "Rahimi",
        "Ghasemi",
        "Sadeghi",
        "Shirazi",
        "Tehrani",
        "Esfahani",
        "Najafi",
        "Kazemi",
        "Mousavi",
        "Hashemi",
        "Bagheri",
        "Zarei",
        "Naderi",
    ],
    "russian": [
        ("Ivanov", "Иванов"),
        ("Petrov", "Петров"),
        ("Sidorov", "Сидоров"),
        ("Smirnov", "Смирнов"),
        ("Kuznetsov", "Кузнецов"),
        ("Popov", "Попов"),
        ("Sokolov", "Соколов"),
        ("Lebedev", "Лебедев"),
        ("Kozlov", "Козлов"),
        ("Novikov", "Новиков"),
        ("Morozov", "Морозов"),
        ("Volkov", "Волков"),
        ("Solovyov", "Соловьёв"),
        ("Vasiliev", "Васильев"),
        ("Zaitsev", "Зайцев"),
        ("Pavlov", "Павлов"),
        ("Semenov", "Семёнов"),
        ("Golubev", "Голубев"),
        ("Vinogradov", "Виноградов"),
        ("Bogdanov", "Богданов"),
    ],
    "korean": [
        ("Kim", "김"),
        ("Ri", "리"),
        ("Pak", "박"),
        ("Choe", "최"),
        ("Jong", "정"),
        ("Kang", "강"),
        ("Jo", "조"),
        ("Yun", "윤"),
        ("Jang", "장"),
        ("Han", "한"),
        ("O", "오"),
        ("So", "서"),
        ("Sin", "신"),
        ("Kwon", "권"),
    ],
    "chinese": [
        ("Wang", "王"),
        ("Li", "李"),
        ("Zhang", "张"),
        ("Liu", "刘"),
        ("Chen", "陈"),
        ("Yang", "杨"),
        ("Huang", "黄"),
        ("Zhao", "赵"),
        ("Wu", "吴"),
        ("Zhou", "周"),
        ("Xu", "徐"),
        ("Sun", "孙"),
        ("Ma", "马"),
        ("Zhu", "朱"),
        ("Hu", "胡"),
        ("Guo", "郭"),
        ("He", "何"),
        ("Gao", "高"),
        ("Lin", "林"),
        ("Luo", "罗"),
    ],
    "latin": [
        "Garcia",
        "Rodriguez",
        "Martinez",
        "Lopez",
        "Gonzalez",
        "Perez",
        "Sanchez",
        "Ramirez",
        "Torres",
        "Flores",
        "Smith",
        "Johnson",
        "Brown",
        "Miller",
        "Wilson",
        "Moore",
        "Taylor",
        "Anderson",
        "Thomas",
        "Jackson",
        "Muller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Hoffmann",
        "Rossi",
    ],
}
_KOREAN_SYLLABLES = [
    ("Chol", "철"),
    ("Min", "민"),
    ("Myong", "명"),
    ("Hui", "희"),
    ("Song", "성"),
    ("Il", "일"),
    ("Kwang", "광"),
    ("Ho", "호"),
    ("Yong", "용"),
    ("Su", "수"),
    ("Jong", "종"),
    ("Nam", "남"),
    ("Un", "은"),
    ("Hyok", "혁"),
    ("Chang", "창"),
    ("Tae", "태"),
    ("Ju", "주"),
    ("Hyon", "현"),
    ("Kyong", "경"),
    ("Ok", "옥"),
    ("Sun", "순"),
    ("Chun", "춘"),
    ("Hak", "학"),
    ("Gil", "길"),
    ("Mun", "문"),
    ("Hwa", "화"),
    ("Ryong", "룡"),
    ("Chan", "찬"),
    ("Bok", "복"),
    ("Dok", "덕"),
    ("Guk", "국"),
    ("Hun", "훈"),
    ("Jin", "진"),
    ("Kyu", "규"),
    ("Man", "만"),
    ("Pyo", "표"),
    ("Sok", "석"),
    ("Won", "원"),
    ("Yop", "엽"),
    ("Hyang", "향"),
]
_CHINESE_CHARS = [
    ("Wei", "伟"),
    ("Fang", "芳"),
    ("Min", "敏"),
    ("Jing", "静"),
    ("Lei", "磊"),
    ("Jun", "军"),
    ("Yang", "洋"),
    ("Yong", "勇"),
    ("Jie", "杰"),
    ("Tao", "涛"),
    ("Ming", "明"),
    ("Chao", "超"),
    ("Xiu", "秀"),
    ("Ying", "英"),
    ("Hai", "海"),
    ("Jian", "建"),
    ("Guo", "国"),
    ("Na", "娜"),
    ("Zhi", "志"),
    ("Qiang", "强"),
    ("Xiao", "小"),
    ("Hong", "红"),
    ("Hua", "华"),
    ("Ping", "平"),
    ("Gang", "刚"),
    ("Hui", "辉"),
    ("Bin", "斌"),
    ("Peng", "鹏"),
    ("Fei", "飞"),
    ("Yu", "宇"),
    ("Hao", "浩"),
    ("Kai", "凯"),
    ("Long", "龙"),
    ("Dong", "东"),
    ("Bo", "波"),
    ("Feng", "峰"),
    ("Rui", "瑞"),
    ("Xin", "欣"),
    ("Yan", "燕"),
    ("Qing", "青"),
]
_PATRONYMICS = [
    ("Ivanovich", "Иванович"),
    ("Sergeevich", "Сергеевич"),
    ("Petrovich", "Петрович"),
    ("Nikolaevich", "Николаевич"),
    ("Vladimirovich", "Владимирович"),
    ("Alexandrovich", "Александрович"),
    ("Mikhailovich", "Михайлович"),
    ("Viktorovich", "Викторович"),
    ("Borisovich", "Борисович"),
    ("Olegovich", "Олегович"),
    ("Yurievich", "Юрьевич"),
    ("Pavlovich", "Павлович"),
    ("Igorevich", "Игоревич"),
    ("Andreevich", "Андреевич"),
    ("Dmitrievich", "Дмитриевич"),
]
_CULTURE_COUNTRIES = {
    "arabic": ["AE", "SY", "LB", "IQ", "JO", "EG", "SA"],
    "persian": ["IR", "AE", "TR"],
    "russian": ["RU", "BY", "KZ", "CY"],
    "korean": ["KP", "CN", "RU"],
    "chinese": ["CN", "HK", "SG", "MY"],
    "latin": ["VE", "MX", "CO", "ES", "US", "DE", "PA"],
}
_SYLLABLES = [
    "ka",
    "ra",
    "zan",
    "mir",
    "vel",
    "to",
    "lon",
    "dar",
    "shan",
    "pet",
    "ro",
    "no",
    "va",
    "kor",
    "sun",
    "tek",
    "al",
    "mar",
    "sha",
    "bel",
    "tar",
    "ori",
    "en",
    "gas",
    "lux",
    "nov",
    "sib",
    "ur",
    "del",
    "ta",
    "hai",
    "yang",
    "kim",
    "ba",
    "nex",
    "ost",
    "qua",
    "fir",
    "gol",
    "ven",
    "ex",
    "stra",
    "pol",
    "mak",
    "ris",
    "sal",
    "ter",
    "om",
]
_ENTITY_SUFFIXES = [
    "Trading LLC",
    "Trading Co Ltd",
    "General Trading FZE",
    "Shipping Company",
    "Petrochemical Company",
    "Investment Holding Ltd",
    "Industrial Group",
    "Import Export Corp",
    "Logistics Ltd",
    "Technology Co Ltd",
    "Engineering JSC",
    "Mining Company",
    "Marine Services LLC",
    "Electronics Co",
    "Construction Group",
]
_CLEAN_SUFFIXES = [
    "GmbH",
    "Ltd",
    "Inc",
    "LLC",
    "SA",
    "SARL",
    "BV",
    "AB",
    "AS",
    "Pty Ltd",
    "Sdn Bhd",
    "SpA",
    "Oy",
    "KG",
    "Foods Inc",
    "Textiles Ltd",
    "Retail Group",
    "Software GmbH",
    "Furniture SA",
    "Pharma AG",
    "Motors Ltd",
]
_BANK_SUFFIXES = ["Bank AG", "Bank plc", "Bank SA", "Bank Ltd", "Banking Corporation", "Commercial Bank", "Bank NV"]
_CLEAN_COUNTRIES = ["DE", "FR", "GB", "NL", "CH", "JP", "SG", "AU", "CA", "IT", "ES", "SE", "NO", "BR", "MX", "IN"]
_PROGRAMS = ["SDGT", "IRAN", "DPRK3", "NPWMD", "RUSSIA-EO14024", "SYRIA", "CYBER2", "GLOMAG"]

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


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def _person_parts(rng: random.Random, culture: str, common: float) -> list[tuple[str, str | None]]:
    """A person's name as (Latin, native script or None) parts, in the culture's usual order;
    the family name is one of the common ones of the pool with probability `common`."""

    def pair(item: Any) -> tuple[str, str | None]:
        return (item[0], item[1]) if isinstance(item, tuple) else (str(item), None)

    if culture == "korean":
        a, b = rng.sample(_KOREAN_SYLLABLES, 2)
        return [pair(rng.choice(_FAMILY[culture])), (f"{a[0]} {b[0]}", a[1] + b[1])]
    if culture == "chinese":
        chars = rng.sample(_CHINESE_CHARS, rng.choice((1, 2, 2)))
        han: tuple[str, str | None] = ("".join(c[0] for c in chars).capitalize(), "".join(c[1] for c in chars))
        return [pair(rng.choice(_FAMILY[culture])), han]
    if culture == "russian":
        generated: tuple[str, str | None] = (_word(rng, 2) + rng.choice(("ov", "in", "enko")), None)
        family = pair(rng.choice(_FAMILY[culture])) if rng.random() < common else generated
        parts = [pair(rng.choice(_GIVEN[culture]))]
        if rng.random() < 0.6:
            parts.append(pair(rng.choice(_PATRONYMICS)))
        return [*parts, family]
    given = [pair(rng.choice(_GIVEN[culture]))]
    if culture in ("arabic", "persian") and rng.random() < 0.6:
        given.append(pair(rng.choice(_GIVEN[culture])))
    if rng.random() < common:
        family = pair(rng.choice(_FAMILY[culture]))
    else:
        stem = _word(rng, rng.randint(2, 3))
        family = (f"Al-{stem}" if culture == "arabic" and rng.random() < 0.4 else stem, None)
    return [*given, family]


def _person_name(rng: random.Random, culture: str) -> str:
    """A customer's name: mostly common family names."""
    return " ".join(latin for latin, _ in _person_parts(rng, culture, common=0.7))


@dataclass(frozen=True, slots=True)
class ListedName:
    """A synthetic listed person: its list entry and, for some, the name in its own script."""

    entry: dict[str, Any]
    native: str | None = None


def _typo(rng: random.Random, name: str) -> str:
    """One keyboard-style slip in a word of at least six letters (a doubled or dropped letter)."""
    words = name.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isascii() and w.isalpha()]
    if not long:
        return name
    i = rng.choice(long)
    w = words[i]
    pos = rng.randrange(2, len(w) - 1)
    words[i] = w[:pos] + w[pos + 1 :] if rng.random() < 0.5 else w[:pos] + w[pos] + w[pos:]
    return " ".join(words)


def _aliases(rng: random.Random, parts: list[tuple[str, str | None]]) -> set[str]:
    """Spelling variants a list gives for one person: family name first, a middle name dropped, a slip."""
    latin = [p for p, _ in parts]
    out: set[str] = set()
    if rng.random() < 0.35:
        out.add(" ".join([latin[-1], *latin[:-1]]))
    if len(latin) > 2 and rng.random() < 0.35:
        out.add(f"{latin[0]} {latin[-1]}")
    if rng.random() < 0.3:
        out.add(_typo(rng, " ".join(latin)))
    return out


def blocked_persons(count: int, seed: int) -> list[ListedName]:
    """count synthetic listed persons (about 45 percent individuals, the rest entities), with aliases."""
    rng = random.Random(f"list-{seed}")
    cultures = list(_GIVEN)
    out: list[ListedName] = []
    seen: set[str] = set()
    while len(out) < count:
        culture = rng.choice(cultures)
        native: str | None = None
        if rng.random() < 0.45:
            kind = "individual"
            # Listed people mostly have rarer family names than the customers; some share them.
            parts = _person_parts(rng, culture, common=0.03)
            name = " ".join(p for p, _ in parts)
            aliases = _aliases(rng, parts)
            if all(n for _, n in parts):
                native = ("" if culture in ("korean", "chinese") else " ").join(n or "" for _, n in parts)
        else:
            kind = "entity"
            stem = _word(rng, rng.randint(2, 3)) + (f" {_word(rng, 2)}" if rng.random() < 0.4 else "")
            name = f"{stem} {rng.choice(_ENTITY_SUFFIXES)}"
            aliases = {f"{stem} {rng.choice(_ENTITY_SUFFIXES)}" for _ in range(rng.randint(0, 2))}
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
            "countries": rng.sample(_CULTURE_COUNTRIES[culture], k=min(2, len(_CULTURE_COUNTRIES[culture]))),
            "programs": [rng.choice(_PROGRAMS)],
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
        country = rng.choice(_CLEAN_COUNTRIES)
        bic = _bic(rng, country, taken)
        name = f"{_word(rng, rng.randint(2, 3))} {rng.choice(_BANK_SUFFIXES)}"
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


_CLEAN_SYLLABLES = ["bern", "hol", "wer", "mont", "lin", "ber", "gar", "ston", "field", "brook", "dal", "ham"]
_CLEAN_CULTURES = (["latin"] * 5) + ["arabic", "persian", "russian", "korean", "chinese"]


def _clean_party(rng: random.Random) -> dict[str, Any]:
    """A customer: a company (generated name) or a person with a name from any culture."""
    if rng.random() < 0.55:
        syllables = rng.choice((_SYLLABLES, _CLEAN_SYLLABLES, _CLEAN_SYLLABLES))
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()
        return {"name": f"{stem} {rng.choice(_CLEAN_SUFFIXES)}", "country": rng.choice(_CLEAN_COUNTRIES)}
    culture = rng.choice(_CLEAN_CULTURES)
    return {"name": _person_name(rng, culture), "country": rng.choice(_CLEAN_COUNTRIES + _CULTURE_COUNTRIES[culture])}


def _listed_form(rng: random.Random, listed: ListedName, other_script: bool) -> tuple[str, str | None]:
    """A name a payment might carry for a listed person: exact, an alias, a slip, upper case or
    (other_script) the person's own script."""
    entry = listed.entry
    if other_script and listed.native:
        return listed.native, rng.choice(entry["countries"])
    name = rng.choice([entry["name"], *entry["aliases"]])
    roll = rng.random()
    if roll < 0.25:
        name = _typo(rng, name)
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
