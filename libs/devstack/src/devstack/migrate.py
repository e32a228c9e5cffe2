"""`make migrate`: every service's migrations on ENCORE_DATABASE_URL, or on the dev database
that `make run` keeps in `.data/dev` (started just for this, then stopped)."""

from __future__ import annotations

import os
import sys

from devstack.infra import start_infrastructure
from devstack.run import DATA_DIR
from devstack.suite import migrate_all


def main() -> int:
    url = os.environ.get("ENCORE_DATABASE_URL")
    if url:
        migrate_all(url)
        print("migrated", url.split("@")[-1])
        return 0
    os.environ.setdefault("ENCORE_KAFKA_BOOTSTRAP", "unused:9092")
    os.environ.setdefault("ENCORE_S3_ENDPOINT", "http://unused")
    infra = start_infrastructure(DATA_DIR, persistent=True)
    try:
        migrate_all(infra.database_url)
        print(f"migrated the dev database in {DATA_DIR}")
    finally:
        infra.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
