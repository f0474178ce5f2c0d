"""Personal data on the bus (DESIGN §7): masked for people, keyed commitments for matching."""

from __future__ import annotations

import hashlib
import hmac

from shared.settings import CommonSettings


def mask_nik(nik: str) -> str:
    """`3174012345670001` -> `3174••••••••0001`: region and sequence, no birth date."""
    return nik[:4] + "•" * (len(nik) - 8) + nik[-4:]


def commitment(key: bytes, value: str, *, domain: str = "nik") -> str:
    """HMAC-SHA256 under the programme's secret key; the domain keeps NIK and KK apart."""
    return hmac.new(key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed(settings: CommonSettings, value: str, *, domain: str = "nik") -> str:
    """The commitment under the key the services share (`BANSOS_NIK_KEY`)."""
    return commitment(settings.nik_key.get_secret_value().encode(), value, domain=domain)
