"""Calendar arithmetic for the account rules: business days (1010.670(d)) and calendar periods
(1010.630(d): 30 and 90 calendar days, three years).

Holidays come from the `holidays` package (US federal holidays with their observed days),
computed once when the rules load so that the engine itself does no work it could share.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays

FIRST_YEAR = 1995
LAST_YEAR = 2100


def us_federal_holidays(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> frozenset[date]:
    """US federal holidays, including the weekday on which a weekend holiday is observed."""
    calendar = holidays.country_holidays("US", years=range(first, last + 1), observed=True)
    return frozenset(calendar.keys())


def is_business_day(day: date, closed: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in closed


def add_business_days(start: date, days: int, closed: frozenset[date]) -> date:
    """The date `days` business days after `start` (start itself is not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, closed):
            remaining -= 1
    return current


def add_years(start: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)
