"""Settings common to every service (pydantic-settings, prefix BANSOS_)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
DEV_PROGRAMME_KEY = "dev-only-programme-key-change-me-0123456789abcdef"
MIN_SECRET_LENGTH = 32


class InsecureSettings(RuntimeError):
    """A service outside development mode was given a development or weak secret."""


def database_url_field(service: str) -> Any:
    """Each service has its own database; SQLite under ./var unless a URL is given."""
    return Field(
        default=f"sqlite+aiosqlite:///./var/{service}.db",
        validation_alias=AliasChoices("BANSOS_DATABASE_URL", "DATABASE_URL"),
    )


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANSOS_", extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    service_name: str = "bansos"
    database_url: str = database_url_field("bansos")
    nats_url: str = Field(
        default="nats://127.0.0.1:14222",
        validation_alias=AliasChoices("BANSOS_NATS_URL", "NATS_URL"),
    )
    stream_name: str = "BANSOS"
    # Whether this process may create/update the stream. Under compose a one-off admin job
    # does it (`bansos init-stream`) and services only wait for the stream to exist.
    manage_stream: bool = True
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # How long the stream keeps messages: long enough for the ledger to catch up.
    stream_max_age_days: int = Field(default=3650, ge=1)
    stream_duplicate_window_s: float = Field(default=120.0, ge=120.0)

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Processes answering HTTP on that port (PostgreSQL only; shared/serve.py): a busy
    # service's requests spread over the cores. One of them, elected by an advisory lock,
    # also runs the consumers and background tasks.
    http_workers: int = Field(default=1, ge=1, le=16)
    # A request body larger than this is refused with 413 before it is read in full.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Where public endpoints count requests per client (shared/ratelimit.py): memory:// per
    # process, or redis://host:6379 shared by replicas and kept across restarts.
    rate_limit_storage: str = "memory://"
    # Staff tokens on those endpoints, per subject (higher than any public rate).
    staff_rate: str = "300/minute"
    # Reverse proxies (IP addresses or networks) whose X-Forwarded-For names the client;
    # none by default, so a client cannot choose its own address for the rate limits.
    trusted_proxies: list[str] = []

    # `development` accepts the built-in secrets (`bansos up` sets it); anything else is
    # production, where a service refuses to start with them (docs/architecture.md#personal-data).
    mode: Literal["development", "production"] = "production"

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "RS256", "ES256", "EdDSA"] = "HS256"
    jwt_public_key: str | None = None
    jwt_issuer: str = "bansos.tanjung-barat"
    jwt_audience: str = "bansos"
    # The programme secret: every commitment key is derived from it, one per purpose
    # (shared/pii.py). BANSOS_NIK_KEY is its earlier name.
    programme_key: SecretStr = Field(
        default=SecretStr(DEV_PROGRAMME_KEY),
        validation_alias=AliasChoices("BANSOS_PROGRAMME_KEY", "BANSOS_NIK_KEY"),
    )

    rw_list: list[str] = [f"{n:02d}" for n in range(1, 11)]

    otel_exporter: Literal["none", "console", "otlp"] = "none"
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_ack_timeout_s: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"

    @property
    def development(self) -> bool:
        return self.mode == "development"

    def check_secrets(self) -> None:
        """Outside development mode, refuse the built-in or short secrets, naming the
        setting to set; in development mode, accept them (the banner says so)."""
        if self.development:
            return
        wanted = [("BANSOS_PROGRAMME_KEY", self.programme_key, DEV_PROGRAMME_KEY)]
        if self.jwt_algorithm == "HS256":
            wanted.append(("BANSOS_JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET))
        elif not self.jwt_public_key:
            raise InsecureSettings(
                f"BANSOS_JWT_ALGORITHM is {self.jwt_algorithm}: set BANSOS_JWT_PUBLIC_KEY"
            )
        for name, value, default in wanted:
            secret = value.get_secret_value()
            if secret == default or len(secret) < MIN_SECRET_LENGTH:
                raise InsecureSettings(
                    f"{name} is the development default or shorter than {MIN_SECRET_LENGTH} "
                    f"characters: set it to a random secret (e.g. `openssl rand -hex 32`), "
                    f"or BANSOS_MODE=development on a laptop"
                )

    def uses_development_secrets(self) -> bool:
        return (
            self.programme_key.get_secret_value() == DEV_PROGRAMME_KEY
            or self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        )
