"""The HTTP benchmarks' load generator (benchmarks/http_load.py, wrk with
benchmarks/wrk_bodies.lua) sends every body exactly once and counts every answer: a body
lost or sent twice would make a registrations/s figure wrong without anyone noticing.

Without wrk this test skips, except in CI (BANSOS_REQUIRE_POSTGRES=1), where it fails."""

from __future__ import annotations

import os
import shutil

import pytest

from benchmarks.http_load import post_each, trivial_service

REQUIRED = os.environ.get("BANSOS_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _wrk() -> None:
    if shutil.which("wrk") is None:
        message = "wrk is needed for the HTTP benchmarks: apt-get install wrk"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("threads", [1, 2])
def test_each_body_is_posted_once_and_counted(threads: int) -> None:
    bodies = [{"kk_number": f"{n:016d}", "rt": "001", "rw": "01", "members": []} for n in range(57)]
    bodies.append({"kk_number": "refused: no rt", "rw": "01", "members": []})
    with trivial_service() as url:
        load = post_each(
            url, "/households", bodies, "token", connections=4, threads=threads, max_seconds=30
        )
    assert (load.created, load.refused) == (57, 1)
    assert load.seconds > 0
