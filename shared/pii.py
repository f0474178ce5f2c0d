"""Personal data on the bus (docs/architecture.md#personal-data): keyed commitments, one key per
purpose.

Every key is derived (HKDF-SHA256) from the one programme secret (`BANSOS_PROGRAMME_KEY`),
with the purpose as HKDF info, so a commitment made for one purpose says nothing about
another. Two kinds:

- *Deterministic* (`nik`, `kk`, `ticket`, `receipt`): the same value always gives the same
  commitment, because a service must find what it matches (the NIK an officer types from a
  KTP, the ticket code a resident types). NIKs and KKs have few enough values to guess, so
  these never appear on a public page or in a public view, only on the internal bus and in
  sealed envelopes; ticket and receipt codes are random and long.
- *Salted* (`text`, `contact`): HMAC over a random 16-byte salt and the value, the salt
  kept beside the value in the owning service's store. The same phone number or words in
  two complaints give unrelated commitments, so one reporter's complaints cannot be linked,
  yet the service can still show what was committed to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.settings import CommonSettings

Matched = Literal["nik", "kk", "ticket", "receipt"]
Salted = Literal["text", "contact"]
SALT_BYTES = 16


@lru_cache(maxsize=64)
def purpose_key(secret: bytes, purpose: str) -> bytes:
    """The key of one purpose, derived from the programme secret."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"bansos.tanjung-barat/commitments",
        info=purpose.encode(),
    ).derive(secret)


def _hmac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SaltedCommitment:
    """A commitment and the salt to keep beside the value it commits to."""

    commitment: str
    salt: bytes = field(repr=False)


@dataclass(frozen=True)
class Commitments:
    """Commitments under the programme secret. Build one with `commitments(settings)`."""

    secret: bytes = field(repr=False)

    def matched(self, purpose: Matched, value: str) -> str:
        return _hmac(purpose_key(self.secret, purpose), value.encode())

    def nik(self, nik: str) -> str:
        return self.matched("nik", nik)

    def kk(self, kk_number: str) -> str:
        return self.matched("kk", kk_number)

    def ticket(self, code: str) -> str:
        return self.matched("ticket", code)

    def receipt(self, code: str) -> str:
        return self.matched("receipt", code)

    def salted(self, purpose: Salted, value: str, salt: bytes | None = None) -> SaltedCommitment:
        """A fresh salt unless one is given (to recompute a stored commitment)."""
        salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
        return SaltedCommitment(
            _hmac(purpose_key(self.secret, purpose), salt + value.encode()), salt
        )

    def opens(self, purpose: Salted, value: str, salt: bytes, commitment: str) -> bool:
        return hmac.compare_digest(self.salted(purpose, value, salt).commitment, commitment)


def commitments(settings: CommonSettings) -> Commitments:
    return Commitments(settings.programme_key.get_secret_value().encode())


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


def bearer_code(prefix: str, groups: int = 2) -> str:
    """A random code a person can read out and type, 20 bits per group of four:
    ``bearer_code("TB")`` -> ``TB-7K3M-9QXP``. It is a bearer secret: only its commitment
    leaves the service that issued it."""
    parts = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(groups))
    return "-".join((prefix, *parts))


def code_pattern(prefix: str, groups: int = 2) -> str:
    """The regular expression of `bearer_code(prefix, groups)`'s codes."""
    group = "[2-9A-HJ-NP-Z]{4}"
    return "^" + "-".join([prefix] + [group] * groups) + "$"
