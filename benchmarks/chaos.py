"""Chaos: commands under load while NATS is killed three times and the audit service once.

Runs the whole stack as `bansos up` does (embedded NATS, every service on SQLite, the
launcher supervising), drives registrations, surveys and eligibility decisions from
several clients for `--seconds`, kills NATS at a quarter, half and three quarters of the
way and the audit service in between, then stops the load and waits for quiescence: every
accepted command's event on the stream, the ledger mirroring the stream. Prints commands
sent, accepted, lost (accepted, never on the stream), duplicated (an event or a
registration twice) and the time to quiescence after the last fault; exits 1 on any loss
or duplicate.

    .venv/bin/python -m benchmarks.chaos [--seconds 60] [--clients 6]   (make chaos)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import nats

from services.registry import demo
from shared.auth import Role, issue_token
from shared.events import Envelope
from shared.launcher import Stack, free_port
from shared.settings import CommonSettings

os.environ.setdefault("BANSOS_MODE", "development")


class Load:
    def __init__(self) -> None:
        self.sent = 0
        self.accepted: list[str] = []  # household ids whose registration got a 201
        self.answers: Counter[int] = Counter()
        self.unanswered = 0  # requests that got no answer at all
        self.stop = asyncio.Event()

    async def client(self, url: str, token: str, rng: random.Random) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
            while not self.stop.is_set():
                self.sent += 1
                try:
                    reply = await c.post("/households", json=demo.household(rng, "06"))
                except httpx.TransportError:
                    self.unanswered += 1
                    await asyncio.sleep(0.2)
                    continue
                self.answers[reply.status_code] += 1
                if reply.status_code != 201:
                    continue
                household = reply.json()["household_id"]
                self.accepted.append(household)
                for follow in (f"/households/{household}/eligibility",):
                    self.sent += 1
                    try:
                        answer = await c.post(follow)
                        self.answers[answer.status_code] += 1
                    except httpx.TransportError:
                        self.unanswered += 1


async def supervise(stack: Stack, until: asyncio.Event) -> None:
    while not until.is_set():
        # In a thread: a restart of NATS waits for its port, which must not pause the load.
        for line in await asyncio.to_thread(stack.supervise):
            print(f"  supervisor: {line}")
        await asyncio.sleep(0.5)


async def stream(url: str) -> list[Envelope]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        last = (await js.stream_info("BANSOS")).state.last_seq
        found = []
        for seq in range(1, last + 1):
            found.append(Envelope.model_validate_json((await js.get_msg("BANSOS", seq)).data))
        return found
    finally:
        await nc.close()


async def run(seconds: float, clients: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            var=Path(tmp) / "var",
            nats_port=free_port(),
            port_base=free_port(width=6),
            log_dir=Path(tmp) / "var" / "logs",
        )
        stack.start()
        watching = asyncio.Event()
        supervisor = asyncio.create_task(supervise(stack, watching))
        token = issue_token(CommonSettings(), "chaos.operator", Role.registry_operator)
        load = Load()
        drivers = [
            asyncio.create_task(load.client(stack.url("registry"), token, random.Random(i)))
            for i in range(clients)
        ]
        started = time.monotonic()
        faults = [
            (0.25, "nats"),
            (0.40, "audit"),
            (0.50, "nats"),
            (0.75, "nats"),
        ]
        try:
            for share, victim in faults:
                await asyncio.sleep(max(0.0, started + seconds * share - time.monotonic()))
                print(f"{time.monotonic() - started:5.1f} s: kill -9 {victim}")
                stack.procs[victim].send_signal(signal.SIGKILL)
            last_fault = time.monotonic()
            await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
            load.stop.set()
            await asyncio.gather(*drivers)
            quiet = await quiescence(stack, load, last_fault)
        finally:
            watching.set()
            await supervisor
            stack.stop()
    print(f"commands sent          : {load.sent}")
    print(f"answers                : {dict(sorted(load.answers.items()))}")
    print(f"no answer at all       : {load.unanswered}")
    print(f"registrations accepted : {len(load.accepted)}")
    print(f"lost                   : {quiet['lost']}")
    print(f"duplicated             : {quiet['duplicated']}")
    print(f"ledger = stream        : {quiet['mirrored']} ({quiet['events']} events)")
    print(f"quiescence after the last fault: {quiet['seconds']:.1f} s")
    bad = quiet["lost"] or quiet["duplicated"] or not quiet["mirrored"]
    return 1 if bad else 0


async def quiescence(stack: Stack, load: Load, last_fault: float) -> dict[str, float | int]:
    """Wait until the stream holds every accepted registration and the ledger every
    stream message; then count what is lost and what is doubled."""
    deadline = time.monotonic() + 180
    while True:
        events, tree = [], -1
        try:
            events = await stream(stack.effective_nats_url)
            async with httpx.AsyncClient(timeout=5) as c:
                tree = (await c.get(f"{stack.url('audit')}/ledger/stats")).json()["tree_size"]
        except Exception:
            pass  # NATS or audit still coming back
        registered = Counter(
            str(e.aggregate_id) for e in events if e.type == "registry.household_registered"
        )
        lost = sum(1 for h in load.accepted if registered[h] == 0)
        if (lost == 0 and tree == len(events)) or time.monotonic() > deadline:
            ids = Counter(e.event_id for e in events)
            duplicated = sum(n - 1 for n in ids.values() if n > 1)
            duplicated += sum(n - 1 for h, n in registered.items() if n > 1)
            return {
                "lost": lost,
                "duplicated": duplicated,
                "mirrored": int(tree == len(events)),
                "events": len(events),
                "seconds": time.monotonic() - last_fault,
            }
        await asyncio.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args.seconds, args.clients)))


if __name__ == "__main__":
    main()
