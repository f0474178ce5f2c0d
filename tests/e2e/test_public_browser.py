"""The public page in a real browser: Debian's chromium driven by Selenium (chromium-driver).

The audit service runs in-process under uvicorn on a free port against a real nats-server;
a seeded scenario's events (with a hand-over whose receipt code we know) go onto the
stream. The browser then reads the page's figures, switches language, checks a receipt
(the page's own JavaScript verifies the proof with WebCrypto) and a wrong code, and at
390 px wide the page does not scroll sideways. Screenshots go to artifacts/ (git-ignored).

Without chromium this test skips, except in CI (BANSOS_REQUIRE_POSTGRES=1), where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.audit.service import SERVICE
from services.audit.settings import AuditSettings
from shared.pii import commitments
from tests.audit.public_scenario import Scenario
from tests.audit.service import publish
from tests.helpers import NatsServer, eventually

CODE = "BT-7K3M-9QXP-4D2A"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "public-page"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
REQUIRED = os.environ.get("BANSOS_REQUIRE_POSTGRES") == "1"  # CI: a missing browser fails


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def served(tmp_path: Path, nats_url: str) -> AsyncIterator[str]:
    settings = AuditSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        nats_url=nats_url,
        audit_data_dir=tmp_path / "audit",
        checkpoint_interval_s=0.05,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(SERVICE.app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, within=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        message = (
            "chromium and chromium-driver are needed: apt-get install chromium chromium-driver"
        )
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1200, 1000)
    try:
        yield driver
    finally:
        driver.quit()


def run_in_browser(driver: Any, url: str, size: int) -> dict[str, Any]:
    """Every browser step (blocking: it runs in a thread while the app serves)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(driver, 20)
    found: dict[str, Any] = {}

    driver.get(f"{url}/?lang=id")
    found["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    found["total"] = driver.find_element(By.ID, "total-allocated").text
    found["size"] = driver.find_element(By.ID, "ledger-size").text
    found["rw03"] = driver.find_element(By.CSS_SELECTOR, "#rw-03 [data-field=allocated]").text
    found["rw04"] = driver.find_element(By.CSS_SELECTOR, "#rw-04 [data-field=allocated]").text
    driver.save_screenshot(str(ARTIFACTS / "page-id.png"))

    driver.find_element(By.ID, "lang-switch").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    found["english"] = driver.find_element(By.TAG_NAME, "h1").text
    found["total_en"] = driver.find_element(By.ID, "total-allocated").text
    driver.save_screenshot(str(ARTIFACTS / "page-en.png"))

    driver.get(f"{url}/cek?lang=id")
    driver.find_element(By.ID, "code").send_keys(CODE.lower())
    driver.find_element(By.CSS_SELECTOR, "#cek-form button").click()
    status = wait.until(
        seen.presence_of_element_located((By.CSS_SELECTOR, "#cek-status[data-verified]"))
    )
    found["verified"] = status.get_attribute("data-verified")
    found["verified_text"] = status.text
    found["place"] = driver.find_element(By.CSS_SELECTOR, "#cek-result [data-field=place]").text
    driver.save_screenshot(str(ARTIFACTS / "cek-verified.png"))

    code = driver.find_element(By.ID, "code")
    code.clear()
    code.send_keys("BT-2222-3333-4444")
    driver.find_element(By.CSS_SELECTOR, "#cek-form button").click()
    wait.until(lambda d: "tidak ditemukan" in d.find_element(By.ID, "cek-result").text)
    found["wrong"] = driver.find_element(By.ID, "cek-status").get_attribute("data-verified")
    driver.save_screenshot(str(ARTIFACTS / "cek-wrong.png"))

    # A phone: 390 CSS px wide. The window's inner width is set through the DevTools
    # protocol, so the page is laid out exactly as on a 390-px screen.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    widths = {}
    for path in ("/", "/jadwal", "/cek"):
        driver.get(f"{url}{path}")
        widths[path] = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        name = path.strip("/") or "page"
        driver.save_screenshot(str(ARTIFACTS / f"phone-{name}.png"))
    found["widths"] = widths
    # The verified result on the phone: labels keep a readable width beside long hashes.
    driver.find_element(By.ID, "code").send_keys(CODE.lower())
    driver.find_element(By.CSS_SELECTOR, "#cek-form button").click()
    wait.until(
        seen.presence_of_element_located((By.CSS_SELECTOR, '#cek-status[data-verified="true"]'))
    )
    found["label_widths"] = driver.execute_script(
        "return [...document.querySelectorAll('#cek-result dt')]"
        ".map(e => e.getBoundingClientRect().width)"
    )
    driver.save_screenshot(str(ARTIFACTS / "phone-cek-verified.png"))
    return found


async def test_the_public_page_in_a_real_browser(
    browser: Any, tmp_path: Path, nats_server: NatsServer
) -> None:
    async with served(tmp_path, nats_server.url) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            settings = AuditSettings()
            scenario = Scenario(CODE, commitments(settings))
            events = scenario.events()
            await publish(nats_server.url, *events)

            async def signed() -> bool:
                reply = await client.get("/ledger/checkpoint.json")
                return reply.status_code == 200 and reply.json()["tree_size"] >= len(events)

            await eventually(signed, within=30)
        found = await asyncio.to_thread(run_in_browser, browser, url, 390)
    assert found["lang"] == "id"
    assert found["total"] == "Rp 2.400.000" and found["total_en"] == "IDR 2,400,000"
    assert found["size"] == str(len(events))
    assert (found["rw03"], found["rw04"]) == ("6", "<5")
    assert found["english"] == "Tanjung Barat social assistance: transparency"
    assert found["verified"] == "true", found["verified_text"]
    assert found["place"] == "Balai warga RW 03"
    assert found["wrong"] == "false"
    for path, (scroll_width, inner) in found["widths"].items():
        assert inner == 390 and scroll_width <= 390, (path, scroll_width)
    assert found["label_widths"] and min(found["label_widths"]) >= 80, found["label_widths"]
