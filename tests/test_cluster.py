"""A three-node JetStream cluster keeps every acked scan when the stream leader dies.

Three nats-server processes run on loopback from the deployment recipe's own config
(contrib/deploy/nats-cluster/nats.conf, with loopback ports and folders in its
environment variables), promtour runs against all three with replicas 3, concurrent
first-visit scans go on while the events stream's leader gets SIGKILL. Every scan
answered 200 must have exactly one ``visitor_checked_in`` event and its progress;
scans must succeed again within seconds; the restarted node must catch up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import pytest
from nats.js.api import DeliverPolicy
from promtour._bus import BUCKET_PROGRESS
from promtour._embedded import find_nats_server, free_port
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour.testing import station_path

RECIPE = Path(__file__).resolve().parent.parent / "contrib" / "deploy" / "nats-cluster"
STATIONS = 5
WORKERS = 8
LOAD_BEFORE_KILL = 2.0  # seconds of scans before the leader is killed
# nats-server elects a new stream leader 4 to 9 s (random) after the old one goes silent,
# and a scan waits up to publish_timeout (2 s) for it: failures end within 11 s.
RECOVERY_LIMIT = 12.0  # scans succeed again within this many seconds of the kill
LOAD_AFTER_KILL = 20.0  # at most this long; the load stops once scans pass again
HEALTHY_FOR = 1.5  # seconds of acked scans and no failure that end the load

pytestmark = pytest.mark.cluster


@dataclass
class Node:
    """One nats-server of the cluster, started from the recipe's nats.conf."""

    name: str
    store_dir: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def env(self, routes: list[str]) -> dict[str, str]:
        """The values n1.env … n3.env give on real hosts, here on loopback."""
        return {
            "NODE_NAME": self.name,
            "NODE_HOST": "127.0.0.1",
            "NODE_PORT": str(self.port),
            "NODE_HTTP_PORT": str(self.http_port),
            "NODE_CLUSTER_PORT": str(self.cluster_port),
            "NODE_STORE_DIR": str(self.store_dir),
            "CLUSTER_ROUTES": "[" + ", ".join(routes) + "]",
        }

    def start(self, routes: list[str]) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        with (self.store_dir.parent / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [find_nats_server(), "-c", str(RECIPE / "nats.conf")],
                env={"PATH": os.environ.get("PATH", ""), **self.env(routes)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def jsz(self, query: str = "") -> dict | None:
        """The node's JetStream report from its monitoring port; None while it is down."""
        url = f"http://127.0.0.1:{self.http_port}/jsz{query}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except (OSError, ValueError):
            return None

    def local_stream_state(self, stream: str) -> dict[str, int] | None:
        """This node's own copy of ``stream``, not the leader's."""
        data = self.jsz("?streams=true") or {}
        for account in data.get("account_details") or []:
            for detail in account.get("stream_detail") or []:
                if detail["name"] == stream:
                    return dict(detail["state"])
        return None


@pytest.fixture
def cluster(tmp_path):
    nodes = [Node(f"n{i}", tmp_path / f"n{i}") for i in (1, 2, 3)]
    routes = [f"nats-route://127.0.0.1:{node.cluster_port}" for node in nodes]
    for node in nodes:
        node.start(routes)
    try:
        yield nodes, routes
    finally:
        for node in nodes:
            node.stop()


def test_the_recipe_env_files_set_every_variable_of_nats_conf():
    config = re.sub(r"#.*", "", (RECIPE / "nats.conf").read_text())
    used = set(re.findall(r"\$([A-Z_]+)", config))
    assert used == set(Node("n1", Path("/x")).env([]))
    for i in (1, 2, 3):
        text = (RECIPE / f"n{i}.env").read_text()
        defined = set(re.findall(r"^([A-Z_]+)=", text, re.M))
        assert defined == used, f"n{i}.env"
        assert f"NODE_NAME=n{i}\n" in text


async def until_jetstream(nodes: list[Node], timeout: float = 30.0) -> None:
    """Wait until the cluster has a meta leader and all three peers are current."""
    deadline = time.monotonic() + timeout
    while True:
        meta = {node.name: (node.jsz() or {}).get("meta_cluster") or {} for node in nodes}
        leaders = {m.get("leader") for m in meta.values()}
        if len(leaders) == 1 and (leader := leaders.pop()) in meta:
            # Only the leader knows whether the others are current.
            if all(r.get("current") for r in meta[leader].get("replicas") or [{}]):
                if len(meta[leader]["replicas"]) == 2:
                    return
        if time.monotonic() > deadline:
            raise AssertionError(f"the cluster did not form: {meta}")
        await asyncio.sleep(0.2)


@dataclass
class Scan:
    started: float
    ended: float
    status: int  # 0: no answer
    visitor: str
    station: str


async def drive(base_url: str, tour, stop: asyncio.Event, scans: list[Scan], worker: int) -> None:
    """First-visit scans, one after another: a fresh cookie jar (a new visitor) each."""
    stations = itertools.cycle(range(1 + worker % STATIONS, STATIONS + 1 + worker % STATIONS))
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while not stop.is_set():
            station = f"s{(next(stations) - 1) % STATIONS + 1}"
            client.cookies.clear()
            started = time.monotonic()
            try:
                response = await client.get(station_path(tour, station))
                status = response.status_code
                cookie = response.cookies.get("pt_v") or ""
            except httpx.HTTPError:
                status, cookie = 0, ""
            scans.append(Scan(started, time.monotonic(), status, cookie.rsplit(".", 1)[0], station))


async def until_healthy_again(scans: list[Scan], killed_at: float) -> None:
    """Wait until scans have passed for HEALTHY_FOR seconds with no failure since, or
    LOAD_AFTER_KILL seconds in all: the load then covers the whole election."""
    while (now := time.monotonic()) - killed_at < LOAD_AFTER_KILL:
        await asyncio.sleep(0.25)
        after = [scan for scan in scans if scan.ended > killed_at]
        last_failure = max((s.ended for s in after if s.status != 200), default=killed_at)
        passed = [s for s in after if s.status == 200 and s.started > last_failure]
        if passed and now - min(s.ended for s in passed) >= HEALTHY_FOR:
            return


async def test_a_cluster_keeps_every_acked_scan_when_the_leader_dies(
    cluster, make_platform, serve_app, new_tour
):
    nodes, routes = cluster
    urls = ",".join(node.url for node in nodes)  # the client knows all three
    await until_jetstream(nodes)
    # Every scan comes from 127.0.0.1: no per-address limit in this load test.
    settings = {"nats": {"url": urls, "replicas": 3}, "web": {"scan_rate_per_address": 10**9}}
    setup = await make_platform(consumers=False, entrypoints=False, **settings)
    tour = await new_tour(setup, plugins={}, stations=STATIONS)
    info = await setup.bus.js.stream_info(STREAM)
    assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2
    progress_info = await setup.bus.js.stream_info(f"KV_{BUCKET_PROGRESS}")
    assert progress_info.config.num_replicas == 3
    server = serve_app(entrypoints=False, **settings)

    scans: list[Scan] = []
    stop = asyncio.Event()
    workers = [asyncio.create_task(drive(server.url, tour, stop, scans, i)) for i in range(WORKERS)]
    try:
        await asyncio.sleep(LOAD_BEFORE_KILL)
        leader_name = (await setup.bus.js.stream_info(STREAM)).cluster.leader
        leader = next(node for node in nodes if node.name == leader_name)
        killed_at = time.monotonic()
        leader.kill()
        await until_healthy_again(scans, killed_at)
    finally:
        stop.set()
        await asyncio.gather(*workers)

    # The killed node comes back and catches up with the others.
    leader.start(routes)
    restarted_at = time.monotonic()
    info = await setup.bus.js.stream_info(STREAM)
    last_seq = info.state.last_seq
    state: dict[str, int] | None = None
    while time.monotonic() - restarted_at < 20:
        state = leader.local_stream_state(STREAM)
        if state is not None and state["last_seq"] == last_seq:
            break
        await asyncio.sleep(0.2)
    caught_up = time.monotonic() - restarted_at
    assert state is not None and state["last_seq"] == last_seq, (state, last_seq)

    # Every acked scan: exactly one event, and the visitor's progress.
    subject = subject_for(tour.enterprise, tour.id, "visitor_checked_in")
    stored = (await setup.bus.js.stream_info(STREAM, subjects_filter=subject)).state.subjects
    total = (stored or {}).get(subject, 0)
    events: Counter[str] = Counter()
    sub = await setup.bus.js.subscribe(
        subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        for _ in range(total):
            msg = await sub.next_msg(timeout=5)
            events[msgspec.json.decode(msg.data, type=VisitorCheckedIn).visitor] += 1
    finally:
        await sub.unsubscribe()
    acked = [scan for scan in scans if scan.status == 200]
    errors = [scan for scan in scans if scan.status != 200]
    assert acked and all(scan.visitor for scan in acked)
    assert len({scan.visitor for scan in acked}) == len(acked)  # first visits only
    lost = [scan.visitor for scan in acked if events[scan.visitor] != 1]
    assert not lost, f"{len(lost)} acked scans without exactly one event: {lost[:5]}"
    assert all(count == 1 for count in events.values()), "an event stored twice"

    async def visited(scan: Scan) -> list[str] | None:
        progress = await setup.visits.progress(tour, scan.visitor)
        return progress.visited if progress else None

    progress = await asyncio.gather(*(visited(scan) for scan in acked))
    missing = [s.visitor for s, v in zip(acked, progress, strict=True) if v != [s.station]]
    assert not missing, f"{len(missing)} acked scans without their progress: {missing[:5]}"

    # Scans succeed again soon after the kill.
    after = [scan for scan in scans if scan.started > killed_at]
    failed_after = [scan for scan in after if scan.status != 200]
    last_failure = max((scan.ended for scan in failed_after), default=killed_at) - killed_at
    ok_after = [scan for scan in after if scan.status == 200]
    first_ok = min((scan.ended for scan in ok_after), default=float("inf")) - killed_at
    slowest = max(scan.ended - scan.started for scan in scans)
    print(
        f"\ncluster: {len(scans)} scans, {len(acked)} acked (200), "
        f"{len(errors)} errors ({dict(Counter(scan.status for scan in errors))}), "
        f"{total} events stored, 0 acked lost; leader {leader_name} killed after "
        f"{LOAD_BEFORE_KILL:g} s: last failed scan ended {last_failure:.2f} s after the "
        f"kill, first acked scan started after it ended at {first_ok:.2f} s, slowest scan "
        f"{slowest:.2f} s; restarted node caught up in {caught_up:.2f} s "
        f"(last seq {last_seq}, {info.state.bytes / max(info.state.messages, 1):.0f} "
        f"bytes/event)"
    )
    # A failed scan is a "please try again" (503), never a 500 or no answer.
    assert all(scan.status == 503 for scan in errors), Counter(s.status for s in errors)
    assert last_failure < RECOVERY_LIMIT
    assert any(scan.started > killed_at + last_failure for scan in ok_after), (
        "no acked scan after the last failure"
    )
