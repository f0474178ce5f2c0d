"""Community settings: SLA, public filing limits, on port 8004."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from services.community.domain.appeal import AppealSlaPolicy
from services.community.domain.complaint import SlaPolicy
from services.community.domain.verification import SamplePolicy
from shared.checkpoint import CheckpointError, parse_vkey, parse_witness_vkey
from shared.settings import CommonSettings, database_url_field


class CommunitySettings(CommonSettings):
    service_name: str = "community"
    database_url: str = database_url_field("community")
    http_port: int = 8004
    sla_acknowledge_days: int = Field(default=3, ge=1, le=60)
    sla_resolve_days: int = Field(default=14, ge=1, le=365)
    # Per source (client address), on the public endpoints; `limits` rate strings.
    complaint_rate: str = "5/10 minutes"
    feedback_rate: str = "20/10 minutes"
    tracking_rate: str = "60/minute"
    # Mentoring cases: the days an office has to answer a referral.
    referral_sla_days: int = Field(default=14, ge=1, le=180)

    # Verification with recipients: the audit ledger's verifier key (`<name>+<key ID>+
    # <base64 key>`, as GET /ledger/public-key names it; `bansos up` passes the local one)
    # and origin, the witnesses whose cosignatures a sample's checkpoint must carry (vkeys,
    # comma-separated; `bansos up` passes the audit's BANSOS_WITNESSES) and how many of them
    # (unset: all of them), and the sample's size.
    ledger_public_key: str | None = None
    ledger_origin: str = "bansos.tanjung-barat/ledger/v2"
    ledger_witnesses: str = ""
    sample_quorum: int | None = Field(default=None, ge=0, le=20)
    sample_minimum: int = Field(default=10, ge=1, le=1000)
    sample_share_pct: float = Field(default=5.0, gt=0, le=100)

    # Appeals (issue 15): the registry re-surveys and decides within this many days.
    appeal_decide_days: int = Field(default=30, ge=1, le=365)
    appeal_rate: str = "5/10 minutes"

    def sla(self) -> SlaPolicy:
        return SlaPolicy(self.sla_acknowledge_days, self.sla_resolve_days)

    @field_validator("ledger_public_key")
    @classmethod
    def _ledger_key(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_vkey(value.strip())
            except CheckpointError as exc:
                raise ValueError(f"BANSOS_LEDGER_PUBLIC_KEY: {exc}") from exc
        return value.strip() if value else None

    @field_validator("ledger_witnesses")
    @classmethod
    def _witnesses(cls, value: str) -> str:
        for vkey in filter(None, (v.strip() for v in value.split(","))):
            try:
                parse_witness_vkey(vkey)
            except (CheckpointError, ValueError) as exc:
                raise ValueError(f"BANSOS_LEDGER_WITNESSES: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _reachable_quorum(self) -> CommunitySettings:
        # A quorum the configured witnesses cannot meet would refuse every draw: say so at
        # start rather than at the first closed round.
        if self.sample_quorum is not None and self.sample_quorum > len(self.witness_keys()):
            raise ValueError(
                f"BANSOS_SAMPLE_QUORUM is {self.sample_quorum} but BANSOS_LEDGER_WITNESSES "
                f"names {len(self.witness_keys())} witnesses: give their vkeys, or lower it"
            )
        return self

    def quorum(self) -> int:
        """The cosignatures a sample's checkpoint must carry: BANSOS_SAMPLE_QUORUM, else
        every configured witness."""
        return len(self.witness_keys()) if self.sample_quorum is None else self.sample_quorum

    def ledger_key(self) -> tuple[str, bytes] | None:
        return parse_vkey(self.ledger_public_key) if self.ledger_public_key else None

    def witness_keys(self) -> dict[str, bytes]:
        found = (parse_witness_vkey(v) for v in self.ledger_witnesses.split(",") if v.strip())
        return dict(found)

    def sample_policy(self) -> SamplePolicy:
        return SamplePolicy(self.sample_minimum, self.sample_share_pct)

    def appeal_sla(self) -> AppealSlaPolicy:
        return AppealSlaPolicy(self.appeal_decide_days)
