"""Demo data for the registry: households of Tanjung Barat registered, surveyed, decided."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx

from services.registry.domain.nik import make_nik
from shared.auth import Role
from shared.demo import DemoContext, ok

REGION = "317409"  # Kota Jakarta Selatan, Kecamatan Jagakarsa
MALE = [
    "Budi",
    "Agus",
    "Slamet",
    "Joko",
    "Ahmad",
    "Hendra",
    "Rudi",
    "Bambang",
    "Yusuf",
    "Dedi",
    "Rahmat",
    "Eko",
    "Fajar",
    "Irfan",
    "Sutrisno",
    "Wahyu",
    "Hasan",
    "Rizky",
]
FEMALE = [
    "Siti",
    "Sri",
    "Dewi",
    "Nur",
    "Ani",
    "Wati",
    "Rina",
    "Yuni",
    "Lestari",
    "Fitri",
    "Aisyah",
    "Ratna",
    "Endang",
    "Sumiati",
    "Maya",
    "Indah",
    "Putri",
    "Nurhayati",
]
FAMILY = [
    "Santoso",
    "Hidayat",
    "Saputra",
    "Wijaya",
    "Kurniawan",
    "Setiawan",
    "Rahman",
    "Siregar",
    "Nasution",
    "Lubis",
    "Pratama",
    "Gunawan",
    "Susanto",
    "Hakim",
    "Rosyid",
]
STREETS = [
    "Jl. Tanjung Barat Raya",
    "Jl. Gardu",
    "Jl. Lenteng Agung Timur",
    "Gg. Masjid",
    "Jl. Kebagusan",
    "Gg. Haji Dilun",
    "Jl. Raya Tanjung Barat",
    "Jl. Melati",
]


def _birth(rng: random.Random, age: int) -> date:
    return date.today() - timedelta(days=age * 365 + rng.randint(1, 360))


def _person(
    rng: random.Random, age: int, sex: str, relationship: str, family: str
) -> dict[str, Any]:
    born = _birth(rng, age)
    first = rng.choice(MALE if sex == "M" else FEMALE)
    return {
        "full_name": f"{first} {family}",
        "birth_date": born.isoformat(),
        "sex": sex,
        "nik": make_nik(REGION, born, sex, rng.randint(1, 9999)),  # type: ignore[arg-type]
        "relationship": relationship,
        "disabled": rng.random() < 0.06,
    }


def household(rng: random.Random, rw: str) -> dict[str, Any]:
    family = rng.choice(FAMILY)
    head_sex = "M" if rng.random() < 0.8 else "F"
    head_age = rng.choice([rng.randint(25, 59)] * 3 + [rng.randint(60, 85)])
    people = [_person(rng, head_age, head_sex, "head", family)]
    if rng.random() < 0.75:
        people.append(
            _person(
                rng,
                max(20, head_age - rng.randint(0, 6)),
                "F" if head_sex == "M" else "M",
                "spouse",
                family,
            )
        )
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
        people.append(_person(rng, rng.randint(0, 22), rng.choice("MF"), "child", family))
    if rng.random() < 0.15:
        people.append(_person(rng, rng.randint(62, 90), rng.choice("MF"), "parent", family))
    issued = date(2009, 1, 1) + timedelta(days=rng.randint(0, 5000))
    income = int(rng.lognormvariate(15.1, 0.7)) // 50_000 * 50_000
    return {
        "kk_number": f"{REGION}{issued:%d%m%y}{rng.randint(1, 9999):04d}",
        "rt": f"{rng.randint(1, 12):03d}",
        "rw": rw,
        "address": f"{rng.choice(STREETS)} No. {rng.randint(1, 150)}",
        "phone": f"08{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.7 else None,
        "monthly_income_idr": income,
        "desil": rng.randint(1, 10) if rng.random() < 0.6 else None,
        "dtks_ref": f"DTKS-{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.5 else None,
        "members": people,
    }


def survey(rng: random.Random, hh: dict[str, Any]) -> dict[str, Any]:
    poor = hh["monthly_income_idr"] / len(hh["members"]) < 1_000_000
    return {
        "surveyed_on": (date.today() - timedelta(days=rng.randint(1, 60))).isoformat(),
        "monthly_income_idr": hh["monthly_income_idr"],
        "household_size": len(hh["members"]),
        "floor_area_m2": rng.randint(12, 45) if poor else rng.randint(30, 150),
        "floor": rng.choice(["earth", "bamboo_wood", "cement"] if poor else ["cement", "ceramic"]),
        "wall": rng.choice(["bamboo_wood", "unplastered_brick"] if poor else ["plastered_brick"]),
        "water": rng.choice(["well", "refill_bottled", "piped"]),
        "sanitation": rng.choice(["shared", "private"] if poor else ["private"]),
        "electricity": rng.choice(["450VA", "900VA"] if poor else ["900VA", "1300VA_plus"]),
        "cooking_fuel": "lpg_3kg" if poor else rng.choice(["lpg_3kg", "lpg_large_or_electric"]),
        "owns_motorcycle": rng.random() < (0.4 if poor else 0.8),
        "owns_refrigerator": rng.random() < (0.3 if poor else 0.9),
        "owns_car": not poor and rng.random() < 0.2,
        "has_savings_or_gold": not poor and rng.random() < 0.5,
    }


async def _one(client: httpx.AsyncClient, rng: random.Random, rw: str) -> dict[str, Any]:
    for _ in range(5):  # a random NIK may collide with an earlier demo run: draw again
        body = household(rng, rw)
        reply = await client.post("/households", json=body)
        if reply.status_code != 409:
            break
    ok(reply)
    created: dict[str, Any] = reply.json()
    hid = created["household_id"]
    if rng.random() < 0.85:
        ok(await client.post(f"/households/{hid}/surveys", json=survey(rng, body)))
    ok(await client.post(f"/households/{hid}/eligibility"))
    if rng.random() < 0.03:
        reason = rng.choice(["moved", "deceased"])
        ok(
            await client.post(
                f"/households/{hid}/deactivation", json={"reason": reason, "note": "field visit"}
            )
        )
    return created


async def seed(ctx: DemoContext) -> None:
    """Register the demo's households over every RW of the kelurahan (`made["households"]`,
    with their members' NIKs: the later seeders hand them aid and courses)."""
    rws = ctx.settings.rw_list
    with ctx.progress("registering households", ctx.households) as advance:
        async with ctx.client("registry", Role.registry_operator, timeout=30) as client:
            created = await register(client, ctx.households, rws, ctx.rng, advance)
    ctx.made["households"] = created
    ctx.report(f"registered {len(created)} households over RW {rws[0]}–{rws[-1]}")


async def register(
    client: httpx.AsyncClient,
    households: int,
    rws: list[str],
    rng: random.Random,
    advance: Any = None,
    concurrency: int = 8,
) -> list[dict[str, Any]]:
    """Register `households` spread over `rws`; returns the registered households."""
    created: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(concurrency)

    async def task(i: int) -> None:
        async with gate:
            created.append(await _one(client, rng, rws[i % len(rws)]))
            if advance is not None:
                advance()

    await asyncio.gather(*(task(i) for i in range(households)))
    return created
