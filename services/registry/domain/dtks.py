"""A DTKS/DTSEN export, one row per person, read as the registry's registration forms.

Pure: no I/O. Headers are matched by name, ignoring case, spaces, dots, dashes and
underscores (`No. KK`, `NO_KK`, `no kk` are one column); values are normalised the way
field staff write them (`L`/`P`, `KEPALA KELUARGA`, `12-03-1965`, RT `5`). What the values
then must satisfy is the registry's own rules (api/schemas.py), applied by the importer:
this module only says which cell is which field. services/registry/README.md lists it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# field -> the header names it is known by (normalised: lower case, letters and digits)
HEADERS: dict[str, tuple[str, ...]] = {
    "kk_number": ("nokk", "nomorkk", "kk", "nokartukeluarga", "nomorkartukeluarga"),
    "nik": ("nik", "noktp", "nomorinduk", "nomorindukkependudukan"),
    "full_name": ("nama", "namalengkap", "namaart", "namaanggota"),
    "relationship": ("hubkeluarga", "hubungan", "hubungankeluarga", "hubkel", "shdk"),
    "birth_date": ("tgllahir", "tanggallahir", "tgl_lahir"),
    "sex": ("jeniskelamin", "jk", "kelamin", "jnskel"),
    "address": ("alamat",),
    "rt": ("rt",),
    "rw": ("rw",),
    "desil": ("desil", "desilkesejahteraan", "peringkatdesil"),
    "dtks_ref": ("iddtks", "iddtsen", "idkeluarga"),
    "monthly_income_idr": ("penghasilan", "pendapatan", "penghasilanbulanan"),
    "phone": ("nohp", "telepon", "notelp", "hp"),
    "disabled": ("disabilitas", "penyandangdisabilitas", "difabel"),
}
REQUIRED = ("kk_number", "nik", "full_name", "relationship", "birth_date", "sex", "rt", "rw")

# DTKS writes the relationship to the head in words or as the BPS code 1-9.
RELATIONSHIPS = {
    "kepalakeluarga": "head",
    "kepalarumahtangga": "head",
    "kepala": "head",
    "1": "head",
    "istri": "spouse",
    "suami": "spouse",
    "istrisuami": "spouse",
    "suamiistri": "spouse",
    "2": "spouse",
    "anak": "child",
    "anakkandung": "child",
    "anakangkat": "child",
    "anaktiri": "child",
    "3": "child",
    "menantu": "other_relative",
    "4": "other_relative",
    "cucu": "grandchild",
    "5": "grandchild",
    "orangtua": "parent",
    "mertua": "parent",
    "orangtuamertua": "parent",
    "6": "parent",
    "famililain": "other_relative",
    "saudara": "other_relative",
    "7": "other_relative",
    "pembantu": "other",
    "pembanturumahtangga": "other",
    "8": "other",
    "lainnya": "other",
    "9": "other",
}
SEXES = {
    "l": "M",
    "lakilaki": "M",
    "pria": "M",
    "1": "M",
    "m": "M",
    "p": "F",
    "perempuan": "F",
    "wanita": "F",
    "2": "F",
    "f": "F",
}
YES = {"ya", "y", "1", "true", "ada"}
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
_DATE = re.compile(r"(\d{4}|\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{1,2})")


def normal(header: str) -> str:
    """`No. KK` -> `nokk`: the key headers are matched by."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


@dataclass(frozen=True)
class Columns:
    """Which column of the file holds each field, by position, and its header as written
    (the error report names the column as the file does)."""

    index: Mapping[str, int]
    header: Mapping[str, str]

    def name(self, field: str) -> str:
        return self.header.get(field, field)


class HeaderError(ValueError):
    """The file's first row does not name the required columns."""


def columns(headers: Sequence[Any]) -> Columns:
    known = {alias.replace("_", ""): field for field, names in HEADERS.items() for alias in names}
    index: dict[str, int] = {}
    header: dict[str, str] = {}
    for i, raw in enumerate(headers):
        text = "" if raw is None else str(raw).strip()
        field = known.get(normal(text))
        if field is not None and field not in index:
            index[field], header[field] = i, text
    missing = [HEADERS[f][0].upper() for f in REQUIRED if f not in index]
    if missing:
        raise HeaderError(f"the first row names no column for {', '.join(missing)}")
    return Columns(index, header)


def cell(row: Sequence[Any], columns: Columns, field: str) -> Any:
    i = columns.index.get(field)
    if i is None or i >= len(row):
        return None
    value = row[i]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _digits(value: Any) -> str | None:
    """A number as digits: spreadsheets turn `005` into 5 and a NIK into 3.17e15."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lstrip("'")  # a leading ' keeps a spreadsheet from converting


def _birth_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date) or value is None:
        return value
    text = str(value).strip()
    # The formats of DATE_FORMATS read by hand: strptime costs ~50 µs a row at city scale.
    if (found := _DATE.fullmatch(text)) is not None:
        first, second, third = found.group(1, 3, 4)
        year, day = (first, third) if len(first) == 4 else (third, first)
        if found.group(2) in "-/." and (len(first) == 4) != (len(third) == 4):
            with contextlib.suppress(ValueError):
                return date(int(year), int(second), int(day))
    return text  # the registry's date rule names what is wrong with it


def _padded(value: Any, width: int) -> str | None:
    text = _digits(value)
    if text is not None and text.isdigit() and len(text) < width:
        return text.zfill(width)
    return text


def relationship(row: Sequence[Any], cols: Columns) -> Any:
    """The relationship to the head as the registry names it (`head`, ...), else as written."""
    written = cell(row, cols, "relationship")
    return RELATIONSHIPS.get(normal(str(written)), written) if written is not None else None


def person(row: Sequence[Any], cols: Columns) -> dict[str, Any]:
    """The member of a registration form (MemberIn), as far as the row says."""
    sex = cell(row, cols, "sex")
    disabled = cell(row, cols, "disabled")
    return {
        "full_name": cell(row, cols, "full_name"),
        "nik": _digits(cell(row, cols, "nik")),
        "birth_date": _birth_date(cell(row, cols, "birth_date")),
        "sex": SEXES.get(normal(str(sex)), sex) if sex is not None else None,
        "relationship": relationship(row, cols),
        "disabled": disabled is not None and normal(str(disabled)) in YES,
    }


def household(row: Sequence[Any], cols: Columns) -> dict[str, Any]:
    """The household fields of a registration form (HouseholdIn), from one row."""
    income = _digits(cell(row, cols, "monthly_income_idr"))
    desil = _digits(cell(row, cols, "desil"))
    return {
        "kk_number": _digits(cell(row, cols, "kk_number")),
        "rt": _padded(cell(row, cols, "rt"), 3),
        "rw": _padded(cell(row, cols, "rw"), 2),
        "address": cell(row, cols, "address"),
        "phone": _digits(cell(row, cols, "phone")),
        "monthly_income_idr": income if income is not None else 0,
        "desil": desil,
        "dtks_ref": _digits(cell(row, cols, "dtks_ref")),
    }
