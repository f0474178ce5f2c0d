"""Audit settings: the common ones plus the ledger's origin, key and cadence."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from shared.settings import CommonSettings, database_url_field


class AuditSettings(CommonSettings):
    service_name: str = "audit"
    database_url: str = database_url_field("audit")
    http_port: int = 8005
    audit_data_dir: Path = Path("var/audit")
    origin: str = "bansos.tanjung-barat/ledger"
    key_name: str | None = Field(default=None, description="defaults to the origin")
    signing_key: SecretStr | None = Field(
        default=None, description="PEM Ed25519 private key; else one is kept in the data dir"
    )
    checkpoint_interval_s: float = Field(default=0.25, gt=0, le=1.0)
    ingest_batch: int = Field(default=1000, ge=1, le=10_000)

    @property
    def signer_name(self) -> str:
        return self.key_name or self.origin
