"""Access codes hashed and checked off the event loop (rules in sharing/domain/access_codes.py).

One argon2id check costs ~20 ms of CPU on a free core (~70 ms measured on this project's
loaded 2-core machine), so it runs in a worker thread, never on the event loop, and at most
`MAX_PARALLEL_CHECKS` at a time per process: a burst of guesses waits its turn instead of
taking every core and ~19 MiB of memory per check at once.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher

from sharing.domain.access_codes import HASHER, Verdict, check_code, hash_code

MAX_PARALLEL_CHECKS = 2


class AccessCodes:
    """Hashing and checking in worker threads, a few at a time (one per process)."""

    def __init__(self, hasher: PasswordHasher = HASHER, parallel: int = MAX_PARALLEL_CHECKS):
        self.hasher = hasher
        self._slots = asyncio.Semaphore(parallel)

    async def hash(self, code: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(hash_code, code, self.hasher)

    async def check(self, code: str, stored: str) -> Verdict:
        async with self._slots:
            return await asyncio.to_thread(check_code, code, stored, self.hasher)
