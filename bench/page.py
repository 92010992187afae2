"""The phone side: what a visitor's browser waits for, on a slow mobile network.

Starts a nats-server and ``promtour demo`` (one worker), then drives Debian's Chromium
through Playwright on Chrome's "Fast 3G" preset (562.5 ms latency, 1.6 Mbps down and
750 Kbps up, each times 0.9, the numbers of Chrome's DevTools preset), applied by a
relay in front of the server (:class:`SlowLink` says why not CDP's
``Network.emulateNetworkConditions``) and, with ``--cpu N``, the CPU slowed N times
over CDP (``Emulation.setCPUThrottlingRate``). For the start page and every
station of the demo tour it loads the page

- **cold**: a fresh browser context (empty cache, no cookies: a new visitor who just
  scanned the poster), on a server that has served each page once before (as a running
  server has: its templates compiled and each station's render cache filled), and
- **warm**: in one context that went through the start page and the stations before
  it (the cache holds what the earlier pages fetched; the scan is a real check-in),

and prints per page:

- ``fcp``: first contentful paint (ms after the navigation started);
- ``ttfb``: when the page's first byte arrived (the network's latency is in it);
- ``HTML+CSS in``: when the page and its stylesheets had fully arrived: what the
  network alone allows for the first paint (on a shared machine Chromium may wait
  longer for a CPU; this figure does not);
- ``paint-after-byte``: fcp - ttfb, what the page itself costs once it arrives (on
  "Fast 3G" no page paints before one round trip: 562.5 ms);
- ``usable``: when the page's scripts ran and the controls are there: the moment the
  page sets ``data-ready`` on ``<html>`` (the core's script does after the plugins'
  scripts started), else the end of ``DOMContentLoaded`` (deferred scripts have run);
- ``before-fcp``: bytes (encoded, headers included) of every response that had begun
  to arrive by the first paint, each counted whole (an upper bound);
- ``total``: bytes received until the page is loaded and one more second passed;
- ``audio``: of those, bytes of audio (nobody pressed play: all of it is "before play");
- ``on the link``: bytes the relay delivered to the browser while the page was
  measured (from the navigation until one second after ``load``), counted by
  :class:`SlowLink`: it sees what the tour's service worker fetches too, which the
  page's CDP session does not (a returning visitor's navigations go through it);
- ``requests``: responses received.

Run::

    python bench/page.py                 # Fast 3G, CPU not slowed
    python bench/page.py --cpu 4         # also a mid-range phone's CPU
    python bench/page.py --zlib          # what gzipping a page costs (no browser)

``--zlib`` fetches a new visitor's first station page (stylesheet and script inline)
and a returning visitor's one, and times ``zlib`` levels 1-6 on each (timeit, best
of 15 repeats, wall and process CPU time), beside the compressed sizes.

Everything it starts is stopped by PID. Figures: docs/performance.md ("The phone").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scan as server_bench  # noqa: E402  (bench/scan.py: servers, NATS, paths)

__all__ = ["FAST_3G", "Figures", "main"]

#: Chrome DevTools' "Fast 3G" preset (front_end/core/sdk/NetworkManager.ts).
FAST_3G = {
    "offline": False,
    "latency": 150 * 3.75,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}
CHROMIUM = os.environ.get("PROMTOUR_CHROMIUM", "/usr/bin/chromium")
START = "/t/uralpress/main"

#: Runs in every page before its own scripts: notes when ``data-ready`` appears.
READY_PROBE = """
(() => {
  const seen = () => {
    if (document.documentElement && document.documentElement.hasAttribute("data-ready")
        && window.__ptReady === undefined) window.__ptReady = performance.now();
  };
  new MutationObserver(seen).observe(document, {attributes: true, subtree: true});
})();
"""


class SlowLink:
    """A phone's link as a TCP relay in front of the server: every chunk waits half the
    preset's latency each way (so a request and its answer take one round trip, as in
    Chrome's emulation) and the answers share the preset's download rate (one radio,
    however many connections the browser opens).

    Why not only CDP: Chromium 156's ``Network.emulateNetworkConditions`` throttles a
    page's subresources but not, reliably, its navigation request (measured: the
    document's first byte after 15-280 ms under a 562.5 ms latency), and a scan is a
    navigation. The relay shapes every byte the same way.
    """

    def __init__(self, target_port: int, conditions: dict[str, Any]) -> None:
        self.target_port = target_port
        self.half_rtt = conditions["latency"] / 2000
        self.down = conditions["downloadThroughput"]
        self.up = conditions["uploadThroughput"]
        self.port = server_bench.free_port()
        self._free = {"down": 0.0, "up": 0.0}
        #: Bytes delivered to the browser so far (read between pages).
        self.down_bytes = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowLink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            # The browser's connections may still be open: end their relays here, or
            # the interpreter reports them destroyed while pending at exit.
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, "up", self.up),
                self._pipe(up_reader, writer, "down", self.down),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # The relay is stopping (the end of the bench): a connection task that
            # ends cancelled makes asyncio's server print a traceback.
            writer.close()
            up_writer.close()

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, way: str, rate: float
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                delay = due - self._loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                dst.write(data)
                await dst.drain()
                if way == "down":
                    self.down_bytes += len(data)
            dst.close()

        sender = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await src.read(4096)
                if not data:
                    break
                # The link sends one chunk after another at ``rate``; the chunk arrives
                # half a round trip after it was sent.
                start = max(self._loop.time(), self._free[way])
                self._free[way] = start + len(data) / rate
                queue.put_nowait((self._free[way] + self.half_rtt, data))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait((0.0, b""))
            await sender


class Figures(msgspec.Struct, kw_only=True):
    page: str
    cache: str
    fcp_ms: float
    ttfb_ms: float
    critical_ms: float
    paint_after_byte_ms: float
    usable_ms: float
    ready_flag: bool
    before_fcp_bytes: int
    total_bytes: int
    audio_bytes: int
    link_bytes: int
    requests: int
    stylesheets: int
    scripts: int


class Traffic:
    """Bytes received per request over CDP, with CDP's monotonic timestamps."""

    def __init__(self, cdp: Any) -> None:
        self.chunks: list[tuple[float, int]] = []
        #: When each response's headers arrived (CDP seconds).
        self.began: dict[str, float] = {}
        self.per_request: dict[str, int] = {}
        self.start: dict[str, float] = {}
        self.kind: dict[str, str] = {}
        self.audio: set[str] = set()
        self.finished: set[str] = set()
        #: When the document and each stylesheet had fully arrived (CDP seconds).
        self.blocking_done: list[float] = []
        self.document_start: float | None = None
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict[str, Any]) -> None:
        self.start[event["requestId"]] = event["timestamp"]
        if event.get("type") == "Document" and self.document_start is None:
            self.document_start = event["timestamp"]

    def _response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        self.began[event["requestId"]] = event["timestamp"]
        self.kind[event["requestId"]] = event.get("type", "")
        mime = response.get("mimeType", "")
        if mime.startswith("audio/") or event.get("type") == "Media":
            self.audio.add(event["requestId"])

    def _data(self, event: dict[str, Any]) -> None:
        size = int(event.get("encodedDataLength") or 0)
        if size:
            self.chunks.append((event["timestamp"], size))
            rid = event["requestId"]
            self.per_request[rid] = self.per_request.get(rid, 0) + size

    def _finished(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        self.finished.add(rid)
        if self.kind.get(rid) in ("Document", "Stylesheet"):
            self.blocking_done.append(event["timestamp"])
        # The total counts the headers too; what dataReceived did not report arrives
        # (for this count) when the response is complete.
        rest = int(event.get("encodedDataLength") or 0) - self.per_request.get(rid, 0)
        if rest > 0:
            self.chunks.append((event["timestamp"], rest))
            self.per_request[rid] = self.per_request.get(rid, 0) + rest

    def critical_ms(self) -> float:
        """When the page and its stylesheets had arrived: the paint's network bound."""
        assert self.document_start is not None
        return (max(self.blocking_done, default=self.document_start) - self.document_start) * 1000

    def bytes_until(self, ms_after_start: float) -> int:
        """The bytes of every response that had begun to arrive by then, each counted
        whole: an upper bound. (Chromium reports most of a response's bytes only when
        it has finished, so counting chunks by time gave 0 for a page that painted
        while its last bytes were on the way.)"""
        assert self.document_start is not None
        limit = self.document_start + ms_after_start / 1000
        return sum(self.per_request.get(rid, 0) for rid, at in self.began.items() if at <= limit)


def measure(link: SlowLink, context: Any, url: str, name: str, cache: str, cpu: float) -> Figures:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")  # the preset's shaping is SlowLink's (see there)
    if cpu > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
    traffic = Traffic(cdp)
    page.add_init_script(READY_PROBE)
    delivered = link.down_bytes
    page.goto(url, wait_until="load", timeout=60_000)
    # Polled from here: wait_for_function's in-page polling evaluates a string, which
    # the pages' CSP (no 'unsafe-eval') refuses once the first check is not yet true.
    for _ in range(600):
        if page.evaluate("performance.getEntriesByName('first-contentful-paint').length > 0"):
            break
        page.wait_for_timeout(50)
    else:
        raise SystemExit(f"page.py: {name} ({cache}) never painted")
    page.wait_for_timeout(1000)  # anything the page starts fetching by itself (audio)
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return {
            fcp: fcp.startTime, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd,
            ready: window.__ptReady === undefined ? null : window.__ptReady,
            css: document.querySelectorAll('link[rel=stylesheet]').length
                 + document.querySelectorAll('style').length,
            js: document.querySelectorAll('script[src]').length,
          };
        }"""
    )
    delivered = link.down_bytes - delivered
    page.close()
    ready = timing["ready"]
    return Figures(
        page=name,
        cache=cache,
        fcp_ms=round(timing["fcp"], 1),
        ttfb_ms=round(timing["ttfb"], 1),
        critical_ms=round(traffic.critical_ms(), 1),
        paint_after_byte_ms=round(timing["fcp"] - timing["ttfb"], 1),
        usable_ms=round(ready if ready is not None else timing["dcl"], 1),
        ready_flag=ready is not None,
        before_fcp_bytes=traffic.bytes_until(timing["fcp"]),
        total_bytes=sum(traffic.per_request.values()),
        audio_bytes=sum(traffic.per_request.get(r, 0) for r in traffic.audio),
        link_bytes=delivered,
        requests=len(traffic.finished),
        stylesheets=timing["css"],
        scripts=timing["js"],
    )


def run(link: SlowLink, stations: list[str], cpu: float, rounds: int) -> list[Figures]:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{link.port}"
    pages = [("start", START)] + [
        (f"station {i}", path) for i, path in enumerate(stations, start=1)
    ]
    results: list[Figures] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            # The server's first visitors compile its templates and fill the render
            # cache of each station: a running server has done that long before a
            # phone comes (a phone's "cold" is its own cache, not the server's).
            context = browser.new_context()
            try:
                for _, path in pages:
                    context.new_page().goto(base + path, wait_until="load")
            finally:
                context.close()
            for _ in range(rounds):
                for name, path in pages:
                    context = browser.new_context()
                    try:
                        results.append(measure(link, context, base + path, name, "cold", cpu))
                    finally:
                        context.close()
                context = browser.new_context()
                try:
                    # The visitor opens the start page first (unmeasured: it is the
                    # cold start page above), then every page again, then each station.
                    context.new_page().goto(base + START, wait_until="load")
                    for name, path in pages:
                        results.append(measure(link, context, base + path, name, "warm", cpu))
                finally:
                    context.close()
        finally:
            browser.close()
    return results


def median_by_page(results: list[Figures]) -> list[Figures]:
    """One row per page and cache state: the median of each figure over the rounds."""
    groups: dict[tuple[str, str], list[Figures]] = {}
    for r in results:
        groups.setdefault((r.cache, r.page), []).append(r)
    rows = []
    for (_, _), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        middle: dict[str, Any] = {}
        for field in Figures.__struct_fields__:
            values = [getattr(r, field) for r in runs]
            if isinstance(values[0], (int, float)) and not isinstance(values[0], bool):
                values.sort()
                middle[field] = values[len(values) // 2]
            else:
                middle[field] = values[0]
        rows.append(Figures(**middle))
    return rows


def _order(page: str) -> int:
    return 0 if page == "start" else int(page.split()[1])


def table(rows: list[Figures]) -> str:
    head = (
        "| cache | page | FCP ms | TTFB ms | HTML+CSS in ms | paint after 1st byte ms | usable ms "
        "| KB before FCP | KB total | KB on the link | audio KB | requests | css | js |"
    )
    out = [head, "|" + "---|" * 14]
    for r in rows:
        usable = f"{r.usable_ms:,.0f}" + ("" if r.ready_flag else " (DCL)")
        out.append(
            f"| {r.cache} | {r.page} | {r.fcp_ms:,.0f} | {r.ttfb_ms:,.0f} | {r.critical_ms:,.0f} "
            f"| {r.paint_after_byte_ms:,.0f} | {usable} | {r.before_fcp_bytes / 1000:.1f} "
            f"| {r.total_bytes / 1000:.1f} | {r.link_bytes / 1000:.1f} "
            f"| {r.audio_bytes / 1000:.1f} | {r.requests} "
            f"| {r.stylesheets} | {r.scripts} |"
        )
    return "\n".join(out)


def zlib_costs(base: str, stations: list[str]) -> str:
    """A table: per page and zlib level, compressed size and time per compression."""
    import timeit
    import zlib

    import httpx

    plain = {"Accept-Encoding": "identity", "Accept-Language": "ru"}
    with httpx.Client(base_url=base, headers=plain, follow_redirects=True) as client:
        first = client.get(stations[0]).content  # no cookie yet: the first page
        again = client.get(stations[1]).content
    out = ["| page | KB | zlib level | KB gzipped | wall µs | CPU µs | µs CPU per KB |"]
    out.append("|" + "---|" * 7)
    for name, body in (("first page (inline CSS+JS)", first), ("next station", again)):
        for level in range(1, 7):
            number = 50

            def job(body: bytes = body, level: int = level) -> bytes:
                return zlib.compress(body, level)

            wall = min(timeit.repeat(job, number=number, repeat=15)) / number
            cpu = min(timeit.repeat(job, number=number, repeat=15, timer=time.process_time))
            cpu /= number
            out.append(
                f"| {name} | {len(body) / 1000:.1f} | {level} | {len(job()) / 1000:.1f} "
                f"| {wall * 1e6:,.0f} | {cpu * 1e6:,.0f} | {cpu * 1e6 / (len(body) / 1000):.1f} |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", type=float, default=1.0, help="CPU slow-down (4 = phone)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per page (median)")
    parser.add_argument("--json", metavar="FILE", help="write every run as JSON")
    parser.add_argument("--zlib", action="store_true", help="time gzip on the pages only")
    args = parser.parse_args(argv)

    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; revision "
        f"{server_bench.revision()}; Fast 3G, CPU x{args.cpu:g}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="promtour-page-"))
    nats_server: Any = None
    server: Any = None
    try:
        from promtour._embedded import EmbeddedNats

        nats_server = EmbeddedNats(tmp / "nats").start()
        port = server_bench.free_port()
        server = server_bench.start_promtour(nats_server.url, 1, port, tmp)
        server.wait(90)
        stations = server_bench.station_paths_from_log(server.log)
        if args.zlib:
            print(zlib_costs(f"http://127.0.0.1:{port}", stations))
            return 0
        started = time.monotonic()
        with SlowLink(port, FAST_3G) as link:
            results = run(link, stations, args.cpu, args.rounds)
        print(
            f"({len(results)} page loads in {time.monotonic() - started:.0f} s, "
            f"median of {args.rounds})\n"
        )
        print(table(median_by_page(results)))
        if args.json:
            Path(args.json).write_bytes(msgspec.json.encode(results))
    finally:
        if server is not None:
            server.stop()
        if nats_server is not None:
            nats_server.stop()
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
