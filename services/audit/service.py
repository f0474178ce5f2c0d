"""The audit ledger, described once: the app factory, `bansos up` and `bansos demo` read this.

The audit is the service unlike the others: it consumes the whole stream into a ledger
(consumers.py) rather than projecting events into read models, so its spec declares no
consumers and its `setup` adds the ledger's parts to the runtime: the ledger opened after
the migrations, the ordered ingest and the checkpoint loop as background tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from services.audit import oversight, projections, tables
from services.audit.api import ROUTERS
from services.audit.consumers import Ingestor, checkpoint_loop
from services.audit.ledger import Ledger
from services.audit.settings import AuditSettings
from shared.checkpoint import Signer, load_or_create_key
from shared.runtime import Runtime
from shared.spec import ServiceSpec

MIGRATIONS = Path(__file__).parent / "migrations"


def signing_key(settings: AuditSettings) -> Ed25519PrivateKey:
    """The key from the setting, or one created on first start in the data directory."""
    if settings.signing_key is not None:
        key = serialization.load_pem_private_key(
            settings.signing_key.get_secret_value().encode(), password=None
        )
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("BANSOS_SIGNING_KEY must be an Ed25519 private key (PEM)")
        return key
    return load_or_create_key(settings.key_file)


def setup(runtime: Runtime, app: FastAPI) -> None:
    """The ledger (its routes read it as `app.state.ledger`), its single writer's ingest
    and the checkpoint signer. The key is read now, so a bad one stops the start."""
    settings = runtime.settings
    if not isinstance(settings, AuditSettings):
        raise TypeError("the audit service runs with AuditSettings")
    ledger = Ledger(
        runtime.engine, Signer(settings.signer_name, signing_key(settings)), settings.origin
    )

    async def open_ledger() -> None:
        await ledger.load()  # cursor, frontier, latest checkpoint: after the migrations
        app.state.ledger = ledger

    async def ingest() -> None:
        await runtime.nats_started.wait()  # rather than back off until NATS is there
        await Ingestor(ledger, runtime.broker, settings).run()

    async def checkpoints() -> None:
        await checkpoint_loop(ledger, settings.checkpoint_interval_s)

    runtime.on_start.append(open_ledger)
    runtime.tasks.extend([ingest, checkpoints])
    app.state.oversight = oversight.install(runtime, ledger)  # findings, times: auditors, page


def lends(env: Mapping[str, str]) -> dict[str, str]:
    """The ledger's verifier key and the witnesses whose cosignatures it counts, for the
    services that check its checkpoints (community draws verification samples from
    checkpoints those witnesses cosigned); the key is created here if it does not exist
    yet, and the audit service then reads the same file."""
    settings = AuditSettings(audit_data_dir=Path(env["BANSOS_AUDIT_DATA_DIR"]))
    vkey = Signer(settings.signer_name, signing_key(settings)).vkey
    lent = {"BANSOS_LEDGER_PUBLIC_KEY": vkey}
    if env.get("BANSOS_WITNESSES", "").strip():
        lent["BANSOS_LEDGER_WITNESSES"] = env["BANSOS_WITNESSES"]
    return lent


SERVICE = ServiceSpec(
    name="audit",
    port=8005,
    title="Bansos Tanjung Barat — audit ledger",
    description="Every event of the BANSOS stream in an append-only RFC 9162 Merkle "
    "ledger: each leaf shows the event's public view and seals the rest. Public "
    "entries, proofs and witness-cosigned checkpoints for oversight bodies to verify "
    "offline (`bansos verify`); sealed openings for auditors; erasure for admins.",
    settings=AuditSettings,
    routers=ROUTERS,
    migrations=MIGRATIONS,
    metadata=[tables.metadata],
    project=projections.project,
    reads=[("bansos.>", "the ledger's ingest: every message of the stream, in stream order")],
    setup=setup,
    lends=lends,
    one_process=True,  # the routes read the ingest's tree and the oversight fold
)
