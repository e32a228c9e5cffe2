"""`python -m analytics.db.migrate`: bring the analytics schema to the latest revision."""

from __future__ import annotations

import os
from pathlib import Path

from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    upgrade_to_head(MIGRATIONS, os.environ["ENCORE_DATABASE_URL"])


if __name__ == "__main__":
    main()
