"""Reading a DTKS export (CSV or XLSX, one row per person) for the import: its format, its
rows streamed and numbered as a spreadsheet numbers them, its header, and batches of rows
that never split a household (the rows of one No. KK)."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.registry.domain import dtks

Row = tuple[int, list[Any]]  # (row number in the file, header = 1; the cells)


class FileRefused(ValueError):
    """The file cannot be read as a DTKS list (its format or its header)."""


def file_format(filename: str, head: bytes) -> str:
    if head.startswith(b"PK") or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def records(path: Path, fmt: str) -> Iterator[Row]:
    """The file's non-empty rows, streamed, numbered as a spreadsheet numbers them."""
    try:
        yield from _records(path, fmt)
    except OSError as exc:  # the file, not the database: the job cannot go on
        raise FileRefused(f"cannot read the file: {exc}") from exc


def _records(path: Path, fmt: str) -> Iterator[Row]:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileRefused(f"not a readable XLSX file: {exc}") from exc
        try:
            for number, values in enumerate(book.active.iter_rows(values_only=True), start=1):
                if any(v not in (None, "") for v in values):
                    yield number, list(values)
        finally:
            book.close()
        return
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as text:
        sample = text.read(8192)
        text.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:
            for number, cells in enumerate(csv.reader(text, dialect), start=1):
                if any(c.strip() for c in cells):
                    yield number, cells
        except csv.Error as exc:  # a NUL byte, say: no CSV a spreadsheet wrote
            raise FileRefused(f"not a readable CSV file: {exc}") from exc


def header(path: Path, fmt: str) -> dtks.Columns:
    for _, cells in records(path, fmt):
        try:
            return dtks.columns(cells)
        except dtks.HeaderError as exc:
            raise FileRefused(str(exc)) from exc
    raise FileRefused("the file has no rows")


def count_rows(path: Path, fmt: str) -> int:
    return max(0, sum(1 for _ in records(path, fmt)) - 1)


def batches(rows: Iterator[Row], cols: dtks.Columns, after: int, size: int) -> Iterator[list[Row]]:
    """Rows after the cursor `after`, `size` at a time, a household's run of rows kept in
    one batch (up to four batches' worth)."""
    batch: list[Row] = []
    last: Any = object()
    for number, cells in rows:
        if number <= after or number == 1:
            continue
        kk = dtks.cell(cells, cols, "kk_number")
        if batch and len(batch) >= size and (kk != last or len(batch) >= 4 * size):
            yield batch
            batch = []
        batch.append((number, cells))
        last = kk
    if batch:
        yield batch
