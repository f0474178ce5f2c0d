"""Audit service: wiring of settings, ledger, ingest, checkpoints and the ledger API."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from services.audit import api, projections
from services.audit.consumers import Ingestor, checkpoint_loop
from services.audit.ledger import Ledger
from services.audit.settings import AuditSettings
from shared.checkpoint import Signer, load_or_create_key
from shared.http import create_app
from shared.runtime import Runtime

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


def create(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    signer = Signer(settings.signer_name, signing_key(settings))
    holder: dict[str, Ledger] = {}

    async def open_ledger() -> None:
        ledger = Ledger(runtime.engine, signer, settings.origin)
        await ledger.load()
        holder["ledger"] = ledger
        app.state.ledger = ledger
        app.state.ingestor = Ingestor(ledger, runtime.broker, settings)

    async def ingest() -> None:
        await runtime.nats_started.wait()  # rather than back off until NATS is there
        await app.state.ingestor.run()

    async def checkpoints() -> None:
        await checkpoint_loop(holder["ledger"], settings.checkpoint_interval_s)

    runtime = Runtime(
        settings,
        migrations=[MIGRATIONS],
        project=projections.project,
        on_start=[open_ledger],
        tasks=[ingest, checkpoints],
    )
    app = create_app(
        runtime,
        title="Bansos Tanjung Barat — audit ledger",
        description="Every event of the BANSOS stream in an append-only RFC 9162 Merkle "
        "ledger: each leaf shows the event's public view and seals the rest. Public "
        "entries, proofs and witness-cosigned checkpoints for oversight bodies to verify "
        "offline (`bansos verify`); sealed openings for auditors; erasure for admins.",
        routers=api.routers,
    )
    return app
