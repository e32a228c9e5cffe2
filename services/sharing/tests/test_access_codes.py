"""Access codes: salted argon2id, legacy SHA-256 rows accepted once and replaced."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from typing import Literal

from argon2 import PasswordHasher

from sharing.domain.access_codes import check_code, hash_code
from sharing.service.access_codes import AccessCodes

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_a_stored_code_is_salted_argon2id_not_its_sha256() -> None:
    first, second = hash_code("1234"), hash_code("1234")
    assert first.startswith("$argon2id$")
    assert first != second, "same code, different salt"
    assert hashlib.sha256(b"1234").hexdigest() not in (first, second)
    assert check_code("1234", first).matches and check_code("1234", second).matches
    assert not check_code("1235", first).matches


def test_a_current_hash_is_kept() -> None:
    assert check_code("open-sesame", hash_code("open-sesame")).rehashed is None


def test_a_legacy_sha256_row_opens_once_and_is_rehashed() -> None:
    legacy = hashlib.sha256(b"letmein").hexdigest()
    assert not check_code("wrong", legacy).matches
    assert check_code("wrong", legacy).rehashed is None
    verdict = check_code("letmein", legacy)
    assert verdict.matches and verdict.rehashed is not None
    assert verdict.rehashed.startswith("$argon2id$")
    assert check_code("letmein", verdict.rehashed) == check_code("letmein", verdict.rehashed)
    assert check_code("letmein", verdict.rehashed).rehashed is None


def test_new_parameters_rehash_on_the_next_right_code() -> None:
    old = hash_code("letmein", CHEAP)
    assert check_code("letmein", old).rehashed is not None, "weaker than the current hasher"
    assert check_code("wrong", old).rehashed is None
    assert check_code("letmein", old, CHEAP).rehashed is None


def test_garbage_in_the_column_matches_nothing() -> None:
    for stored in ("", "$argon2id$nonsense", "not-a-hash"):
        assert not check_code("letmein", stored).matches


class WatchedHasher(PasswordHasher):
    """Records which threads verify and how many verify at once."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.threads: set[int] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self.lock:
            self.threads.add(threading.get_ident())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_checks_run_off_the_event_loop_and_a_few_at_a_time() -> None:
    hasher = WatchedHasher()
    codes = AccessCodes(hasher, parallel=2)
    stored = hash_code("letmein", hasher)

    async def run() -> list[bool]:
        verdicts = await asyncio.gather(*(codes.check("letmein", stored) for _ in range(16)))
        return [v.matches for v in verdicts]

    assert asyncio.run(run()) == [True] * 16
    assert hasher.threads and threading.get_ident() not in hasher.threads
    assert hasher.most_in_flight <= 2
