"""Operator CLI: `encore users create --handle h` prints the new ids and the raw key as JSON.

It talks to the gateway's database directly (ENCORE_DATABASE_URL), so it works before any
user or admin key exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.api.identity import register_user
from gateway.app import build_context
from gateway.db import identity
from gateway.settings import GatewaySettings
from servicekit.errors import ApiError


async def _create_user(args: argparse.Namespace) -> dict[str, Any]:
    ctx = build_context(GatewaySettings())
    try:
        return await register_user(ctx, args.handle, args.display_name)
    finally:
        await ctx.engine.dispose()


async def _create_key(args: argparse.Namespace) -> dict[str, Any]:
    ctx = build_context(GatewaySettings())
    try:
        async with ctx.sessions() as session, session.begin():
            user = await identity.user_by_handle(session, args.handle)
            if user is None:
                raise SystemExit(f"no user with handle {args.handle!r}")
            key_id, raw = await identity.create_api_key(session, user.id, args.name)
        return {"user_id": user.id, "api_key_id": key_id, "api_key": raw}
    finally:
        await ctx.engine.dispose()


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
        result = asyncio.run(args.run(args))
    except ApiError as exc:
        print(
            json.dumps({"error": exc.code.value, "message": exc.system_message, **exc.details}),
            file=sys.stderr,
        )
        raise SystemExit(1) from exc
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
