"""Run one service's migrations (`python -m <service>.db.migrate`) under a Postgres advisory lock.

Usage: python migrate_locked.py <service>       (reads ENCORE_DATABASE_URL)

Why a lock: in Kubernetes the migrations of a service run from its migration Job *and* from
the init container of every pod of its Deployment (that init container is what keeps new code
from starting before its schema is at head). On a fresh database those all start together, and
Alembic has no locking of its own: two processes would both try to create the same tables and
all but one would fail and be retried. Holding `pg_advisory_lock` on a per-service key makes
them queue instead; whoever comes second finds the schema at head and does nothing.

The lock is taken on a separate connection that stays open while the migration runs in a child
process (exactly the command an operator would type), and is released when that connection
closes, also if this process is killed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

SERVICES = ("catalog", "sharing", "analytics", "gateway")
CONNECT_ATTEMPTS = 30  # the database may still be starting when the first pods come up


def plain_url(url: str) -> str:
    """asyncpg takes `postgresql://`; the services also accept SQLAlchemy's `+asyncpg` form."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect(url: str) -> asyncpg.Connection:
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            return await asyncpg.connect(plain_url(url), timeout=10)
        except asyncpg.InvalidAuthorizationSpecificationError:
            raise  # a wrong role or password does not fix itself
        except (OSError, asyncpg.PostgresError) as exc:
            if attempt == CONNECT_ATTEMPTS:
                raise
            print(f"database not reachable yet ({type(exc).__name__}); retrying", flush=True)
            await asyncio.sleep(2)
    raise AssertionError("unreachable")


async def migrate(service: str) -> int:
    conn = await connect(os.environ["ENCORE_DATABASE_URL"])
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"encore.migrate.{service}")
        print(f"{service}: lock held, running migrations", flush=True)
        command = [sys.executable, "-m", f"{service}.db.migrate"]
        return await asyncio.to_thread(subprocess.call, command)
    finally:
        await conn.close()  # ends the session, which releases the advisory lock


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in SERVICES:
        print(f"usage: {sys.argv[0]} {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    code = asyncio.run(migrate(sys.argv[1]))
    print(f"{sys.argv[1]}: migrations {'done' if code == 0 else f'failed ({code})'}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
