"""``promtour enterprise ...``: onboard an enterprise and manage its access tokens.

The commands use the running server's embedded NATS when ``promtour serve`` runs on
the same data folder (or ``--nats``), like ``promtour tours``. Secrets are printed
once, to stdout, and never stored in clear.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from promtour._auth import create_token, list_tokens, revoke_token
from promtour._errors import PromtourError
from promtour._models import SLUG_RE, Enterprise, pick_text

__all__ = ["add_enterprise_commands", "cmd_enterprise"]


def add_enterprise_commands(
    sub: argparse._SubParsersAction[Any],
    settings_args: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``enterprise`` command group to the ``promtour`` parser."""
    ent = sub.add_parser("enterprise", help="create enterprises and manage their access tokens")
    ent_sub = ent.add_subparsers(dest="enterprise_command", required=True)

    p = ent_sub.add_parser("create", help="create an enterprise and print its first admin token")
    p.add_argument("id", help="enterprise id: lower-case letters, digits, - and _")
    p.add_argument("--name-ru", required=True, help="name in Russian")
    p.add_argument("--name-en", required=True, help="name in English")
    p.add_argument("--contact", default="", help="contact e-mail or phone")
    p.add_argument("--label", default="first admin", help="label of the admin token")
    settings_args(p)

    p = ent_sub.add_parser("list", help="list enterprises")
    settings_args(p)

    tokens = ent_sub.add_parser("tokens", help="list, create and revoke access tokens")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", required=True)
    p = tokens_sub.add_parser("list", help="an enterprise's tokens (labels and roles, no secrets)")
    p.add_argument("enterprise")
    settings_args(p)
    p = tokens_sub.add_parser("create", help="create a token and print its secret once")
    p.add_argument("enterprise")
    p.add_argument(
        "--role", required=True, help="admin, editor, or a plugin's role (guide, hr, ...)"
    )
    p.add_argument("--label", required=True, help="who or what uses the token")
    settings_args(p)
    p = tokens_sub.add_parser(
        "rotate", help="replace a token by a new secret (same role and label); revokes the old"
    )
    p.add_argument("enterprise")
    p.add_argument("token_id")
    settings_args(p)
    p = tokens_sub.add_parser("revoke", help="revoke a token by its id (401 for it at once)")
    p.add_argument("enterprise")
    p.add_argument("token_id")
    settings_args(p)

    ent.set_defaults(func=cmd_enterprise)


async def cmd_enterprise(args: argparse.Namespace) -> int:
    from promtour._cli import settings_from
    from promtour._console.service import create_enterprise
    from promtour._server import nats_for, platform_session

    with nats_for(settings_from(args)) as settings:
        async with platform_session(settings) as platform:
            command = args.enterprise_command
            if command == "create":
                if not SLUG_RE.match(args.id):
                    raise PromtourError(
                        f"{args.id!r} is not a valid id: "
                        "use 1-40 lower-case letters, digits, - and _"
                    )
                enterprise = Enterprise(
                    id=args.id, name={"ru": args.name_ru, "en": args.name_en}, contact=args.contact
                )
                await create_enterprise(platform, enterprise)
                token, secret = await create_token(platform.bus, args.id, "admin", args.label)
                print(f"created enterprise {args.id}")
                print(f"admin token ({token.label}, id {token.id}); shown only now, keep it safe:")
                print(secret)
                where = platform.settings.web.public_url or "http://<your promtour server>"
                print(f"sign in at {where.rstrip('/')}/console/login")
                return 0
            if command == "list":
                from promtour._bus import BUCKET_ENTERPRISES

                for key in await platform.bus.keys(BUCKET_ENTERPRISES):
                    found = await platform.tours.enterprise(key)
                    if found is not None:
                        print(f"{found.id}\t{pick_text(found.name, 'en')}")
                return 0
            if await platform.tours.enterprise(args.enterprise) is None:
                raise PromtourError(f"no enterprise {args.enterprise!r} (promtour enterprise list)")
            if args.tokens_command == "list":
                for t in await list_tokens(platform.bus, args.enterprise):
                    print(f"{t.id}\t{t.role}\t{t.created:%Y-%m-%d %H:%M}\t{t.label}")
            elif args.tokens_command == "create":
                try:
                    token, secret = await create_token(
                        platform.bus, args.enterprise, args.role, args.label, roles=platform.roles
                    )
                except ValueError as exc:
                    raise PromtourError(str(exc)) from None
                print(f"{token.role} token ({token.label}, id {token.id}); shown only now:")
                print(secret)
            elif args.tokens_command == "rotate":
                from litestar.exceptions import NotFoundException
                from promtour._console.service import rotate_token

                try:
                    token, secret = await rotate_token(platform, args.enterprise, args.token_id)
                except NotFoundException:
                    raise PromtourError(
                        f"no token {args.token_id!r} for {args.enterprise} "
                        "(promtour enterprise tokens list)"
                    ) from None
                print(
                    f"{token.role} token ({token.label}, id {token.id}) replaces {args.token_id}:"
                )
                print(secret)
            else:
                if not await revoke_token(platform.bus, args.enterprise, args.token_id):
                    raise PromtourError(
                        f"no token {args.token_id!r} for {args.enterprise} "
                        "(promtour enterprise tokens list)"
                    )
                print(f"revoked {args.token_id}")
    return 0
