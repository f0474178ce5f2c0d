"""The NATS users of deploy/nats/accounts.conf, enforced by a real nats-server.

The server runs deploy/nats/nats.conf (and, for the cluster, cluster.conf) unchanged but
for the JetStream store directory, on free ports: the admin creates the stream BANSOS the
way the compose job `nats-init` does, then each service's user publishes its own events,
consumes the stream, and is refused everything that would let it speak for another service.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy, SubjectTransform
from nats.js.errors import BadRequestError, NotFoundError

from services.audit.consumers import Ingestor
from services.audit.ledger import Ledger
from services.audit.service import MIGRATIONS as AUDIT_MIGRATIONS
from services.audit.settings import AuditSettings
from shared.checkpoint import Signer, load_or_create_key
from shared.db import make_engine, migrate
from shared.launcher import nats_server_binary
from shared.messaging import ensure_stream, make_broker
from shared.settings import CommonSettings
from tests.helpers import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]
NATS_DIR = ROOT / "deploy" / "nats"
STREAM = "BANSOS"
SERVICES = ["registry", "distribution", "training", "community", "audit"]
DENIED_WITHIN = 1.0  # seconds to wait for an answer that a refused request never gets

PASSWORDS = {user: f"t{secrets.token_hex(12)}" for user in ["admin", "system", *SERVICES]}


def adapted(conf: str, workdir: Path, store: Path) -> Path:
    """The deploy configuration, copied next to its includes, storing JetStream in `store`."""
    workdir.mkdir(parents=True, exist_ok=True)
    for source in NATS_DIR.glob("*.conf"):
        (workdir / source.name).write_text(source.read_text())
    path = workdir / conf
    text = path.read_text()
    assert text.count("store_dir: /data/jetstream") == 1
    path.write_text(text.replace("store_dir: /data/jetstream", f'store_dir: "{store}"'))
    return path


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    port: int
    monitor_port: int
    log: Path

    def url(self, user: str) -> str:
        return f"nats://{user}:{PASSWORDS[user]}@127.0.0.1:{self.port}"

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        """Poll /healthz (client port up, JetStream ready, in a cluster: meta leader known)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"nats-server exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{self.monitor_port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            time.sleep(0.05)
        pytest.fail(f"nats-server not healthy after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_node(conf: Path, workdir: Path, env: dict[str, str], *args: str) -> Node:
    port, monitor_port = free_port(), free_port()
    log = workdir / f"nats-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                nats_server_binary(),
                "-c",
                str(conf),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                str(monitor_port),
                *args,
            ],
            env={
                **{f"NATS_{user.upper()}_PASSWORD": pw for user, pw in PASSWORDS.items()},
                **env,
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Node(process, port, monitor_port, log)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    workdir = tmp_path_factory.mktemp("nats")
    conf = adapted("nats.conf", workdir / "conf", workdir / "jetstream")
    node = start_node(conf, workdir, {})
    try:
        node.wait_until_healthy()
        yield node
    finally:
        node.stop()


@contextlib.asynccontextmanager
async def connected(*urls: str) -> AsyncIterator[tuple[Client, list[Exception]]]:
    """A client and the asynchronous errors the server sent it (permission violations)."""
    errors: list[Exception] = []

    async def on_error(error: Exception) -> None:
        errors.append(error)

    nc = await nats.connect(list(urls), error_cb=on_error, allow_reconnect=False, connect_timeout=5)
    try:
        yield nc, errors
    finally:
        await nc.close()


async def violation_reported(errors: list[Exception], subject: str) -> bool:
    """Whether the server reported a permissions violation for `subject` (polled briefly).

    nats-py lower-cases the server's `-ERR 'Permissions Violation for Publish to "…"'`.
    """
    expected = f'permissions violation for publish to "{subject}"'.lower()
    deadline = asyncio.get_running_loop().time() + 2
    while asyncio.get_running_loop().time() < deadline:
        if any(expected in str(error).lower() for error in errors):
            return True
        await asyncio.sleep(0.02)
    return False


async def ensure_bansos_stream(node: Node, replicas: int = 1) -> None:
    """What the compose job nats-init runs, as the admin user."""
    async with connected(node.url("admin")) as (nc, _):
        await ensure_stream(nc.jetstream(), CommonSettings(stream_replicas=replicas))


def unique(event: str) -> str:
    return f"{event}_{uuid4().hex[:8]}"


async def test_the_admin_creates_the_stream_and_a_service_publishes_its_own_events(
    server: Node,
) -> None:
    await ensure_bansos_stream(server)
    subject = f"bansos.registry.{unique('household_registered')}"
    async with connected(server.url("registry")) as (nc, errors):
        ack = await nc.jetstream().publish(subject, b"{}", headers={"Nats-Msg-Id": subject})
        assert ack.stream == STREAM
        again = await nc.jetstream().publish(subject, b"{}", headers={"Nats-Msg-Id": subject})
        assert again.duplicate and again.seq == ack.seq
    assert not errors


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_cannot_publish_another_services_events(server: Node, service: str) -> None:
    await ensure_bansos_stream(server)
    other = "registry" if service != "registry" else "audit"
    forged = f"bansos.{other}.{unique('forged')}"
    async with connected(server.url(service)) as (nc, errors):
        with pytest.raises(NatsTimeoutError):
            await nc.jetstream().publish(forged, b"{}", timeout=DENIED_WITHIN)
        assert await violation_reported(errors, forged)
        own = await nc.jetstream().publish(f"bansos.{service}.{unique('ok')}", b"{}")
        assert own.stream == STREAM  # the connection is still good for its own events
    async with connected(server.url("admin")) as (nc, _):
        with pytest.raises(NotFoundError):
            await nc.jetstream().get_last_msg(STREAM, forged)


async def test_a_service_cannot_reconfigure_purge_or_delete_the_stream(server: Node) -> None:
    await ensure_bansos_stream(server)
    async with connected(server.url("registry")) as (nc, errors):
        js = nc.jetstream(timeout=DENIED_WITHIN)
        config = (await js.stream_info(STREAM)).config  # reading is allowed
        # A subject transform would store registry's messages under the audit's subject.
        config.subject_transform = SubjectTransform(
            src="bansos.registry.x.>", dest="bansos.audit.>"
        )
        outcomes = await asyncio.gather(
            js.update_stream(config),
            js.purge_stream(STREAM),
            js.delete_msg(STREAM, 1),
            js.delete_stream(STREAM),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, NatsTimeoutError) for outcome in outcomes), outcomes
        assert await violation_reported(errors, f"$JS.API.STREAM.UPDATE.{STREAM}")
    async with connected(server.url("admin")) as (nc, _):
        info = await nc.jetstream().stream_info(STREAM)
        assert info.config.subject_transform is None


async def test_a_service_consumes_with_a_durable_pull_consumer_and_acks(server: Node) -> None:
    await ensure_bansos_stream(server)
    subject = f"bansos.registry.{unique('eligibility_decided')}"
    durable = unique("distribution_eligibility")
    async with connected(server.url("registry")) as (nc, _):
        ack = await nc.jetstream().publish(subject, b"{}")
    async with connected(server.url("distribution")) as (nc, errors):
        js = nc.jetstream()
        consumer = await js.pull_subscribe(subject, durable=durable, stream=STREAM)
        (message,) = await consumer.fetch(1, timeout=5)
        assert message.metadata.sequence.stream == ack.seq
        await message.ack_sync(timeout=5)
        info = await js.consumer_info(STREAM, durable)
        assert (info.num_ack_pending, info.ack_floor.stream_seq) == (0, ack.seq)
        await js.delete_consumer(STREAM, durable)
    assert not errors


async def test_the_audit_reads_the_stream_with_an_ordered_consumer(server: Node) -> None:
    await ensure_bansos_stream(server)
    subject = f"bansos.community.{unique('complaint_filed')}"
    async with connected(server.url("community")) as (nc, _):
        ack = await nc.jetstream().publish(subject, b'{"n": 1}')
    async with connected(server.url("audit")) as (nc, errors):
        subscription = await nc.jetstream().subscribe(
            subject, stream=STREAM, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        message = await subscription.next_msg(timeout=5)
        assert (message.subject, message.data) == (subject, b'{"n": 1}')
        assert message.metadata.sequence.stream == ack.seq
        await subscription.unsubscribe()
    assert not errors


async def test_the_audit_ingestor_runs_under_the_audit_user(server: Node, tmp_path: Path) -> None:
    """The real ingest path (consumer create, delivery, flow control) within the rules."""
    await ensure_bansos_stream(server)
    async with connected(server.url("registry")) as (nc, _):
        js = nc.jetstream()
        for i in range(300):
            last = await js.publish(f"bansos.registry.{unique('x')}", b'{"n": %d}' % i)
    settings = AuditSettings(
        nats_url=server.url("audit"), database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    )
    engine = make_engine(settings.database_url)
    await migrate(engine, [AUDIT_MIGRATIONS])
    ledger = Ledger(engine, Signer("t", load_or_create_key(tmp_path / "k.pem")), "t")
    await ledger.load()
    broker = make_broker(settings)
    await broker.connect()
    task = asyncio.create_task(Ingestor(ledger, broker, settings).run())
    try:
        await eventually(lambda: ledger.last_stream_seq == last.seq)
        assert ledger.size == last.seq  # the stream from its first message, nothing twice
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
        await engine.dispose()


async def test_a_consumer_cannot_deliver_into_the_stream(server: Node) -> None:
    """Creating consumers is allowed, but not one that would republish under another name."""
    await ensure_bansos_stream(server)
    async with connected(server.url("registry")) as (nc, _):
        with pytest.raises(BadRequestError, match="cycle"):
            await nc.jetstream().add_consumer(
                STREAM,
                ConsumerConfig(
                    durable_name=unique("relay"),
                    deliver_subject=f"bansos.audit.{unique('forged')}",
                    filter_subject="bansos.registry.>",
                ),
            )


def test_the_monitoring_port_answers_the_compose_healthcheck(server: Node) -> None:
    url = f"http://127.0.0.1:{server.monitor_port}/healthz"
    with urllib.request.urlopen(url, timeout=2) as response:
        assert response.status == 200


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    """Three nodes of deploy/nats/cluster.conf, routed to each other on free ports."""
    route_ports = [free_port() for _ in range(3)]
    cluster_password = f"t{secrets.token_hex(12)}"
    routes = {
        f"NATS_ROUTE_{index}": f"nats-route://route:{cluster_password}@127.0.0.1:{port}"
        for index, port in enumerate(route_ports, start=1)
    }
    nodes: list[Node] = []
    try:
        for index, route_port in enumerate(route_ports, start=1):
            workdir = tmp_path / f"nats-{index}"
            conf = adapted("cluster.conf", workdir / "conf", workdir / "jetstream")
            env = {"NATS_SERVER_NAME": f"nats-{index}", "NATS_CLUSTER_PASSWORD": cluster_password}
            nodes.append(
                start_node(
                    conf, workdir, {**env, **routes}, "--cluster", f"nats://127.0.0.1:{route_port}"
                )
            )
        for node in nodes:
            node.wait_until_healthy()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def test_a_three_node_cluster_replicates_the_stream_under_the_same_rules(
    cluster: list[Node],
) -> None:
    await ensure_bansos_stream(cluster[0], replicas=3)
    urls = [node.url("training") for node in cluster]
    async with connected(*urls) as (nc, errors):
        js = nc.jetstream()
        ack = await js.publish(f"bansos.training.{unique('course_opened')}", b"{}")
        info = await js.stream_info(STREAM)
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        assert info.state.last_seq == ack.seq
        forged = f"bansos.distribution.{unique('aid_received')}"
        with pytest.raises(NatsTimeoutError):
            await js.publish(forged, b"{}", timeout=DENIED_WITHIN)
        assert await violation_reported(errors, forged)
