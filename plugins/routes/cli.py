"""``promtour operator create ID --name-ru .. --name-en ..``: a route operator and its
first token (printed once), and ``promtour operator token ID``: another token."""

from __future__ import annotations

import argparse
import re
from typing import Any

from promtour.plugin import add_settings_args, hookimpl, plugin_session

from .records import Operator, create_operator, create_operator_token

__all__ = ["add_cli"]


async def cmd_operator(args: argparse.Namespace) -> int:
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,39}$", args.id):
        print("promtour: error: the operator id is lower-case letters, digits and dashes")
        return 2
    async with plugin_session("routes", args) as ctx:
        if args.operator_command == "create":
            name = {k: v for k, v in (("ru", args.name_ru), ("en", args.name_en)) if v}
            if not name:
                print("promtour: error: give a name (--name-ru and/or --name-en)")
                return 2
            if not await create_operator(ctx.store, Operator(id=args.id, name=name)):
                print(f"promtour: error: operator {args.id!r} exists (promtour operator token)")
                return 2
        elif await ctx.store.get(f"op.{args.id}", Operator) is None:
            print(f"promtour: error: no operator {args.id!r}")
            return 2
        token, secret = await create_operator_token(ctx.store, args.id, args.label)
        print(f"operator {args.id}: token {token.id} (shown once, keep it):\n{secret}")
    return 0


@hookimpl(specname="promtour_cli_commands")
def add_cli(subparsers: Any) -> None:
    operator = subparsers.add_parser("operator", help="route operators (regional routes)")
    sub = operator.add_subparsers(dest="operator_command", metavar="COMMAND", required=True)
    p = sub.add_parser("create", help="create a route operator and print its first token")
    p.add_argument("id")
    p.add_argument("--name-ru", default="")
    p.add_argument("--name-en", default="")
    p.add_argument("--label", default="first token")
    add_settings_args(p)
    p = sub.add_parser("token", help="print a new token of an operator")
    p.add_argument("id")
    p.add_argument("--label", default="token")
    add_settings_args(p)
    operator.set_defaults(func=cmd_operator)
