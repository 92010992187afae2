"""Plugin consumers: a failing handler is redelivered with back-off, then terminated and
reported, and it holds up neither its own later events nor any other plugin."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest
from polling import eventually
from promtour import hookimpl
from promtour._consumers import ConsumerSettings
from promtour._errors import PromtourError
from promtour._events import (
    STREAM,
    PluginEventFailed,
    VisitorCheckedIn,
    VisitorJoinedGroup,
    subject_for,
)
from promtour._manager import PluginManager
from promtour.plugin import PluginInfo
from promtour.testing import unique

FAST = ConsumerSettings(max_deliver=3, backoff=[0.1], handler_timeout=5.0)


class Recorder:
    """A test plugin that records the events it handles; ``fail_on`` stations make it raise."""

    def __init__(self, name: str, fail_on: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.fail_on = fail_on
        self.attempts: dict[str, int] = {}
        self.handled: list[str] = []

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1", title={"en": self.name})

    @hookimpl
    async def promtour_handle_event(self, event, ctx) -> None:
        if not isinstance(event, VisitorCheckedIn):
            return
        assert ctx.tour.id == event.tour  # the context is the event's tour
        self.attempts[event.station] = self.attempts.get(event.station, 0) + 1
        if event.station in self.fail_on:
            raise RuntimeError(f"cannot handle {event.station}")
        self.handled.append(event.station)


def checkin(tour, station: str, visitor: str = "v1") -> VisitorCheckedIn:
    return VisitorCheckedIn(
        enterprise=tour.enterprise, tour=tour.id, station=station, visitor=visitor
    )


async def test_failing_handler_is_retried_terminated_and_reported(make_platform, new_tour, bus):
    bad_name, good_name = unique("bad"), unique("good")
    bad = Recorder(bad_name, fail_on=frozenset({"s1"}))
    good = Recorder(good_name)
    platform = await make_platform(
        entrypoints=False,
        plugins=[(bad_name, bad), (good_name, good)],
        consumer_settings=FAST,
    )
    tour = await new_tour(platform, plugins={bad_name: {}, good_name: {}})

    poisoned = checkin(tour, "s1")
    await platform.bus.publish(poisoned)
    # Later events still reach both plugins while the poisoned one is being retried.
    await platform.bus.publish(checkin(tour, "s2"))
    await eventually(lambda: "s2" in good.handled and "s2" in bad.handled)
    await eventually(lambda: bad.attempts.get("s1") == FAST.max_deliver)
    await platform.bus.publish(checkin(tour, "s3"))
    await eventually(lambda: "s3" in good.handled and "s3" in bad.handled)

    # The failure is reported in the stream, on the tour's subject ...
    subject = subject_for(tour.enterprise, tour.id, "plugin_event_failed")

    async def reported() -> PluginEventFailed:
        deadline = time.monotonic() + 10
        while True:
            try:
                msg = await bus.js.get_last_msg(STREAM, subject)
                return msgspec.json.decode(msg.data, type=PluginEventFailed)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    report = await reported()
    assert report.plugin == bad_name
    assert report.failed_event_id == poisoned.id
    assert report.failed_type == "visitor_checked_in"
    assert report.deliveries == FAST.max_deliver
    assert "cannot handle s1" in report.error
    assert report.visitor is None  # no visitor data in the report
    # ... and counted.
    metrics = platform.metrics
    assert metrics.value("promtour_events_terminated_total", plugin=bad_name) == 1
    assert metrics.value("promtour_events_retried_total", plugin=bad_name) == 2
    assert "promtour_events_terminated_total" in metrics.render()

    # Terminated means terminated: no fourth attempt, and the good plugin saw s1 once.
    await asyncio.sleep(0.5)
    assert bad.attempts["s1"] == FAST.max_deliver
    assert good.handled.count("s1") == 1
    assert good.handled == ["s1", "s2", "s3"]


async def test_consumer_only_sees_tours_that_enable_it(make_platform, new_tour):
    name = unique("picky")
    picky = Recorder(name)
    platform = await make_platform(
        entrypoints=False, plugins=[(name, picky)], consumer_settings=FAST
    )
    other = await new_tour(platform, plugins={})
    mine = await new_tour(platform, plugins={name: {}})
    await platform.bus.publish(checkin(other, "s1"))
    await platform.bus.publish(checkin(mine, "s2"))
    await eventually(lambda: "s2" in picky.handled)
    assert picky.handled == ["s2"]


async def test_handler_that_hangs_is_timed_out_and_retried(make_platform, new_tour):
    name = unique("hangs")

    class Hangs(Recorder):
        @hookimpl
        async def promtour_handle_event(self, event, ctx) -> None:
            if not isinstance(event, VisitorCheckedIn):
                return
            self.attempts[event.station] = self.attempts.get(event.station, 0) + 1
            if self.attempts[event.station] == 1:
                await asyncio.sleep(30)  # the first delivery hangs
            self.handled.append(event.station)

    plugin = Hangs(name)
    settings = ConsumerSettings(max_deliver=3, backoff=[0.1], handler_timeout=0.3)
    platform = await make_platform(
        entrypoints=False, plugins=[(name, plugin)], consumer_settings=settings
    )
    tour = await new_tour(platform, plugins={name: {}})
    await platform.bus.publish(checkin(tour, "s1"))
    await eventually(lambda: plugin.handled == ["s1"])
    assert plugin.attempts["s1"] == 2


async def test_a_visitors_events_in_order_other_visitors_alongside(make_platform, new_tour):
    """Events fetched together: one visitor's are handled in stream order, and a slow
    event of one visitor does not hold up another visitor's."""
    name = unique("lanes")

    class Slow(Recorder):
        @hookimpl
        async def promtour_handle_event(self, event, ctx) -> None:
            if event.station == "a1":
                await asyncio.sleep(0.5)
            self.handled.append(event.station)

    plugin = Slow(name)
    platform = await make_platform(
        entrypoints=False, plugins=[(name, plugin)], consumer_settings=FAST
    )
    tour = await new_tour(platform, plugins={name: {}})
    # Stopped while they are published, so that one fetch gets all four.
    await platform.consumers.stop()
    await asyncio.sleep(1.2)  # the stopped consumer's last pull request expires
    for visitor, station in (("va", "a1"), ("vb", "b1"), ("va", "a2"), ("vb", "b2")):
        await platform.bus.publish(checkin(tour, station, visitor))
    await platform.consumers.start()
    await eventually(lambda: len(plugin.handled) == 4)
    handled = plugin.handled
    assert handled.index("a1") < handled.index("a2")
    assert handled.index("b1") < handled.index("b2")
    assert handled.index("b2") < handled.index("a1"), handled


class BatchRecorder:
    """A batch plugin (``promtour_handle_batch``) that fails on the ``fail_on`` stations."""

    def __init__(self, name: str, fail_on: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.fail_on = fail_on
        self.batches: list[list[int]] = []
        self.handled: list[str] = []

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=self.name, version="1", title={"en": self.name}, consume_from="first"
        )

    @hookimpl
    async def promtour_handle_batch(self, batch) -> None:
        self.batches.append([item.seq for item in batch])
        if any(item.event.station in self.fail_on for item in batch):
            raise RuntimeError("poisoned batch")
        self.handled += [item.event.station for item in batch]


async def test_batch_plugin_gets_ordered_batches_and_loses_only_a_poisoned_event(
    make_platform, new_tour
):
    name = unique("batch")
    recorder = BatchRecorder(name, fail_on=frozenset({"bad"}))
    publisher = await make_platform(entrypoints=False, plugins=[(name, recorder)], consumers=False)
    tour = await new_tour(publisher, plugins={name: {}})
    # Published before the plugin's consumer exists: consume_from="first" gets them.
    for station in ("s1", "s2", "bad", "s3"):
        await publisher.bus.publish(checkin(tour, station))
    await make_platform(entrypoints=False, plugins=[(name, recorder)], consumer_settings=FAST)
    await eventually(lambda: recorder.handled == ["s1", "s2", "s3"], timeout=20)
    seqs = [s for batch in recorder.batches for s in batch]
    assert all(batch == sorted(batch) for batch in recorder.batches)
    assert len(recorder.batches) >= FAST.max_deliver  # retried, then one by one
    assert seqs  # every call saw stream sequences


class Typed:
    """A test plugin that records the type and station of every event it is given."""

    def __init__(self, name: str, handles: tuple[type, ...] = ()) -> None:
        self.name = name
        self.handles = handles
        self.seen: list[tuple[str, str | None]] = []

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=self.name, version="1", title={"en": self.name}, handles=self.handles
        )

    @hookimpl
    async def promtour_handle_event(self, event, ctx) -> None:
        self.seen.append((event.type, event.station))


async def test_a_plugin_is_given_only_the_types_it_handles_also_after_an_upgrade(
    make_platform, new_tour, bus
):
    """``PluginInfo.handles`` narrows the plugin's consumer; a durable consumer made
    before the plugin declared it takes the new subjects and keeps its place."""
    name = unique("typed")
    every = Typed(name)
    before = await make_platform(entrypoints=False, plugins=[(name, every)], consumer_settings=FAST)
    tour = await new_tour(before, plugins={name: {}})

    def joined(station: str) -> VisitorJoinedGroup:
        return VisitorJoinedGroup(
            enterprise=tour.enterprise, tour=tour.id, station=station, visitor="v1", group="G1"
        )

    await before.bus.publish(joined("j1"))
    await before.bus.publish(checkin(tour, "s1"))
    await eventually(lambda: len(every.seen) == 2)
    assert every.seen == [("visitor_joined_group", "j1"), ("visitor_checked_in", "s1")]
    await before.stop()

    # Published while no process consumes: the upgraded plugin must still get s2.
    await bus.publish(joined("j2"))
    await bus.publish(checkin(tour, "s2"))
    upgraded = Typed(name, handles=(VisitorCheckedIn,))
    after = await make_platform(
        entrypoints=False, plugins=[(name, upgraded)], consumer_settings=FAST
    )
    await after.bus.publish(joined("j3"))
    await after.bus.publish(checkin(tour, "s3"))
    await eventually(lambda: len(upgraded.seen) == 2)
    assert upgraded.seen == [("visitor_checked_in", "s2"), ("visitor_checked_in", "s3")]
    info = await bus.js.consumer_info(STREAM, f"plugin_{name}")
    assert info.config.filter_subject == subject_for("*", "*", "visitor_checked_in")
    # Nothing of the other type waits for it either.
    assert info.num_pending == 0 and info.num_ack_pending == 0


async def test_harness_refuses_to_wait_for_a_type_the_plugin_does_not_handle(harness):
    name = unique("typed")
    await harness.start((name, Typed(name, handles=(VisitorCheckedIn,))))
    with pytest.raises(ValueError, match="does not handle 'visitor_joined_group'"):
        await harness.handled(name, VisitorJoinedGroup)


def test_handles_names_event_types_only():
    class Wrong(Typed):
        @hookimpl
        def promtour_plugin_info(self) -> PluginInfo:
            return PluginInfo(name=self.name, version="1", title={"en": "x"}, handles=["a.b"])

    name = unique("wrong")
    with pytest.raises(PromtourError, match=r"'a\.b' is not an event type's tag"):
        PluginManager(load_entrypoints=False, plugins=[(name, Wrong(name))])


async def test_a_stopping_process_hands_back_the_events_it_had_not_finished(
    make_platform, new_tour
):
    """Stopped in the middle of a handler, a process naks what it fetched: another
    process handles it at once, not after the ack timeout (here 35 s)."""
    name = unique("handback")
    started = asyncio.Event()

    class Stuck(Recorder):
        @hookimpl
        async def promtour_handle_event(self, event, ctx) -> None:
            started.set()
            await asyncio.sleep(60)

    slow = ConsumerSettings(max_deliver=3, backoff=[0.1], handler_timeout=30.0)
    first = await make_platform(
        entrypoints=False, plugins=[(name, Stuck(name))], consumer_settings=slow
    )
    tour = await new_tour(first, plugins={name: {}})
    await first.bus.publish(checkin(tour, "s1", "va"))
    await first.bus.publish(checkin(tour, "s2", "vb"))
    await asyncio.wait_for(started.wait(), 10)
    await first.stop()

    second = Recorder(name)
    await make_platform(entrypoints=False, plugins=[(name, second)], consumer_settings=slow)
    await eventually(lambda: sorted(second.handled) == ["s1", "s2"], timeout=10)


async def test_one_process_runs_the_consumers_another_takes_over_when_it_stops(
    make_platform, new_tour, tmp_path, monkeypatch
):
    """With ``web.consumer_lock`` (``promtour serve --workers N``) the process holding
    the lock runs the plugins' consumers; one standing by takes over when it stops."""
    monkeypatch.setattr("promtour._platform.LEADER_RETRY", 0.2)
    name = unique("leader")
    lock = {"consumer_lock": str(tmp_path / "consumers.lock")}
    first, second = Recorder(name), Recorder(name)
    leader = await make_platform(
        entrypoints=False, plugins=[(name, first)], consumer_settings=FAST, web=lock
    )
    await eventually(lambda: leader.consumers._tasks)
    standby = await make_platform(
        entrypoints=False, plugins=[(name, second)], consumer_settings=FAST, web=lock
    )
    tour = await new_tour(leader, plugins={name: {}})
    for station in ("s1", "s2", "s3"):
        await leader.bus.publish(checkin(tour, station, visitor=station))
    await eventually(lambda: sorted(first.handled) == ["s1", "s2", "s3"])
    assert not standby.consumers._tasks and second.handled == []

    await leader.stop()
    await standby.bus.publish(checkin(tour, "s4"))
    await eventually(lambda: second.handled == ["s4"], timeout=10)


async def test_two_workers_split_the_plugins_consumers_and_one_takes_all_when_the_other_ends(
    make_platform, new_tour, tmp_path, monkeypatch
):
    """``serve --workers 2``: each plugin's consumer runs in one worker, the two workers
    run one plugin each (not one worker all of them); when one ends, the other takes
    its consumer over and handles what came meanwhile."""
    monkeypatch.setattr("promtour._platform.LEADER_RETRY", 0.2)
    monkeypatch.setattr("promtour._platform.SHARE_GRACE", 3.0)
    names = sorted([unique("split"), unique("split")])
    web = {"consumer_lock": str(tmp_path / "consumers.lock"), "workers": 2}

    async def worker() -> tuple[object, dict[str, Recorder]]:
        recorders = {name: Recorder(name) for name in names}
        platform = await make_platform(
            entrypoints=False,
            plugins=list(recorders.items()),
            consumer_settings=FAST,
            web=web,
        )
        return platform, recorders

    (one, first), (two, second) = await worker(), await worker()
    tour = await new_tour(one, plugins={name: {} for name in names})
    for station in ("s1", "s2"):
        await one.bus.publish(checkin(tour, station, visitor=station))

    def handlers(name: str) -> list[dict[str, Recorder]]:
        return [r for r in (first, second) if r[name].handled]

    def handled(name: str) -> int:
        return sum(len(r[name].handled) for r in (first, second))

    await eventually(lambda: all(handled(n) == 2 for n in names), timeout=10)
    # Each plugin got both events in one worker, and each worker runs one plugin.
    for name in names:
        (only,) = handlers(name)
        assert sorted(only[name].handled) == ["s1", "s2"]
    assert handlers(names[0])[0] is not handlers(names[1])[0]
    assert (tmp_path / f"consumers.{names[0]}.lock").exists()

    # The worker of the first plugin ends; the other takes its consumer over.
    ending, staying = (one, two) if handlers(names[0])[0] is first else (two, one)
    kept = second if staying is two else first
    await ending.stop()
    await staying.bus.publish(checkin(tour, "s3", visitor="s3"))
    await eventually(lambda: "s3" in kept[names[0]].handled, timeout=15)
    assert "s3" in kept[names[1]].handled
