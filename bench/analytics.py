"""Analytics: replay speed of the read model and the time to render its pages.

Generates a synthetic stream (days of school groups and families over a 5-station
tour: check-ins, audio listening, quest answers and hints, career quizzes, leads,
finishes), publishes it into a fresh embedded nats-server (or ``--nats``), then
replays it into the analytics consumer from the stream's first event and prints
events/s and the memory this process used; then serves the app and times the
analytics pages and the JSON API with all those events behind them.

    python bench/analytics.py                    # 1,000,000 events
    python bench/analytics.py --events 100000    # a quick run

Everything it starts (nats-server, the web server) is stopped when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
from promtour._auth import create_token
from promtour._embedded import EmbeddedNats
from promtour._events import STREAM
from promtour._manager import PluginManager
from promtour._models import Enterprise, Station, Tour
from promtour._platform import Platform
from promtour._settings import load_settings
from promtour.plugins.analytics import reading
from promtour.testing import LiveServer

STATIONS = ["gate", "press", "weld", "paint", "qc"]
CODES = ["RIC", "SEA", "IRC", "ESC", "AIS", "CRE", "RIA"]
PROFESSIONS = ["welder", "press-operator", "painter", "engineer", "inspector", "chemist"]


def load() -> str:
    """The load average (1, 5, 15 minutes): the machine is shared."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic(ent: str, tour: str, total: int, seed: int = 7) -> Iterator[tuple[str, bytes]]:
    """(subject, JSON) of ``total`` events, in time order per visitor and day.

    A generator: a million events held at once would be most of a GB of RAM."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes]] = []
    made = 0
    enc = msgspec.json.Encoder()
    day = date(2026, 3, 2)

    def add(kind: str, at: datetime, visitor: str | None, group: str | None, **fields: Any) -> None:
        body = {
            "type": kind,
            "id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "enterprise": ent,
            "tour": tour,
            "visitor": visitor,
            "group": group,
            "time": at.isoformat(),
            **fields,
        }
        out.append((f"promtour.ev.{ent}.{tour}.{kind}", enc.encode(body)))

    n = 0
    while len(out) < total:
        start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        # A day: a few school classes (groups of 25) and families (no group).
        parties = [(f"c{n}-{g}", 25) for g in range(rng.randint(2, 5))]
        parties += [(None, rng.randint(2, 5)) for _ in range(rng.randint(10, 30))]
        for group, size in parties:
            t0 = start + timedelta(minutes=rng.randint(0, 420))
            for _ in range(size):
                n += 1
                v = f"v{n:08d}"
                lang = "en" if rng.random() < 0.15 else "ru"
                at = t0 + timedelta(seconds=rng.randint(0, 120))
                if group:
                    add("visitor_joined_group", at, v, group)
                length = rng.choices([5, 4, 3, 2, 1], [60, 15, 10, 10, 5])[0]
                for k, station in enumerate(STATIONS[:length]):
                    add(
                        "visitor_checked_in",
                        at,
                        v,
                        group,
                        station=station,
                        method="number" if rng.random() < 0.1 else "qr",
                        repeat=False,
                        lang=lang,
                    )
                    if rng.random() < 0.8:
                        audio = {"track": f"{station}-main", "lang": lang, "station": station}
                        add("audio_listen_started", at, v, group, **audio)
                        reach = rng.choices([0, 1, 2, 3, 4], [10, 10, 15, 15, 50])[0]
                        for q in range(1, min(reach, 3) + 1):
                            add("audio_listen_progressed", at, v, group, quartile=q, **audio)
                        if reach == 4:
                            add("audio_listen_finished", at, v, group, **audio)
                    if k in (1, 2, 3):
                        mission = f"m-{station}"
                        quest = {"mission": mission, "station": station}
                        if rng.random() < 0.2:
                            add("quest_hint_taken", at, v, group, hint=1, cost=1, **quest)
                        right = rng.random() < 0.7
                        add(
                            "quest_answer_submitted",
                            at,
                            v,
                            group,
                            correct=right,
                            attempt=1,
                            **quest,
                        )
                        if not right:
                            add(
                                "quest_answer_submitted",
                                at,
                                v,
                                group,
                                correct=True,
                                attempt=2,
                                **quest,
                            )
                        add(
                            "quest_mission_completed",
                            at,
                            v,
                            group,
                            points=3,
                            hints_used=0,
                            correct_first_try=right,
                            **quest,
                        )
                    at += timedelta(seconds=rng.randint(120, 900))
                if length >= 4:
                    add("quest_completed", at, v, group, score=9, solved=3, missions=3)
                if rng.random() < 0.4:
                    add("career_quiz_completed", at, v, group, code=rng.choice(CODES), answered=12)
                    if rng.random() < 0.05:
                        add("career_lead_created", at, None, None, lead=uuid.uuid4().hex)
                if length == 5:
                    add("tour_finished", at, v, group, stations_visited=5)
                if length >= 3 and rng.random() < 0.3:
                    profession = {"profession": rng.choice(PROFESSIONS)}
                    add("career_top_ranked", at, v, group, **profession)
                yield from out[: total - made]
                made += min(len(out), total - made)
                out.clear()
                if made >= total:
                    return
        day += timedelta(days=1)


async def publish_all(platform: Platform, events: Iterator[tuple[str, bytes]]) -> list[str]:
    """Publish in order, without waiting for an ack each (core NATS publishes into the
    stream's subjects, one connection keeps the order; a JetStream ack per event made
    publishing a million take a quarter of an hour here); then wait until the stream
    holds them all. Returns the first and last event's day."""
    nc = platform.bus.js._nc
    before = (await platform.bus.js.stream_info(STREAM)).state.last_seq
    count = 0
    first = last = b""
    for subject, data in events:
        await nc.publish(subject, data)
        if not count:
            first = data
        last = data
        count += 1
        if count % 20000 == 0:
            await nc.flush(timeout=60)
            print(f"\rpublished {count}", end="", flush=True)
    await nc.flush(timeout=60)
    deadline = time.monotonic() + 120
    while (await platform.bus.js.stream_info(STREAM)).state.last_seq < before + count:
        if time.monotonic() > deadline:
            raise SystemExit("the stream did not receive every event")
        await asyncio.sleep(0.2)
    print(f"\rpublished {count}")
    return [msgspec.json.decode(d)["time"][:10] for d in (first, last)]


async def replay(platform: Platform, profile: str | None) -> tuple[float, float, float]:
    """(wall seconds, RSS growth MB, CPU seconds of this process) of a replay;
    with ``profile``, the replay's cProfile statistics are written there."""
    consumers = platform.consumers
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    await consumers.reset("analytics")
    before = rss_mb()
    peak = before
    cpu = time.process_time()
    started = time.perf_counter()
    await consumers.start(only=["analytics"])
    try:
        while True:
            done, total = await consumers.progress("analytics")
            peak = max(peak, rss_mb())
            print(f"\rreplaying {done}/{total}", end="", flush=True)
            if done >= total:
                break
            await asyncio.sleep(0.25)
    finally:
        await consumers.stop()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
    print()
    return time.perf_counter() - started, peak - before, time.process_time() - cpu


def time_pages(url: str, secret: str, ent: str, tour: str, first: str, last: str) -> None:
    q = f"from={first}&to={last}&lang=en"
    paths = {
        "overview page": f"/p/analytics/{ent}/{tour}/overview?{q}",
        "overview by month": f"/p/analytics/{ent}/{tour}/overview?{q}&period=month",
        "funnel page": f"/p/analytics/{ent}/{tour}/funnel?{q}",
        "dwell and flow page": f"/p/analytics/{ent}/{tour}/flow?{q}",
        "audio/quest/career page": f"/p/analytics/{ent}/{tour}/plugins?{q}",
        "live page": f"/p/analytics/{ent}/{tour}/live",
        "enterprise overview": f"/p/analytics/{ent}/?{q}",
        "funnel API (JSON)": f"/p/analytics/api/{ent}/{tour}/funnel?{q}",
        "funnel CSV": f"/p/analytics/{ent}/{tour}/csv/funnel?{q}",
    }
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as http:
        print(load())
        print(f"{'page':<26} {'first ms':>9} {'median ms':>10} {'p90 ms':>8} {'KB':>6}")
        for name, path in paths.items():
            t = time.perf_counter()
            http.get(path).raise_for_status()  # the first: reads what is not cached
            first_ms = (time.perf_counter() - t) * 1000
            times = []
            size = 0
            for _ in range(15):
                t = time.perf_counter()
                r = http.get(path)
                times.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
                size = len(r.content)
            times.sort()
            p90 = times[int(len(times) * 0.9) - 1]
            print(
                f"{name:<26} {first_ms:>9.1f} {statistics.median(times):>10.1f} "
                f"{p90:>8.1f} {size / 1024:>6.1f}"
            )
        # A restarted process: nothing in memory, the past months' sums in the store.
        print(f"after a restart (memory cache empty), each page once; {load()}")
        for name, path in paths.items():
            reading._DAYS.items.clear()
            reading._MONTHS.items.clear()
            t = time.perf_counter()
            http.get(path).raise_for_status()
            print(f"{name:<26} {(time.perf_counter() - t) * 1000:>9.1f}")


async def main_async(args: argparse.Namespace, nats_url: str) -> tuple[str, str, str, str, str]:
    settings = load_settings(environ={}, nats={"url": nats_url})
    platform = Platform(settings, plugins=PluginManager())
    await platform.start(consumers=False)
    try:
        ent, tour_id = "bench-works", "plant"
        await platform.import_enterprise(Enterprise(id=ent, name={"en": "Bench Works"}))
        tour = Tour(
            id=tour_id,
            enterprise=ent,
            name={"en": "Plant"},
            stations=[
                Station(id=s, number=i + 1, name={"en": s.title()}) for i, s in enumerate(STATIONS)
            ],
            plugins={"analytics": {}},
        )
        await platform.save_tour(tour, media=frozenset())
        t = time.perf_counter()
        days = await publish_all(platform, synthetic(ent, tour_id, args.events))
        print(f"generated and published in {time.perf_counter() - t:.1f} s; {load()}")
        seconds, memory, cpu = await replay(platform, args.profile)
        print(
            f"replayed {args.events} events in {seconds:.1f} s: "
            f"{args.events / seconds:,.0f} events/s; memory +{memory:.0f} MB RSS; "
            f"{cpu:.1f} CPU s in this process = {args.events / cpu:,.0f} events per CPU "
            f"second (what one free core would do; nats-server runs beside it); {load()}"
        )
        _, secret = await create_token(platform.bus, ent, "editor", "bench")
        return ent, tour_id, secret, days[0], days[-1]
    finally:
        await platform.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profile", help="write the replay's cProfile statistics here")
    parser.add_argument("--nats", help="an existing NATS URL (default: a fresh embedded one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.nats
        if not url:
            server = EmbeddedNats(Path(tmp) / "nats")
            server.start()
            url = server.url
        try:
            ent, tour, secret, first, last = asyncio.run(main_async(args, url))
            web = Platform(load_settings(environ={}, nats={"url": url}), plugins=PluginManager())
            live = LiveServer(web).start()
            try:
                time_pages(live.url, secret, ent, tour, first, last)
            finally:
                live.stop()
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
