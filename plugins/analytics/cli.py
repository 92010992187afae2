"""``promtour analytics rebuild [ENT.TOUR]``: drop the read model and replay the stream."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from promtour.plugin import ConfigError, add_settings_args, hookimpl, plugin_session

from .consumer import erase_tour

__all__ = ["add_cli", "cmd_rebuild"]


@hookimpl(specname="promtour_cli_commands")
def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser("analytics", help="analytics read model")
    sub = parser.add_subparsers(dest="analytics_command", required=True)
    rebuild = sub.add_parser(
        "rebuild",
        help="drop the read model (of one tour, or all) and replay the event stream",
    )
    rebuild.add_argument("tour", nargs="?", help="<enterprise>.<tour> (default: every tour)")
    add_settings_args(rebuild)
    rebuild.set_defaults(func=cmd_rebuild)


async def cmd_rebuild(args: argparse.Namespace) -> int:
    async with plugin_session("analytics", args) as session:
        tours = [c for c in session.tours() if args.tour in (None, c.tour.key)]
        if args.tour and not tours:
            raise ConfigError("analytics", f"no tour {args.tour!r} with analytics enabled")
        for ctx in tours:
            records = await erase_tour(ctx.tour_store)
            print(f"{ctx.tour.key}: dropped {records} records")

        def progress(done: int, total: int) -> None:
            share = 100 * done // total if total else 100
            bar = "#" * (share // 5)
            sys.stdout.write(f"\rreplaying [{bar:<20}] {share:3d}% {done}/{total} events")
            sys.stdout.flush()

        last = await session.replay(progress)
        sys.stdout.write(f"\nreplayed the stream up to event {last}\n")
    return 0
