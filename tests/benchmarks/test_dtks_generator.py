"""The synthetic DTKS file (benchmarks/dtks.py) is what the importer expects: the DTKS
headers, one household per ID_DTKS and NO_KK, a head each, and every NIK valid and unique."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime

from benchmarks.dtks import HEADER, REGIONS, NikSequences, write
from services.registry.domain.nik import check_kk, check_nik


def test_a_generated_file_has_valid_unique_niks_and_one_head_per_household() -> None:
    out = io.StringIO()
    written = write(out, 400, seed=3, rws=["01", "02"])
    out.seek(0)
    reader = csv.DictReader(out)
    assert tuple(reader.fieldnames or ()) == HEADER
    rows = list(reader)
    assert len(rows) == written > 400
    for row in rows:
        born = datetime.strptime(row["TGL_LAHIR"], "%d-%m-%Y").date()
        sex = {"L": "M", "P": "F"}[row["JENIS_KELAMIN"]]
        assert check_nik(row["NIK"], born, sex) is None, row
        assert check_kk(row["NO_KK"]) is None
        assert row["RW"] in {"01", "02"} and len(row["RT"]) == 3
    assert len({row["NIK"] for row in rows}) == len(rows)
    heads = Counter(row["ID_DTKS"] for row in rows if row["HUB_KELUARGA"] == "KEPALA KELUARGA")
    assert len(heads) == 400 and set(heads.values()) == {1}
    assert len({(row["ID_DTKS"], row["NO_KK"]) for row in rows}) == 400


def test_the_same_seed_gives_the_same_file() -> None:
    first, second = io.StringIO(), io.StringIO()
    write(first, 50, seed=9, rws=["01"])
    write(second, 50, seed=9, rws=["01"])
    assert first.getvalue() == second.getvalue()


def test_nik_sequences_move_to_the_next_region_after_9999() -> None:
    sequences = NikSequences()
    born = datetime(1990, 5, 17).date()
    niks = [sequences.nik(born, "F") for _ in range(10_001)]
    assert niks[0] == f"{REGIONS[0]}5705900001" and niks[9998].endswith("9999")
    assert niks[9999] == f"{REGIONS[1]}5705900001" and len(set(niks)) == len(niks)
