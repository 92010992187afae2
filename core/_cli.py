"""The ``promtour`` command line. Plugins add commands with ``promtour_cli_commands``."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promtour import __version__
from promtour._errors import PromtourError
from promtour._manager import PluginManager
from promtour._models import pick_text
from promtour._settings import Settings, load_settings

if TYPE_CHECKING:
    pass

__all__ = ["build_parser", "main"]

#: Flags that override settings, as the environment variables they set (so that
#: uvicorn worker processes see them too).
FLAG_ENV = {
    "settings": "PROMTOUR_SETTINGS",
    "nats": "PROMTOUR_NATS__URL",
    "host": "PROMTOUR_WEB__HOST",
    "port": "PROMTOUR_WEB__PORT",
    "workers": "PROMTOUR_WEB__WORKERS",
    "data_dir": "PROMTOUR_DATA_DIR",
    "public_url": "PROMTOUR_WEB__PUBLIC_URL",
}


def _settings_args(parser: argparse.ArgumentParser, *, web: bool = False) -> None:
    parser.add_argument("--settings", help="settings file (TOML); default $PROMTOUR_SETTINGS")
    parser.add_argument("--nats", help="NATS URL(s), comma-separated; default: embedded server")
    parser.add_argument("--data-dir", help="data folder (embedded NATS store)")
    if web:
        parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, help="port (default 8000)")
        parser.add_argument("--workers", type=int, help="web worker processes (default 1)")
        parser.add_argument("--public-url", help="base URL printed on QR codes")


def settings_from(args: argparse.Namespace) -> Settings:
    for flag, env in FLAG_ENV.items():
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[env] = str(Path(value).resolve()) if flag == "settings" else str(value)
    return load_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    from promtour._server import serve

    own_demo = getattr(args, "demo_dir", None)  # `demo` only
    where = {"demo_dir": Path(own_demo).resolve()} if own_demo else {}
    return serve(settings_from(args), demo=args.command == "demo", **where)


async def cmd_tours(args: argparse.Namespace) -> int:
    from promtour._server import nats_for, platform_session
    from promtour._tours import dump_tour_toml, load_tour_toml

    with nats_for(settings_from(args)) as settings:
        async with platform_session(settings) as platform:
            if args.tours_command == "import":
                for path in args.files:
                    state = await platform.import_tour(load_tour_toml(path))
                    print(f"imported {state.tour.key} ({len(state.tour.stations)} stations)")
            elif args.tours_command == "export":
                found = await platform.tours.get(args.tour)
                if found is None:
                    raise PromtourError(f"no tour {args.tour!r} (promtour tours list)")
                text = dump_tour_toml(found.tour)
                if args.output:
                    Path(args.output).write_text(text, encoding="utf-8")
                else:
                    sys.stdout.write(text)
            else:
                for state in platform.tours.all():
                    tour = state.tour
                    print(
                        f"{tour.key}\t{pick_text(tour.name, 'en')}\t{len(tour.stations)} "
                        f"stations\tplugins: {', '.join(sorted(tour.plugins)) or '-'}"
                    )
    return 0


async def cmd_qr(args: argparse.Namespace) -> int:
    from promtour._qr import qr_png, qr_svg
    from promtour._server import nats_for, platform_session, poster_base_url, station_urls

    with nats_for(settings_from(args)) as settings:
        async with platform_session(settings) as platform:
            if await platform.tours.get(args.tour) is None:
                raise PromtourError(f"no tour {args.tour!r} (promtour tours list)")
            base = await poster_base_url(platform)
            out = Path(args.out) if args.out else None
            if out:
                out.mkdir(parents=True, exist_ok=True)
            for number, station_id, url in station_urls(platform, args.tour, base):
                print(f"{number}\t{station_id}\t{url}")
                if out and args.format == "svg":
                    (out / f"{number:03d}-{station_id}.svg").write_text(
                        qr_svg(url, number, station_id), encoding="utf-8"
                    )
                elif out and args.format == "png":
                    (out / f"{number:03d}-{station_id}.png").write_bytes(qr_png(url, number))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    manager = PluginManager(disabled=settings.disabled_plugins)
    for name in manager.names:
        info = manager.infos[name]
        print(f"{name}\t{info.version}\t{pick_text(info.title, 'en')}")
        print(f"\thooks: {', '.join(manager.hooks_of(name))}")
    return 0


def cmd_plugins_new(args: argparse.Namespace) -> int:
    from promtour._scaffold import new_plugin

    target = new_plugin(args.name, Path(args.dir))
    print(f"wrote {target}")
    print(f"next: cd {target} && pip install -e '.[test]' && python -m pytest")
    return 0


def build_parser(manager: PluginManager | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="promtour", description=__doc__)
    parser.add_argument("--version", action="version", version=f"promtour {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for name, help_text in (
        ("serve", "run the platform (embedded NATS unless --nats is given)"),
        ("demo", "import the demo tour and run the platform"),
    ):
        p = sub.add_parser(name, help=help_text)
        _settings_args(p, web=True)
        if name == "demo":
            p.add_argument(
                "--demo-dir",
                help="a demo folder of your own, laid out as config/demo: enterprise*.toml "
                "and tours/*.toml (default: the checkout's config/demo)",
            )
        p.set_defaults(func=cmd_serve)

    tours = sub.add_parser("tours", help="import, export and list tours")
    tours_sub = tours.add_subparsers(dest="tours_command", required=True)
    p = tours_sub.add_parser("import", help="import tour TOML files (with their media)")
    p.add_argument("files", nargs="+")
    _settings_args(p)
    p = tours_sub.add_parser("export", help="print a tour as TOML")
    p.add_argument("tour", help="<enterprise>.<tour>")
    p.add_argument("-o", "--output")
    _settings_args(p)
    p = tours_sub.add_parser("list", help="list tours")
    _settings_args(p)
    tours.set_defaults(func=cmd_tours)

    p = sub.add_parser("qr", help="station URLs and QR codes of a tour")
    p.add_argument("tour", help="<enterprise>.<tour>")
    p.add_argument("--format", choices=["svg", "png"], default="svg")
    p.add_argument("--out", help="folder to write one QR file per station")
    _settings_args(p, web=True)
    p.set_defaults(func=cmd_qr)

    plugins = sub.add_parser("plugins", help="installed plugins")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True)
    p = plugins_sub.add_parser("list", help="name, version and hooks of each plugin")
    _settings_args(p)
    p.set_defaults(func=cmd_plugins)
    p = plugins_sub.add_parser(
        "new", help="write a new plugin package (panel, consumer, catalog, tests)"
    )
    p.add_argument("name", help="the plugin's name: lower-case letters, digits, '_'")
    p.add_argument("--dir", default=".", help="where to create promtour-<name>/ (default .)")
    p.set_defaults(func=cmd_plugins_new)

    from promtour._console.cli import add_enterprise_commands

    add_enterprise_commands(sub, _settings_args)

    manager = manager or PluginManager(disabled=_disabled_from_env())
    manager.pm.hook.promtour_cli_commands(subparsers=sub)
    return parser


def _disabled_from_env() -> list[str]:
    try:
        return load_settings().disabled_plugins
    except PromtourError:
        return []


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        result: Any = args.func(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except PromtourError as exc:
        print(f"promtour: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
