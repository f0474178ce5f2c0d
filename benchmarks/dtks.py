"""A synthetic DTKS export: N households of Tanjung Barat-like people, one row per member,
in the columns a DTKS/DTSEN export names (the registry's importer maps them by header).

    ID_DTKS,NO_KK,NIK,NAMA,HUB_KELUARGA,TGL_LAHIR,JENIS_KELAMIN,ALAMAT,RT,RW,DESIL

Households come from services/registry/demo.py's generator (names, ages, relationships,
addresses, desil). Every NIK is valid as Dukcapil issues them (region, birth date with 40
added to a woman's day, sequence from 0001: `make_nik`) and unique in the file: the
sequence is the count of people already given that region, birth date and sex, kept in a
fixed table of counters (1.5 MB, whatever N), and the region moves to the next kecamatan of
Jakarta Selatan when a count would pass 9999. ID_DTKS and NO_KK are unique per household.
Rows are written as they are made: memory stays flat for a million households.

Run from the repository root:
    .venv/bin/python -m benchmarks.dtks --households 1000000 --out var/dtks-1m.csv [--seed 14]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import time
from array import array
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from services.registry import demo
from services.registry.domain.nik import make_nik

HEADER = (
    "ID_DTKS",
    "NO_KK",
    "NIK",
    "NAMA",
    "HUB_KELUARGA",
    "TGL_LAHIR",
    "JENIS_KELAMIN",
    "ALAMAT",
    "RT",
    "RW",
    "DESIL",
)
RELATIONSHIP = {
    "head": "KEPALA KELUARGA",
    "spouse": None,  # ISTRI or SUAMI, by sex
    "child": "ANAK",
    "parent": "ORANG TUA",
}
# Kecamatan of Kota Jakarta Selatan (3174xx): the first is the demo's (Jagakarsa).
REGIONS = [demo.REGION, *(f"3174{n:02d}" for n in range(1, 11) if f"3174{n:02d}" != demo.REGION)]


class NikSequences:
    """The next free sequence per (region, birth date, sex), in a fixed-size table."""

    def __init__(self) -> None:
        # region x two-digit year x month x (day, or day + 31 for women)
        self._next = array("H", bytes(2 * len(REGIONS) * 100 * 12 * 62))

    def nik(self, born: date, sex: str) -> str:
        day = born.day - 1 + (31 if sex == "F" else 0)
        for r, region in enumerate(REGIONS):
            slot = ((r * 100 + born.year % 100) * 12 + born.month - 1) * 62 + day
            if self._next[slot] < 9999:
                self._next[slot] += 1
                return make_nik(region, born, sex, self._next[slot])  # type: ignore[arg-type]
        raise OverflowError(f"more than {9999 * len(REGIONS)} people born {born}, sex {sex}")


def rows(households: int, seed: int, rws: list[str]) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    sequences = NikSequences()
    for i in range(households):
        hh = demo.household(rng, rws[i % len(rws)])
        dtks_id = f"{demo.REGION}{i:07d}"  # 13 digits, unique per household
        kk = f"{demo.REGION}{i:010d}"  # 16 digits, the region first
        desil = hh["desil"] if hh["desil"] is not None else ""
        for person in hh["members"]:
            born = date.fromisoformat(person["birth_date"])
            sex = person["sex"]
            relationship = RELATIONSHIP[person["relationship"]] or (
                "ISTRI" if sex == "F" else "SUAMI"
            )
            yield (
                dtks_id,
                kk,
                sequences.nik(born, sex),
                person["full_name"],
                relationship,
                f"{born:%d-%m-%Y}",
                "L" if sex == "M" else "P",
                hh["address"],
                hh["rt"],
                hh["rw"],
                desil,
            )


def write(out: IO[str], households: int, seed: int, rws: list[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    written = 0
    for row in rows(households, seed, rws):
        writer.writerow(row)
        written += 1
    return written


def synthetic_file(path: Path, households: int, rws: list[str], seed: int = 14) -> int:
    """The file the import benchmarks upload: `households` of the kelurahan's RWs."""
    with path.open("w", encoding="utf-8", newline="") as out:
        return write(out, households, seed, rws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="the CSV to write (stdout if not given)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--rws", default=",".join(f"{n:02d}" for n in range(1, 11)))
    args = parser.parse_args()
    rws = args.rws.split(",")
    started = time.perf_counter()
    if args.out is None:
        written = write(sys.stdout, args.households, args.seed, rws)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", newline="") as out:
            written = write(out, args.households, args.seed, rws)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.households} households, {written} rows in {took:.1f} s "
        f"({args.households / took:.0f} households/s); peak RSS {peak:.0f} MiB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
