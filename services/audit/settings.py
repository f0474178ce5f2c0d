"""Audit settings: the common ones plus the ledger's origin, key, cadence and witnesses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from shared.checkpoint import COSIGNATURE_TYPE, CheckpointError, key_hash, parse_witness_vkey
from shared.settings import CommonSettings, database_url_field


@dataclass(frozen=True)
class Witness:
    """A witness the ledger counts cosignatures from (C2SP tlog-cosignature)."""

    name: str
    vkey: str
    public_key: bytes

    @property
    def key_id(self) -> str:
        return key_hash(self.name, self.public_key, COSIGNATURE_TYPE).hex()


def parse_witnesses(value: str) -> tuple[Witness, ...]:
    """`BANSOS_WITNESSES`: comma-separated witness vkeys; ValueError naming the setting."""
    witnesses: list[Witness] = []
    for position, vkey in enumerate((v.strip() for v in value.split(",")), start=1):
        if not vkey:
            continue
        try:
            name, public_key = parse_witness_vkey(vkey)
        except (CheckpointError, ValueError) as exc:
            raise ValueError(f"BANSOS_WITNESSES: witness key {position} is invalid: {exc}") from exc
        if any(w.name == name for w in witnesses):
            raise ValueError(f"BANSOS_WITNESSES: witness {name!r} is given twice")
        witnesses.append(Witness(name, vkey, public_key))
    return tuple(witnesses)


class AuditSettings(CommonSettings):
    service_name: str = "audit"
    database_url: str = database_url_field("audit")
    http_port: int = 8005
    audit_data_dir: Path = Path("var/audit")
    # A new origin and key for the v2 leaf format: a new log (services/audit/README.md).
    origin: str = "bansos.tanjung-barat/ledger/v2"
    key_name: str | None = Field(default=None, description="defaults to the origin")
    signing_key: SecretStr | None = Field(
        default=None, description="PEM Ed25519 private key; else one is kept in the data dir"
    )
    checkpoint_interval_s: float = Field(default=0.05, gt=0, le=1.0)
    ingest_batch: int = Field(default=1000, ge=1, le=10_000)
    witnesses: str = Field(
        default="", description="comma-separated witness vkeys (<name>+<key ID>+<key>)"
    )
    # cek bansos (POST /cek/receipts), per client address; a `limits` rate string.
    receipt_check_rate: str = "30/minute"
    # The community's resolution SLA (same setting, BANSOS_SLA_RESOLVE_DAYS), for the page.
    sla_resolve_days: int = Field(default=14, ge=1, le=365)

    @field_validator("witnesses")
    @classmethod
    def _witnesses(cls, value: str) -> str:
        parse_witnesses(value)  # a bad key refuses to start the service, naming the setting
        return value

    @property
    def signer_name(self) -> str:
        return self.key_name or self.origin

    @property
    def witness_keys(self) -> tuple[Witness, ...]:
        return parse_witnesses(self.witnesses)

    @property
    def key_file(self) -> Path:
        return self.audit_data_dir / "checkpoint-signing-key-v2.pem"
