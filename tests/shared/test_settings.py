"""Settings: outside development mode a service refuses the built-in secrets
(docs/architecture.md#personal-data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry.service import SERVICE
from services.registry.settings import RegistrySettings
from shared.settings import InsecureSettings


def test_a_service_outside_development_mode_refuses_to_start_with_built_in_secrets(
    tmp_path: Path,
) -> None:
    settings = RegistrySettings(
        mode="production", database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    )
    with pytest.raises(InsecureSettings, match="BANSOS_PROGRAMME_KEY"):
        SERVICE.app(settings)


def test_a_service_with_real_secrets_starts_outside_development_mode(tmp_path: Path) -> None:
    settings = RegistrySettings(
        mode="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        programme_key="k" * 48,
        jwt_secret="s" * 48,
    )
    assert SERVICE.app(settings).title.startswith("Bansos")


def test_the_earlier_name_of_the_programme_key_is_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSOS_NIK_KEY", "n" * 40)
    assert RegistrySettings().programme_key.get_secret_value() == "n" * 40
