"""Legal forms (organisation types): words and spellings that say nothing about which institution
a name means, dropped from names before they are compared (rules/names.py).

31 CFR 1010.658 as published (80 FR 45062) expects screening to catch a funds transfer that
"lists FBME ... or otherwise references FBME": "FBME Bank Ltd" and "FBME Bank" are one name.
"""

from __future__ import annotations

from rigour.names import extract_org_types

# Legal-form words say nothing about which institution is meant.
LEGAL_FORMS = frozenset(
    {
        "ltd",
        "limited",
        "llc",
        "plc",
        "inc",
        "incorporated",
        "co",
        "company",
        "corp",
        "corporation",
        "sa",
        "sal",
        "sarl",
        "saog",
        "ag",
        "gmbh",
        "jsc",
        "pjsc",
        "ojsc",
        "cjsc",
        "oao",
        "zao",
        "ooo",
        "bhd",
        "berhad",
        "pte",
        "pty",
        "llp",
        "lp",
        "nv",
        "bv",
        "spa",
        "srl",
        "kg",
        "ab",
        "oy",
        "ltda",
        "limitada",
        "ca",
        "bsc",
        "qpsc",
        "psc",
        "kscp",
        "tbk",
        "as",
        "asa",
        "gfsi",
        "pt",
    }
)


def strip_legal_forms(text: str) -> str:
    """Remove legal forms that open or close a name, in any spelling rigour knows ("s.a. de
    c.v.", "sociedad anonima de capital variable"; "perseroan terbatas"). Two-letter forms
    without punctuation are left to LEGAL_FORMS: rigour's include syllables that are names
    ("yu", "ao"), and a form in the middle of a name is part of it ("OOO STG-EKO")."""
    for span, _ in extract_org_types(text):
        form = span.strip(" ,.;")
        if len(form) <= 2 and form.isalpha():
            continue
        body = text.strip(" ,.;:-")
        if body.endswith(form) and len(body) > len(form):
            text = body[: -len(form)]
        elif body.startswith(form) and len(body) > len(form):
            text = body[len(form) :]
    return text
