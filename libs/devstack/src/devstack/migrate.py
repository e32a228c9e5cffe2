"""`make migrate`: every service's migrations on ENCORE_DATABASE_URL, or on the dev database
that `make run` keeps in `.data/dev` (the running stack's, or started just for this)."""

from __future__ import annotations

import os
import sys

from devstack.infra import start_infrastructure
from devstack.run import DATA_DIR, claim_data_dir, running_stack
from devstack.suite import migrate_all


def main() -> int:
    url = os.environ.get("ENCORE_DATABASE_URL")
    if url:
        migrate_all(url)
        print("migrated", url.split("@")[-1])
        return 0
    lock = claim_data_dir(DATA_DIR)
    if lock is None:  # `make run` is running: use its database, never start a second server
        stack = running_stack(DATA_DIR)
        if stack is None:
            print(f"{DATA_DIR} is locked by another process; try again", file=sys.stderr)
            return 2
        migrate_all(stack["env"]["ENCORE_DATABASE_URL"])
        print(f"migrated the database of the running `make run` in {DATA_DIR}")
        return 0
    os.environ.setdefault("ENCORE_KAFKA_BOOTSTRAP", "unused:9092")
    os.environ.setdefault("ENCORE_S3_ENDPOINT", "http://unused")
    with lock:
        infra = start_infrastructure(DATA_DIR, persistent=True)
        try:
            migrate_all(infra.database_url)
            print(f"migrated the dev database in {DATA_DIR}")
        finally:
            infra.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
