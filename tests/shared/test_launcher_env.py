"""What `bansos up` gives each service to start with (shared/launcher.py `service_env`):
with the demo's witnesses, the audit counts their cosignatures and community requires
them of a verification sample's checkpoint, under the ledger key the audit lends."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.community.settings import CommunitySettings
from shared.checkpoint import parse_vkey, parse_witness_vkey
from shared.launcher import DEMO_WITNESSES, Stack


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BANSOS_WITNESSES", "BANSOS_LEDGER_WITNESSES", "BANSOS_SAMPLE_QUORUM"):
        monkeypatch.delenv(name, raising=False)


def test_with_witnesses_community_requires_all_their_cosignatures(tmp_path: Path) -> None:
    stack = Stack(var=tmp_path / "var", witnesses=DEMO_WITNESSES)
    audit, community = stack.service_env("audit"), stack.service_env("community")
    vkeys = stack.witness_vkeys()
    assert [parse_witness_vkey(v)[0] for v in vkeys] == list(DEMO_WITNESSES)
    assert audit["BANSOS_WITNESSES"] == ",".join(vkeys)
    assert community["BANSOS_LEDGER_WITNESSES"] == ",".join(vkeys)
    # The ledger key the audit lends is the one it signs with (kept under var/audit).
    assert parse_vkey(community["BANSOS_LEDGER_PUBLIC_KEY"])[0] == "bansos.tanjung-barat/ledger/v2"
    assert (tmp_path / "var" / "audit" / "checkpoint-signing-key-v2.pem").exists()
    assert "BANSOS_LEDGER_WITNESSES" not in audit  # no service lends to itself
    settings = CommunitySettings(
        ledger_public_key=community["BANSOS_LEDGER_PUBLIC_KEY"],
        ledger_witnesses=community["BANSOS_LEDGER_WITNESSES"],
    )
    assert settings.quorum() == 2 and community["BANSOS_MODE"] == "development"
    # The witnesses' keys persist: a second `bansos up` on the same var lends the same.
    again = Stack(var=tmp_path / "var", witnesses=DEMO_WITNESSES).service_env("community")
    assert again["BANSOS_LEDGER_WITNESSES"] == community["BANSOS_LEDGER_WITNESSES"]


def test_without_witnesses_community_requires_none_and_an_operator_setting_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = Stack(var=tmp_path / "var").service_env("community")
    assert "BANSOS_LEDGER_WITNESSES" not in plain and "BANSOS_WITNESSES" not in plain
    assert "BANSOS_LEDGER_PUBLIC_KEY" in plain
    # Witnesses the operator configured for the audit (as in tests/audit/test_audit_e2e.py)
    # are required by community too, unless it was given its own.
    witnesses = Stack(var=tmp_path / "w", witnesses=("inspektorat",)).witness_vkeys()[0]
    monkeypatch.setenv("BANSOS_WITNESSES", witnesses)
    assert Stack(var=tmp_path / "var").service_env("community")["BANSOS_LEDGER_WITNESSES"] == (
        witnesses
    )
    monkeypatch.setenv("BANSOS_LEDGER_WITNESSES", "")
    own = Stack(var=tmp_path / "var").service_env("community")
    assert own["BANSOS_LEDGER_WITNESSES"] == ""
