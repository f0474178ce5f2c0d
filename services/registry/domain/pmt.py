"""Proxy-means test (PMT): a 0-100 welfare score from the field survey; lower is poorer.

The formula is documented in services/registry/README.md; change FORMULA_VERSION with it,
since every survey_recorded event names the version that scored it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMULA_VERSION = "pmt-2026.1"

Floor = Literal["earth", "bamboo_wood", "cement", "ceramic"]
Wall = Literal["bamboo_wood", "unplastered_brick", "plastered_brick"]
Water = Literal["unprotected", "well", "piped", "refill_bottled"]
Sanitation = Literal["none", "shared", "private"]
Electricity = Literal["none", "450VA", "900VA", "1300VA_plus"]
Fuel = Literal["wood_kerosene", "lpg_3kg", "lpg_large_or_electric"]


class SurveyAnswers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    monthly_income_idr: int = Field(ge=0, le=1_000_000_000)
    household_size: int = Field(ge=1, le=30)
    floor_area_m2: int = Field(ge=1, le=2000)
    floor: Floor
    wall: Wall
    water: Water
    sanitation: Sanitation
    electricity: Electricity
    cooking_fuel: Fuel
    owns_motorcycle: bool = False
    owns_refrigerator: bool = False
    owns_car: bool = False
    has_savings_or_gold: bool = False


POINTS = {
    "floor": {"earth": 0, "bamboo_wood": 3, "cement": 6, "ceramic": 10},
    "wall": {"bamboo_wood": 0, "unplastered_brick": 2, "plastered_brick": 5},
    "water": {"unprotected": 0, "well": 2, "piped": 4, "refill_bottled": 5},
    "sanitation": {"none": 0, "shared": 2, "private": 5},
    "electricity": {"none": 0, "450VA": 2, "900VA": 5, "1300VA_plus": 10},
    "cooking_fuel": {"wood_kerosene": 0, "lpg_3kg": 3, "lpg_large_or_electric": 5},
}
ASSETS = {"owns_motorcycle": 3, "owns_refrigerator": 2, "owns_car": 10, "has_savings_or_gold": 5}
INCOME_CAP_IDR = 3_000_000  # per capita per month at which income scores full marks
AREA_CAP_M2 = 20  # floor area per person at which housing space scores full marks


def pmt_score(a: SurveyAnswers) -> int:
    per_capita = a.monthly_income_idr / a.household_size
    income = 30 * min(1.0, per_capita / INCOME_CAP_IDR)
    space = 15 * min(1.0, a.floor_area_m2 / a.household_size / AREA_CAP_M2)
    housing = sum(POINTS[name][getattr(a, name)] for name in POINTS)
    assets = min(15, sum(pts for name, pts in ASSETS.items() if getattr(a, name)))
    return round(income + space + housing + assets)
