"""Operator CLI: `encore users create --handle h` prints the new ids and the raw key as JSON.

It talks to the gateway's database directly, so it works before any user or admin key
exists. The database is ENCORE_DATABASE_URL; when that is unset, the dev stack `make run` is
running, found through the `stack.json` it keeps in its data directory (ENCORE_DATA_DIR, else
`.data/dev` in this directory or a parent), and the CLI says on stderr which one it used.
A database it cannot reach, or one without the gateway's migrations, is one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from gateway.context import GatewayContext, build_context
from gateway.db.migrate import MIGRATIONS
from gateway.service import identity
from gateway.settings import GatewaySettings
from servicekit.db import asyncpg_url
from servicekit.errors import ApiError

STACK_FILE = "stack.json"  # written by `make run` (devstack/run.py) while it runs
MIGRATE_HINT = "migrate it with `make migrate` (ENCORE_DATABASE_URL=… make migrate for another)"


class CliError(Exception):
    """A problem the operator can fix, told in one line."""


async def _create_user(ctx: GatewayContext, args: argparse.Namespace) -> dict[str, Any]:
    return (await identity.register_user(ctx, args.handle, args.display_name)).model_dump()


async def _create_key(ctx: GatewayContext, args: argparse.Namespace) -> dict[str, Any]:
    issued = await identity.create_api_key_for_handle(ctx, args.handle, args.name)
    if issued is None:
        raise CliError(f"no user with handle {args.handle!r}")
    user_id, key = issued
    return {"user_id": user_id, "api_key_id": key.id, "api_key": key.api_key}


def _dev_stack_dirs() -> list[Path]:
    explicit = os.environ.get("ENCORE_DATA_DIR")
    if explicit:
        return [Path(explicit)]
    here = Path.cwd()
    return [folder / ".data" / "dev" for folder in (here, *here.parents)]


def _use_dev_stack_when_unset() -> None:
    """Without ENCORE_DATABASE_URL, take the settings of the gateway `make run` runs."""
    if os.environ.get("ENCORE_DATABASE_URL"):
        return
    searched = _dev_stack_dirs()
    found = next((d for d in searched if (d / STACK_FILE).is_file()), None)
    if found is None:
        where = searched[0] / STACK_FILE if len(searched) == 1 else f".data/dev/{STACK_FILE}"
        raise CliError(
            "ENCORE_DATABASE_URL is not set and no running `make run` was found "
            f"(no {where}): start `make run` or set the URL"
        )
    data_dir = found.resolve()
    try:
        stack = json.loads((data_dir / STACK_FILE).read_text())
        pid, env = int(stack["pid"]), dict(stack["env"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(
            f"{data_dir / STACK_FILE} is unreadable ({exc}); restart `make run`"
        ) from exc
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise CliError(
            f"the `make run` of {data_dir} (pid {pid}) is not running any more: "
            "start it again, or set ENCORE_DATABASE_URL"
        ) from None
    except PermissionError:  # alive, another user's
        pass
    for name, value in env.items():
        os.environ.setdefault(name, str(value))
    print(f"encore: using the `make run` stack in {data_dir} (pid {pid})", file=sys.stderr)


def _where(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return unquote(make_url(asyncpg_url(url)).render_as_string(hide_password=True))
    except SQLAlchemyError:
        return "ENCORE_DATABASE_URL"


async def _check_migrated(ctx: GatewayContext, where: str) -> None:
    """Refuse a database whose gateway schema is missing or at another revision than ours."""
    from alembic.script import ScriptDirectory

    from servicekit.migrations import alembic_config

    wanted = set(ScriptDirectory.from_config(alembic_config(MIGRATIONS, "unused")).get_heads())
    async with ctx.engine.connect() as connection:
        table = await connection.scalar(text("SELECT to_regclass('gateway.alembic_version')"))
        applied: set[str] = set()
        if table is not None:
            rows = await connection.execute(text("SELECT version_num FROM gateway.alembic_version"))
            applied = set(rows.scalars())
    if not applied:
        raise CliError(f"{where} has no gateway tables: {MIGRATE_HINT}")
    if applied != wanted:
        raise CliError(
            f"the gateway schema of {where} is at {sorted(applied)}, this CLI needs "
            f"{sorted(wanted)}: {MIGRATE_HINT}"
        )


async def _run(
    command: Callable[[GatewayContext, argparse.Namespace], Awaitable[dict[str, Any]]],
    args: argparse.Namespace,
    settings: GatewaySettings,
) -> dict[str, Any]:
    ctx = build_context(settings)
    try:
        await _check_migrated(ctx, _where(settings.database_url))
        return await command(ctx, args)
    finally:
        await ctx.engine.dispose()


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without SQLAlchemy's wrapping."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    message = str(exc).strip() or type(exc).__name__
    return re.sub(r"^<class '[\w.]+'>: ", "", message.splitlines()[0])


def _fail(message: str) -> NoReturn:
    print(f"encore: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="encore", description="Encore operator commands")
    groups = parser.add_subparsers(dest="group", required=True)

    users = groups.add_parser("users").add_subparsers(dest="action", required=True)
    create_user = users.add_parser("create", help="create a user, their organization and a key")
    create_user.add_argument("--handle", required=True)
    create_user.add_argument("--display-name")
    create_user.set_defaults(run=_create_user)

    keys = groups.add_parser("keys").add_subparsers(dest="action", required=True)
    create_key = keys.add_parser("create", help="issue another API key for a user")
    create_key.add_argument("--handle", required=True)
    create_key.add_argument("--name", default="cli")
    create_key.set_defaults(run=_create_key)

    args = parser.parse_args(argv)
    try:
        _use_dev_stack_when_unset()
        settings = GatewaySettings()
    except CliError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid settings: {problems}")
    try:
        result = asyncio.run(_run(args.run, args, settings))
    except CliError as exc:
        _fail(str(exc))
    except ApiError as exc:
        print(
            json.dumps({"error": exc.code.value, "message": exc.system_message, **exc.details}),
            file=sys.stderr,
        )
        raise SystemExit(1) from exc
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        _fail(f"cannot use the database {_where(settings.database_url)}: {_reason(exc)}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
