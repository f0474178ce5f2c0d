"""A sample is drawn only from a checkpoint the ledger's witnesses cosigned: community
requires the cosignatures of every configured witness by default (BANSOS_SAMPLE_QUORUM
lowers it), refuses a quorum its witnesses cannot meet at start, and outside development
mode refuses a draw when no cosignature is required at all. Real Ed25519 signatures and
C2SP cosignatures; the draw over HTTP on a real nats-server."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from services.community.verification_handlers import verified_checkpoint
from shared.checkpoint import Cosigner, Signer, note_body, sign_checkpoint
from shared.domain import DomainError
from shared.pii import commitments
from tests.community.test_verification_api import FACILITATOR, LEDGER, ORIGIN
from tests.community.verification_scene import ClosedRound, publish_closed_round
from tests.helpers import NatsServer, eventually, serve_app

INSPEKTORAT = Cosigner("inspektorat", Ed25519PrivateKey.generate())
FORUM = Cosigner("forum-warga", Ed25519PrivateKey.generate())
WITNESSES = f"{INSPEKTORAT.vkey},{FORUM.vkey}"


def cosigned(tree_size: int, *by: Cosigner, signer: Signer = LEDGER) -> str:
    """The ledger's note for a tree, with a cosignature line of each witness in `by`."""
    root = hashlib.sha256(f"the ledger at {tree_size}".encode()).digest()
    note = sign_checkpoint(signer, ORIGIN, tree_size, root)
    body = note_body(note)
    return note + "".join(w.cosign(body, 1_790_000_000 + n) + "\n" for n, w in enumerate(by))


@pytest.fixture
async def client(database_url: str, nats_server: NatsServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = CommunitySettings(
        database_url=database_url,
        nats_url=nats_server.url,
        ledger_public_key=LEDGER.vkey,
        ledger_witnesses=WITNESSES,
    )
    assert settings.quorum() == 2  # every configured witness, by default
    async with serve_app(SERVICE.app(settings)) as client:
        yield client


async def closed_round(client: httpx.AsyncClient, nats_url: str) -> ClosedRound:
    """A round closed on the stream, once community has learnt its closure (a cosigned
    checkpoint from before it is refused as early)."""
    scene = await publish_closed_round(nats_url, commitments(CommunitySettings()))
    early = cosigned(scene.closure_seq - 1, INSPEKTORAT, FORUM)

    async def learnt() -> bool:
        reply = await client.post(
            f"/rounds/{scene.round_id}/verification-sample",
            json={"checkpoint": early},
            headers=FACILITATOR,
        )
        return reply.json().get("error") == "sample_checkpoint_early"

    await eventually(learnt)
    return scene


async def test_a_draw_needs_the_cosignatures_of_every_witness(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    scene = await closed_round(client, nats_server.url)
    path = f"/rounds/{scene.round_id}/verification-sample"
    size = scene.closure_seq + 2
    stranger = Cosigner("stranger", Ed25519PrivateKey.generate())
    impostor = Cosigner("forum-warga", Ed25519PrivateKey.generate())  # a name, not its key
    for note, valid in [
        (cosigned(size), 0),  # signed by the ledger's key alone
        (cosigned(size, INSPEKTORAT), 1),
        (cosigned(size, INSPEKTORAT, stranger), 1),
        (cosigned(size, INSPEKTORAT, impostor), 1),
    ]:
        refused = await client.post(path, json={"checkpoint": note}, headers=FACILITATOR)
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["error"] == "sample_cosignatures_missing"
        assert body["details"][0]["field"] == "checkpoint"
        assert f"{valid} of the 2 witnesses" in body["message"]
        assert "/ledger/checkpoint?cosigned=2" in body["message"]
    # Another checkpoint's cosignatures do not carry over to this one.
    elsewhere = cosigned(size + 1, INSPEKTORAT, FORUM).split("\n\n")[1].splitlines()
    grafted = cosigned(size, INSPEKTORAT) + "".join(
        line + "\n" for line in elsewhere if line.startswith("\u2014 forum-warga ")
    )
    refused = await client.post(path, json={"checkpoint": grafted}, headers=FACILITATOR)
    assert refused.json()["error"] == "sample_cosignatures_missing"
    # Checked before any fact of the round: nothing was drawn by the refusals.
    assert (await client.get(path, headers=FACILITATOR)).status_code == 404

    drawn = await client.post(
        path, json={"checkpoint": cosigned(size, FORUM, INSPEKTORAT)}, headers=FACILITATOR
    )
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["tree_size"] == size and drawn.json()["k"] == 10


def test_a_lower_quorum_is_taken_and_an_unreachable_one_refused_at_start() -> None:
    one = CommunitySettings(
        ledger_public_key=LEDGER.vkey, ledger_witnesses=WITNESSES, sample_quorum=1
    )
    checkpoint = verified_checkpoint(one, cosigned(40, FORUM))
    assert checkpoint.tree_size == 40
    with pytest.raises(DomainError) as missing:
        verified_checkpoint(one, cosigned(40))
    assert missing.value.code == "sample_cosignatures_missing"
    with pytest.raises(ValidationError, match="BANSOS_SAMPLE_QUORUM is 3 but"):
        CommunitySettings(ledger_witnesses=WITNESSES, sample_quorum=3)
    with pytest.raises(ValidationError, match="BANSOS_LEDGER_WITNESSES"):
        CommunitySettings(ledger_witnesses=f"{FORUM.vkey},inspektorat+00+AAAA")


def test_outside_development_mode_a_draw_without_witnesses_is_refused() -> None:
    note = cosigned(40)
    for production in (
        CommunitySettings(mode="production", ledger_public_key=LEDGER.vkey),
        CommunitySettings(
            mode="production",
            ledger_public_key=LEDGER.vkey,
            ledger_witnesses=WITNESSES,
            sample_quorum=0,
        ),
    ):
        with pytest.raises(DomainError) as refused:
            verified_checkpoint(production, note)
        assert refused.value.code == "sample_witnesses_unset"
        assert "BANSOS_LEDGER_WITNESSES" in str(refused.value)
    # On a laptop (`bansos up` without witnesses) the ledger's signature is enough.
    laptop = CommunitySettings(mode="development", ledger_public_key=LEDGER.vkey)
    assert laptop.quorum() == 0 and verified_checkpoint(laptop, note).tree_size == 40
    # With witnesses, production takes a cosigned checkpoint.
    cosigning = CommunitySettings(
        mode="production", ledger_public_key=LEDGER.vkey, ledger_witnesses=WITNESSES
    )
    assert verified_checkpoint(cosigning, cosigned(40, INSPEKTORAT, FORUM)).tree_size == 40
