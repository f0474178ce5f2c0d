"""NIK and KK rules as Dukcapil issues the numbers.

NIK: 16 digits = region (6, not all zero) + date of birth DDMMYY (40 added to the day
for women) + sequence (4, from 0001). KK: 16 digits with a region code likewise.
Each check returns the broken rule's code, or None.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

NIK_RULES = {
    "nik_format": "a NIK is exactly 16 digits",
    "nik_region": "NIK digits 1-6 are a region code and cannot be all zero",
    "nik_birth_date": "NIK digits 7-12 must encode the date of birth as DDMMYY "
    "(day + 40 for women)",
    "nik_sex": "NIK day of birth must be 1-31 for men and 41-71 for women",
    "nik_sequence": "NIK digits 13-16 are a sequence number starting at 0001",
    "kk_format": "a KK number is exactly 16 digits",
    "kk_region": "KK digits 1-6 are a region code and cannot be all zero",
}


def check_nik(nik: str, birth_date: date, sex: Literal["M", "F"]) -> str | None:
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return "nik_format"
    if nik[:6] == "000000":
        return "nik_region"
    if nik[12:] == "0000":
        return "nik_sequence"
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    women = day > 40
    if (sex == "F") != women:
        return "nik_sex"
    if (day - 40 if women else day) != birth_date.day:
        return "nik_birth_date"
    if month != birth_date.month or year != birth_date.year % 100:
        return "nik_birth_date"
    return None


def check_kk(kk: str) -> str | None:
    if len(kk) != 16 or not kk.isascii() or not kk.isdigit():
        return "kk_format"
    if kk[:6] == "000000":
        return "kk_region"
    return None


def masked(number: str) -> str:
    """`3174012345670001` -> `3174••••••••0001`, for the registry's own replies to its
    operators. Never on an event: with sex and birth year beside it, a masked NIK leaves a
    few hundred candidates (docs/architecture.md#personal-data)."""
    return number[:4] + "•" * (len(number) - 8) + number[-4:]


def make_nik(region: str, birth_date: date, sex: Literal["M", "F"], sequence: int) -> str:
    """A NIK that passes `check_nik` (for demo data and tests)."""
    day = birth_date.day + (40 if sex == "F" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{sequence:04d}"
