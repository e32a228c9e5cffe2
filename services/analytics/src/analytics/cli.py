"""Operator commands: dead letters (`encore-analytics dlq list`, `dlq replay`) and
`encore-analytics recount-unique-visitors`, `encore-analytics rebuild-rollups`.

`list` shows what is in `<topic>.dlq` (reason, original position, first bytes). `replay`
publishes every dead letter not replayed before back to its original topic, after a fix
made it processable; a consumer group remembers how far replays got, so running it twice
replays nothing twice. `recount-unique-visitors` repairs the unique-visitor counters after a
rolling update from a release that did not keep them (see `analytics.db.recount`);
`rebuild-rollups` does the same for the reports' daily counters and uniques
(`analytics.db.rollups`). Each command is one service function: `analytics.service.dead_letters`
and `analytics.service.rollups`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from analytics.context import AnalyticsContext
from analytics.events.consumer import CONSUMED_TOPICS
from analytics.service import rollups
from analytics.service.dead_letters import list_dead_letters, replay_dead_letters
from analytics.settings import AnalyticsSettings
from servicekit.db import make_engine, make_sessionmaker


async def _with_context(
    settings: AnalyticsSettings, command: Callable[[AnalyticsContext], Awaitable[int]]
) -> int:
    """Run one service function over a context of its own (one connection)."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return await command(
            AnalyticsContext(settings=settings, sessions=make_sessionmaker(engine))
        )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="encore-analytics", description=__doc__.splitlines()[0] if __doc__ else None
    )
    groups = parser.add_subparsers(dest="group", required=True)
    dlq = groups.add_parser("dlq").add_subparsers(dest="action", required=True)
    for name in ("list", "replay"):
        cmd = dlq.add_parser(name)
        cmd.add_argument(
            "--topic",
            action="append",
            choices=list(CONSUMED_TOPICS),
            help="default: every consumed topic",
        )
    for name in ("recount-unique-visitors", "rebuild-rollups"):
        groups.add_parser(name, help="after a rolling update; see docs/operations.md")
    args = parser.parse_args(argv)
    settings = AnalyticsSettings()
    if args.group == "recount-unique-visitors":
        corrected = asyncio.run(_with_context(settings, rollups.recount_unique_visitors))
        print(json.dumps({"links_corrected": corrected}))
        return
    if args.group == "rebuild-rollups":
        rows = asyncio.run(_with_context(settings, rollups.rebuild_rollups))
        print(json.dumps({"daily_rows": rows}))
        return
    topics = args.topic or list(CONSUMED_TOPICS)
    if args.action == "list":
        letters = asyncio.run(list_dead_letters(settings, topics))
        json.dump(letters, sys.stdout, indent=2)
        print()
    else:
        print(json.dumps({"replayed": asyncio.run(replay_dead_letters(settings, topics))}))


if __name__ == "__main__":
    main()
