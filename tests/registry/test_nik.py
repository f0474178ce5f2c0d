"""NIK and KK rules, table-driven (Dukcapil's layout)."""

from datetime import date

import pytest

from services.registry.domain.nik import check_kk, check_nik, make_nik

BORN = date(1965, 3, 12)


@pytest.mark.parametrize(
    ("nik", "birth_date", "sex", "broken_rule"),
    [
        ("3174091203650001", BORN, "M", None),
        ("3174095203650001", BORN, "F", None),  # women: day + 40
        ("3174090101000007", date(2000, 1, 1), "M", None),  # year 2000 encodes as 00
        ("317409120365001", BORN, "M", "nik_format"),  # 15 digits
        ("31740912036500011", BORN, "M", "nik_format"),  # 17 digits
        ("31740912036500a1", BORN, "M", "nik_format"),
        ("３１７４０９１２０３６５０００１", BORN, "M", "nik_format"),  # full-width digits
        ("0000001203650001", BORN, "M", "nik_region"),
        ("3174091203650000", BORN, "M", "nik_sequence"),
        ("3174091303650001", BORN, "M", "nik_birth_date"),  # day differs
        ("3174091204650001", BORN, "M", "nik_birth_date"),  # month differs
        ("3174091203660001", BORN, "M", "nik_birth_date"),  # year differs
        ("3174091203650001", BORN, "F", "nik_sex"),  # a woman's NIK has day + 40
        ("3174095203650001", BORN, "M", "nik_sex"),
        ("3174095303650001", BORN, "F", "nik_birth_date"),  # 53 - 40 = 13, not 12
    ],
)
def test_nik_rules(nik: str, birth_date: date, sex: str, broken_rule: str | None) -> None:
    assert check_nik(nik, birth_date, sex) == broken_rule  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kk", "broken_rule"),
    [
        ("3174090101090001", None),
        ("317409010109000", "kk_format"),
        ("317409010109000x", "kk_format"),
        ("0000000101090001", "kk_region"),
    ],
)
def test_kk_rules(kk: str, broken_rule: str | None) -> None:
    assert check_kk(kk) == broken_rule


@pytest.mark.parametrize("sex", ["M", "F"])
def test_generated_niks_pass_the_rules(sex: str) -> None:
    for day in (1, 15, 28, 31):
        born = date(1990, 1, day)
        assert check_nik(make_nik("317409", born, sex, 42), born, sex) is None  # type: ignore[arg-type]
