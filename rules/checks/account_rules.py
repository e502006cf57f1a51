"""Rules about the correspondent account a payment uses: 31 CFR 1010.610, 1010.630, 1010.670.

Why one file: a check per paragraph of the three sections, sharing _hit and _action; no seam worth a module.
"""

from __future__ import annotations

from datetime import timedelta

from rules.bic import try_parse_bic
from rules.business_days import add_business_days, add_years
from rules.checks.facts import Facts
from rules.decision import ACTIONS, Action, Hit
from rules.measure_files import RulesError
from rules.registry import Account


def _action(value: object) -> Action:
    """An action named in a rules file, checked rather than trusted."""
    for action in ACTIONS:
        if value == action:
            return action
    raise RulesError(f"unknown action {value!r}; expected one of {', '.join(ACTIONS)}")


def check_action(facts: Facts, section: str, check: str, setting: str = "action") -> Action:
    """The action the measure file gives a check (its `action`, or another action setting such as
    `closure_action`): the engine hard-codes none (one source of truth, `screener rules`)."""
    found = facts.rules.account_rules[section].checks[check]
    return _action(found.action if setting == "action" else found.setting(setting))


def _hit(facts: Facts, section: str, check: str, rule: str, action: Action, field: str, value: str, reason: str) -> Hit:
    citation = facts.rules.account_rules[section].cite(check)
    return Hit(rule, citation, action, field, value, "", 100.0, reason)


def unknown_account(facts: Facts) -> list[Hit]:
    """A payment naming an account the registry does not hold cannot be screened against it.

    1010.610(a)(1) requires determining whether each correspondent account is subject to
    enhanced due diligence; an unknown account is held for review, never passed silently.
    """
    account_id = facts.payment.correspondent_account_id
    if account_id is None or facts.account is not None:
        return []
    return [
        Hit(
            "unknown_account",
            facts.rules.account_rules["1010.610"].cite("unknown_account"),
            check_action(facts, "1010.610", "unknown_account"),
            "correspondent_account_id",
            account_id,
            "",
            100.0,
            f"Correspondent account {account_id!r} is not in the registry, so its holder and the "
            "account rules cannot be checked; confirm the account before release.",
        )
    ]


def shell_banks(facts: Facts, account: Account) -> list[Hit]:
    """1010.630(a)(1)(i)-(iii): no account for a foreign shell bank; none used to serve one."""
    hits: list[Hit] = []
    holder = account.holder
    if holder.shell_bank and not holder.regulated_affiliate:
        hits.append(
            _hit(
                facts,
                "1010.630",
                "shell_bank",
                "shell_bank",
                check_action(facts, "1010.630", "shell_bank"),
                "account.holder.shell_bank",
                "true",
                f"The account's holder {holder.name or holder.bic} is a foreign shell bank and not a regulated "
                "affiliate; 31 CFR 1010.630(a)(1)(i) forbids a correspondent account for it.",
            )
        )
    for i, nested in enumerate(account.nested_institutions):
        if nested.shell_bank and not nested.regulated_affiliate:
            hits.append(
                _hit(
                    facts,
                    "1010.630",
                    "nested_shell_bank",
                    "nested_shell_bank",
                    check_action(facts, "1010.630", "nested_shell_bank"),
                    f"account.nested_institutions[{i}].shell_bank",
                    nested.name or nested.bic or "",
                    f"The registry lists {nested.name or nested.bic}, a foreign shell bank, as using this account "
                    "through its holder; 31 CFR 1010.630(a)(1)(ii) requires steps to stop that indirect service.",
                )
            )
    return hits


def certification(facts: Facts, account: Account) -> list[Hit]:
    """1010.630(d)(1)-(2): a certification within 30 days of opening and every three years."""
    checks = facts.rules.account_rules["1010.630"].checks
    legacy = checks["legacy_certification"]
    opened = account.opened_on
    if opened is not None and opened <= legacy.setting("existing_on"):
        check, first_due = "legacy_certification", legacy.setting("first_due")
    else:
        check = "certification"
        grace = int(checks["certification"].setting("grace_days"))
        first_due = opened + timedelta(days=grace) if opened else None
    years = int(checks[check].setting("max_age_years"))
    day = facts.day
    cert = account.certified_on
    if cert is not None and cert <= day:
        lapses = add_years(cert, years)
        if day <= lapses:
            return []
        problem = (
            f"the latest certification, of {cert.isoformat()}, is more than {years} years old "
            f"(it lapsed after {lapses.isoformat()})"
        )
        field, value = "account.certified_on", cert.isoformat()
    else:
        if first_due is not None and day <= first_due:
            return []
        due = f"due by {first_due.isoformat()}" if first_due else "and the opening date is unknown"
        problem = f"no certification was obtained ({due})"
        field, value = (
            "account.certified_on",
            "null" if cert is None else f"{cert.isoformat()} (after the payment)",
        )
    return [_closing_or_block(facts, check, field, value, problem)]


def verification(facts: Facts, account: Account) -> list[Hit]:
    """1010.630(d)(3): verification not obtained within 90 days of undertaking it."""
    requested = account.verification_requested_on
    if requested is None or requested > facts.day:
        return []
    days = int(facts.rules.account_rules["1010.630"].checks["verification"].setting("days"))
    if (facts.day - requested).days <= days:
        return []
    problem = (
        f"verification of the certification was requested on {requested.isoformat()} and not "
        f"obtained within {days} calendar days"
    )
    return [
        _closing_or_block(facts, "verification", "account.verification_requested_on", requested.isoformat(), problem)
    ]


def _closing_or_block(facts: Facts, check: str, field: str, value: str, problem: str) -> Hit:
    """Block, unless the payment is a transaction necessary to close the account."""
    citation = facts.rules.account_rules["1010.630"].cite(check)
    rule = "verification_lapse" if check == "verification" else "no_certification"
    if facts.closing_account:
        return Hit(
            rule,
            citation,
            check_action(facts, "1010.630", check, "closure_action"),
            field,
            value,
            "",
            100.0,
            f"For this account {problem}; the payment is marked ACCOUNT_CLOSURE, a transaction "
            f"necessary to close the account, which {citation} still permits.",
        )
    return Hit(
        rule,
        citation,
        check_action(facts, "1010.630", check),
        field,
        value,
        "",
        100.0,
        f"For this account {problem}; {citation} permits no transaction through it other than "
        "those necessary to close it.",
    )


def termination_notice(facts: Facts, account: Account) -> list[Hit]:
    """1010.670(d): terminate not later than 10 business days after receiving the notice."""
    received = account.termination_notice_received_on
    if received is None or received > facts.day:
        return []
    check = facts.rules.account_rules["1010.670"].checks["termination_notice"]
    days = int(check.setting("business_days"))
    deadline = add_business_days(received, days, facts.rules.closed_days)
    citation = facts.rules.account_rules["1010.670"].cite("termination_notice")
    if facts.day <= deadline:
        action = _action(check.setting("within_action"))
        reason = (
            f"A termination notice was received on {received.isoformat()}; the relationship must end by "
            f"{deadline.isoformat()} ({days} business days, {citation}), so payments are held for review."
        )
    else:
        action = _action(check.setting("after_action"))
        reason = (
            f"A termination notice was received on {received.isoformat()} and the {days}-business-day "
            f"period of {citation} ended on {deadline.isoformat()}; the relationship must be terminated."
        )
    return [
        Hit(
            "termination_notice",
            citation,
            action,
            "account.termination_notice_received_on",
            received.isoformat(),
            "",
            100.0,
            reason,
        )
    ]


def _licence_country(account: Account) -> str | None:
    bic = try_parse_bic(account.holder.bic)
    return account.holder.country or (bic.country if bic else None)


def enhanced_due_diligence(facts: Facts, account: Account) -> list[Hit]:
    """1010.610(c): accounts of foreign banks that enhanced due diligence ((b)) applies to."""
    rules = facts.rules.account_rules["1010.610"]
    hits: list[Hit] = []
    holder = account.holder
    who = holder.name or holder.bic or account.account_id
    if holder.license == "offshore":
        hits.append(
            _hit(
                facts,
                "1010.610",
                "offshore_license",
                "enhanced_due_diligence",
                check_action(facts, "1010.610", "offshore_license"),
                "account.holder.license",
                "offshore",
                f"The holder {who} operates under an offshore banking license; "
                f"{rules.cite('offshore_license')} requires enhanced due diligence.",
            )
        )
    country = _licence_country(account)
    if country and country in rules.checks["fatf_call_for_action"].setting("jurisdictions"):
        hits.append(
            _hit(
                facts,
                "1010.610",
                "fatf_call_for_action",
                "enhanced_due_diligence",
                check_action(facts, "1010.610", "fatf_call_for_action"),
                "account.holder.country",
                country,
                f"The holder {who} is licensed in {country}, on the FATF call-for-action list; "
                f"{rules.cite('fatf_call_for_action')} requires enhanced due diligence.",
            )
        )
    if country and country in facts.rules.special_measure_jurisdictions():
        hits.append(
            _hit(
                facts,
                "1010.610",
                "special_measures_jurisdiction",
                "enhanced_due_diligence",
                check_action(facts, "1010.610", "special_measures_jurisdiction"),
                "account.holder.country",
                country,
                f"The holder {who} is licensed in {country}, a jurisdiction under special measures; "
                f"{rules.cite('special_measures_jurisdiction')} requires enhanced due diligence.",
            )
        )
    return hits


def account_status(facts: Facts, account: Account) -> list[Hit]:
    """A closed account carries nothing but a transaction necessary to close it; a closing one
    holds every other payment for review (1010.610(a)(3) controls; the closure language of
    1010.630(d)(1)-(3), 1010.651(b)(2)(ii)(A) and the like: "other than those necessary to close
    the account"). The actions are the measure file's."""
    if account.status == "open":
        return []
    check_name = "account_closed" if account.status == "closed" else "account_closing"
    check = facts.rules.account_rules["1010.610"].checks[check_name]
    citation = facts.rules.account_rules["1010.610"].cite(check_name)
    if facts.closing_account:
        action = _action(check.setting("closure_action"))
        reason = (
            f"The account is {account.status}; the payment is marked ACCOUNT_CLOSURE, a transaction necessary "
            f"to close it, which {citation} controls still permit."
        )
    else:
        action = _action(check.action)
        verb = "permits no transaction" if account.status == "closed" else "holds every transaction for review"
        reason = f"The account is {account.status}: {citation} {verb} through it other than one necessary to close it."
    return [Hit(check_name, citation, action, "account.status", account.status, "", 100.0, reason)]


def account_rule_hits(facts: Facts) -> list[Hit]:
    """Every account-level hit for the payment's correspondent account."""
    account = facts.account
    if account is None:
        return unknown_account(facts)
    return [
        *account_status(facts, account),
        *shell_banks(facts, account),
        *certification(facts, account),
        *verification(facts, account),
        *termination_notice(facts, account),
        *enhanced_due_diligence(facts, account),
    ]
