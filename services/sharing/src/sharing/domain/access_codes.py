"""Pack-link access codes, stored as salted argon2id hashes.

An access code may be 4 characters a person chose, so unlike tokens and API keys (random,
SHA-256 in `contracts.hashing`) a leaked table must not reveal it by a dictionary lookup.
argon2id is slow by design (~20 ms of CPU a check, ~19 MiB of memory): the service runs
these functions in worker threads, a few at a time (sharing/service/access_codes.py).

Rows written before argon2 hold a hex SHA-256; they still open, and the first right code
replaces the hash (as does a right code against a hash made with older parameters).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum for argon2id (m=19 MiB, t=2, p=1); raising them rehashes on next success
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class Verdict:
    matches: bool
    rehashed: str | None = None  # the hash to store instead of the current one


def hash_code(code: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(code)


def check_code(code: str, stored: str, hasher: PasswordHasher = HASHER) -> Verdict:
    """Whether `code` opens a link whose stored hash is `stored` (argon2id or legacy
    SHA-256), and the hash to store in its place when it is outdated."""
    if not stored.startswith("$argon2"):
        legacy = hashlib.sha256(code.encode("utf-8")).hexdigest()
        if not hmac.compare_digest(legacy, stored):
            return Verdict(False)
        return Verdict(True, hash_code(code, hasher))
    try:
        hasher.verify(stored, code)
    except (VerificationError, InvalidHashError):
        return Verdict(False)
    return Verdict(True, hash_code(code, hasher) if hasher.check_needs_rehash(stored) else None)
