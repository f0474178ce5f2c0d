"""The programme's calendar: days as Jakarta names them (WIB, UTC+7 all year), whatever the
time zone of the server a service runs on, so that a rule about "today" agrees with the
day the public ledger shows for the same event."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

WIB_OFFSET = timedelta(hours=7)
JAKARTA = timezone(WIB_OFFSET, "WIB")


def today() -> date:
    return datetime.now(JAKARTA).date()


def day_of(moment: datetime) -> date:
    """The Jakarta day of an aware moment (17:00 UTC is already the next day in WIB)."""
    return moment.astimezone(JAKARTA).date()


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, on the same day of the month or the month's last
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
