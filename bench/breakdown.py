"""Where a scan's CPU goes: the real app, in one process, without HTTP.

``bench/scan.py`` says how fast the scan path is; this says why. It builds the same
litestar app that ``promtour serve`` runs (demo tour, installed plugins, consumers
on), calls it directly through ASGI with 64 concurrent visitors (each with its own
``pt_v`` cookie; a visitor scans every station once, then a new one takes over, so
every scan is a first visit), and measures CPU microseconds per scan:

- as it is (``full``);
- with one part taken out at a time: the plugin panels (``collect_panels`` returns
  no panel), one plugin's station panel (``no-panel:<plugin>``), the check-in
  (``Platform.check_in`` returns the first check-in at that station, without
  touching NATS), the page template (``RequestContext.render`` returns a fixed
  string), the plugins' event consumers (not started);
- with panels, check-in and page template all taken out (``bare``): what litestar
  routing, the request context, the rate limiter and the response cost.

The difference to ``full`` is what that part costs. Template time is also measured
directly, per template, by timing ``Platform.render``. Parts overlap a little (the
event loop's own work is shared), so the deltas do not add up exactly.

Run (a nats-server is started in a temporary folder unless ``--nats`` is given)::

    python bench/breakdown.py
    python bench/breakdown.py --rounds 80 --only full,no-panels

Nothing here is a test: the figures belong in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from demo_plugins import installed_plugins, trimmed_demo

__all__ = ["main"]

VARIANTS = ["full", "no-panels", "no-checkin", "no-render", "no-consumers", "bare"]


class Harness:
    """One app instance, driven through ASGI by concurrent visitors."""

    def __init__(self, app: Any, paths: list[str]) -> None:
        self.app = app
        self.paths = paths
        self.cookies: dict[int, bytes] = {}
        self.statuses: Counter[int] = Counter()
        self._lifespan: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] != "lifespan.startup.complete":
            raise SystemExit(f"breakdown: the app did not start: {message}")

    async def stop(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if self._lifespan is not None:
            await self._lifespan

    async def scan(self, visitor: int, path: str) -> None:
        headers = [(b"host", b"127.0.0.1")]
        if visitor in self.cookies:
            headers.append((b"cookie", self.cookies[visitor]))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000 + visitor),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
                if visitor not in self.cookies:
                    for name, value in message["headers"]:
                        if name == b"set-cookie" and value.startswith(b"pt_v="):
                            self.cookies[visitor] = value.split(b";")[0]

        await self.app(scope, receive, send)

    async def run(self, visitors: int, rounds: int) -> tuple[int, float, float]:
        """``rounds`` scans per visitor, all visitors at once; (scans, cpu s, wall s)."""

        async def visitor(n: int) -> None:
            for i in range(rounds):
                if i % len(self.paths) == 0:
                    # A new visitor after every station was scanned once: every scan is
                    # a first visit (a rescan within seconds is a double tap, no event).
                    self.cookies.pop(n, None)
                await self.scan(n, self.paths[(n + i) % len(self.paths)])

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(visitor(n) for n in range(visitors)))
        return visitors * rounds, time.process_time() - cpu, time.perf_counter() - wall


class RenderClock:
    """Wraps ``Platform.render`` to sum CPU time per template (own time, not nested)."""

    def __init__(self, render: Callable[..., str]) -> None:
        self._render = render
        self.own: dict[str, float] = defaultdict(float)
        self._stack: list[float] = []

    def __call__(self, template: str, *args: Any, **kwargs: Any) -> str:
        self._stack.append(0.0)
        start = time.process_time()
        try:
            return self._render(template, *args, **kwargs)
        finally:
            spent = time.process_time() - start
            nested = self._stack.pop()
            self.own[template] += spent - nested
            if self._stack:
                self._stack[-1] += spent

    def reset(self) -> None:
        self.own.clear()


async def caught_up(platform: Any, timeout: float = 60.0) -> None:
    """Wait until every running plugin consumer has handled the stream's last event."""
    consumers = platform.consumers
    deadline = time.monotonic() + timeout
    for plugin in consumers.plugins():
        if not any(t.get_name() == f"consumer-{plugin}" for t in consumers._tasks):
            continue
        while time.monotonic() < deadline:
            done, last = await consumers.progress(plugin)
            if done >= last:
                break
            await asyncio.sleep(0.05)


async def variant(name: str, nats_url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Build a fresh platform and app, apply the variant's cuts, measure."""
    import promtour._web.pages as pages
    import promtour._web.station_frame as station_frame
    from promtour._platform import Platform
    from promtour._server import import_demo, station_urls
    from promtour._settings import load_settings
    from promtour._web.app import create_app
    from promtour._web.request import RequestContext

    only = [p for p in args.plugins_only.split(",") if p] if args.plugins_only else None
    settings = load_settings(
        nats={"url": nats_url},
        secret_key="bench-secret-key-bench-secret-key-bench-secret",
        data_dir=str(tmp),
        log_level="WARNING",
        web={"scan_rate_per_minute": 1_000_000_000, "scan_rate_per_address": 1_000_000_000},
        disabled_plugins=[p for p in installed_plugins() if only is not None and p not in only],
    )
    platform = Platform(settings)
    await platform.start(consumers=False)
    await import_demo(platform, *([trimmed_demo(only, tmp)] if only is not None else []))
    paths = ["/s/" + url.split("/s/", 1)[1] for _, _, url in station_urls(platform, args.tour)]
    await platform.stop()

    platform = Platform(settings)
    restore: list[Callable[[], None]] = []

    def patch(owner: Any, attr: str, value: Any) -> None:
        old = getattr(owner, attr)
        setattr(owner, attr, value)
        restore.append(lambda: setattr(owner, attr, old))

    cut = {
        "no-panels": {"panels"},
        "no-checkin": {"checkin"},
        "no-render": {"render"},
        "no-consumers": {"consumers"},
        "bare": {"panels", "checkin", "render"},
    }.get(name, set())
    if name.startswith("no-panel:"):
        # One plugin's station panel left out: what that plugin costs a scan.
        skip = name.split(":", 1)[1]
        call_each = platform.plugins.call_each

        async def call_each_without(hook: str, enabled: Any, **kw: Any) -> Any:
            if hook == "promtour_station_panels":
                enabled = [plugin for plugin in enabled if plugin != skip]
            return await call_each(hook, enabled, **kw)

        platform.plugins.call_each = call_each_without  # type: ignore[method-assign]
    if "panels" in cut:

        async def no_panels(*a: Any, **k: Any) -> list[Any]:
            return []

        patch(pages, "collect_panels", no_panels)
    if "render" in cut:
        page = "x" * 8000
        patch(RequestContext, "render", lambda self, template, **values: page)
        # The station page from its frame renders the panels and the progress list
        # without RequestContext.render: cut it too (the page then goes through it).
        patch(station_frame, "ENABLED", False)
    if "checkin" in cut:
        real = platform.visits.check_in
        last: dict[str, Any] = {}

        async def cached_check_in(state: Any, station: Any, visitor: str, **kw: Any) -> Any:
            # The first check-in at each station, for everyone: no NATS work after it.
            if station.id not in last:
                last[station.id] = await real(state, station, visitor, **kw)
            return last[station.id]

        platform.visits.check_in = cached_check_in  # type: ignore[method-assign]
    if "consumers" in cut:

        async def no_consumers() -> None:
            return None

        platform.consumers.start = no_consumers  # type: ignore[method-assign]
    clock = RenderClock(platform.render)
    platform.render = clock  # type: ignore[method-assign]

    app = create_app(platform)
    harness = Harness(app, paths)
    await harness.start()
    try:
        await harness.run(args.visitors, 3)  # warm-up: cookies, caches, first KV writes
        await caught_up(platform)
        clock.reset()
        harness.statuses.clear()
        profile = cProfile.Profile() if args.profile and name == "full" else None
        if profile is not None:
            profile.enable()
        sent = platform.bus.nc.stats["out_msgs"]
        received = platform.bus.nc.stats["in_msgs"]
        scans, cpu, wall = await harness.run(args.visitors, args.rounds)
        # The consumers work behind the scans: their share of the scans is counted
        # (the CPU until each plugin has handled every event of the run).
        cpu_start = time.process_time() - cpu
        await caught_up(platform)
        cpu = time.process_time() - cpu_start
        # Messages this process sent and got over NATS (requests, publishes, acks,
        # fetches, replies and deliveries), the catch-up's progress checks included.
        sent = platform.bus.nc.stats["out_msgs"] - sent
        received = platform.bus.nc.stats["in_msgs"] - received
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
    finally:
        await harness.stop()
        for undo in reversed(restore):
            undo()
    return {
        "variant": name,
        "scans": scans,
        "us_per_scan": 1e6 * cpu / scans,
        "scans_per_s": scans / wall,
        "sent_per_scan": sent / scans,
        "received_per_scan": received / scans,
        "statuses": dict(harness.statuses),
        "templates": {t: 1e6 * s / scans for t, s in clock.own.items()},
    }


async def run(args: argparse.Namespace) -> None:
    import uvloop  # noqa: F401  (the loop is chosen in main)

    tmp = Path(tempfile.mkdtemp(prefix="promtour-breakdown-"))
    server = None
    if args.nats:
        nats_url = args.nats
    else:
        from promtour._embedded import EmbeddedNats

        server = EmbeddedNats(tmp / "nats").start()
        nats_url = server.url
    try:
        names = (
            args.only.split(",")
            if args.only
            else VARIANTS + [f"no-panel:{plugin}" for plugin in args.plugins.split(",") if plugin]
        )
        # Variants take turns, ``--repeat`` times; the least CPU per scan of each counts
        # (other work on the machine only ever adds).
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for name in names:
                result = await variant(name, nats_url, args, tmp)
                if name not in best or result["us_per_scan"] < best[name]["us_per_scan"]:
                    best[name] = result
        results = [best[name] for name in names]
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    full = next((r for r in results if r["variant"] == "full"), None)
    print(
        f"{args.visitors} concurrent visitors x {args.rounds} scans, in-process (no HTTP), "
        f"best of {args.repeat}; load average now {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'variant':<22} {'µs/scan':>8} {'saves':>7} {'scans/s':>8} {'msgs out':>8} "
        f"{'msgs in':>7}  statuses"
    )
    for r in results:
        saves = f"{full['us_per_scan'] - r['us_per_scan']:7.0f}" if full else "      -"
        print(
            f"{r['variant']:<22} {r['us_per_scan']:8.0f} {saves} {r['scans_per_s']:8.0f} "
            f"{r['sent_per_scan']:8.1f} {r['received_per_scan']:7.1f}  {r['statuses']}"
        )
    print("(msgs out/in: NATS messages this process sent and received per scan)")
    if full:
        print("\ntemplate CPU per scan (own time, in the full variant):")
        for template, us in sorted(full["templates"].items(), key=lambda x: -x[1]):
            print(f"  {us:7.1f} µs  {template}")
        plugin = sum(us for t, us in full["templates"].items() if "/" in t)
        core = sum(us for t, us in full["templates"].items() if "/" not in t)
        print(f"  {core:7.1f} µs  core templates, {plugin:.1f} µs plugin templates")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", help="NATS URL; default: a nats-server in a temp folder")
    parser.add_argument("--visitors", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=40, help="scans per visitor")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (best)")
    parser.add_argument("--tour", default="uralpress.main")
    parser.add_argument(
        "--only",
        help=f"comma-separated variants of: {', '.join(VARIANTS)}, no-panel:<plugin>",
    )
    parser.add_argument(
        "--plugins",
        default="audio_guide,quests,career",
        help="plugins to leave out one at a time (no-panel:<plugin> variants)",
    )
    parser.add_argument(
        "--plugins-only",
        metavar="NAME[,NAME...]",
        help="only these plugins installed and enabled (the demo tour trimmed to them), "
        "as bench/scan.py --plugins",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="write a cProfile of the full variant's measured run (read it with pstats)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("PROMTOUR_LOG_LEVEL", "WARNING")
    runner: Callable[[Awaitable[None]], None]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
