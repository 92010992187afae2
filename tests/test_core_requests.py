"""promtour._requests answers as nats-py's own ``request`` does: every scenario runs
on a plain nats-py client and on one with :func:`faster_requests`, against the same
nats-server, and must come out the same."""

from __future__ import annotations

import asyncio
import random

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from polling import eventually
from promtour._bus import Bus
from promtour._requests import faster_requests
from promtour.testing import unique


@pytest.fixture(params=["nats-py", "faster"])
async def nc(request, nats_url):
    client = await nats.connect(nats_url)
    if request.param == "faster":
        assert await faster_requests(client)
    try:
        yield client
    finally:
        await client.close()


async def echo_service(nc: Client, subject: str, client: Client, *, shuffle: bool = False):
    """Answers each request with its payload and headers, in a random order if asked;
    returns once ``client`` gets answers (on a loaded machine a request right after the
    subscription met "no responders" once)."""

    async def answer(msg: Msg) -> None:
        if shuffle:
            await asyncio.sleep(random.random() / 50)
        await msg.respond(b"re:" + msg.data)

    pending: set[asyncio.Future[None]] = set()

    async def handler(msg: Msg) -> None:
        if msg.headers and msg.headers.get("X-Echo"):
            await nc.publish(msg.reply, msg.headers["X-Echo"].encode())
        elif shuffle:
            task = asyncio.ensure_future(answer(msg))
            pending.add(task)
            task.add_done_callback(pending.discard)
        else:
            await answer(msg)

    await nc.subscribe(subject, cb=handler)
    await nc.flush()
    await eventually(lambda: _answers(client, subject, b"re:ping"), timeout=10)


async def silent_service(nc: Client, subject: str, client: Client) -> None:
    """Takes the requests to ``subject`` and never answers them, but for a ``ping``,
    which is answered until ``client`` has seen the service (so that a request of the
    test cannot meet "no responders" on a loaded machine)."""

    async def ignore_but_ping(msg: Msg) -> None:
        if msg.data == b"ping":
            await msg.respond(b"pong")

    await nc.subscribe(subject, cb=ignore_but_ping)
    await nc.flush()
    await eventually(lambda: _answers(client, subject, b"pong"), timeout=10)


async def _answers(client: Client, subject: str, answer: bytes) -> bool:
    try:
        return (await client.request(subject, b"ping", timeout=2)).data == answer
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
        return False


async def test_each_reply_reaches_its_own_request(nc, nats_url):
    subject = unique("svc")
    server = await nats.connect(nats_url)
    try:
        await echo_service(server, subject, nc, shuffle=True)
        payloads = [f"{n}".encode() for n in range(300)]
        replies = await asyncio.gather(*(nc.request(subject, p, timeout=5) for p in payloads))
        assert [r.data for r in replies] == [b"re:" + p for p in payloads]
        # Headers go with the request.
        reply = await nc.request(subject, b"", timeout=5, headers={"X-Echo": "with headers"})
        assert reply.data == b"with headers"
    finally:
        await server.close()


async def test_no_responders_and_timeouts_raise_nats_errors(nc, nats_url):
    with pytest.raises(nats.errors.NoRespondersError):
        await nc.request(unique("nobody"), b"?", timeout=2)

    subject = unique("silent")
    server = await nats.connect(nats_url)
    try:
        await silent_service(server, subject, nc)
        started = asyncio.get_running_loop().time()
        with pytest.raises(nats.errors.TimeoutError) as raised:
            await nc.request(subject, b"?", timeout=0.3)
        assert isinstance(raised.value, asyncio.TimeoutError)
        assert 0.25 < asyncio.get_running_loop().time() - started < 2
        # Nothing is left waiting: the next request works.
        await echo_service(server, subject + ".after", nc)
        assert (await nc.request(subject + ".after", b"x", timeout=5)).data == b"re:x"
    finally:
        await server.close()


async def test_a_cancelled_request_leaves_nothing_behind(nc, nats_url):
    subject = unique("slow")
    server = await nats.connect(nats_url)
    try:
        await silent_service(server, subject, nc)
        task = asyncio.ensure_future(nc.request(subject, b"?", timeout=30))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        waiting = [v for v in vars(nc).values() if isinstance(v, dict) and v]
        assert all(not any(isinstance(f, asyncio.Future) for f in d.values()) for d in waiting)
    finally:
        await server.close()


async def test_jetstream_through_it(nc):
    js = nc.jetstream(timeout=5)
    stream = unique("REQ").upper().replace("-", "_")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    first = await js.publish(f"{stream}.a", b"1", headers={"Nats-Msg-Id": "one"})
    again = await js.publish(f"{stream}.a", b"1", headers={"Nats-Msg-Id": "one"})
    assert (first.seq, again.duplicate) == (1, True)
    with pytest.raises(nats.js.errors.NoStreamResponseError):
        await js.publish(f"{stream}-none.a", b"1")
    kv = await js.create_key_value(bucket=stream + "_KV")
    revision = await kv.put("k", b"v1")
    with pytest.raises(nats.js.errors.KeyWrongLastSequenceError):
        await kv.update("k", b"v2", last=revision + 5)
    await kv.update("k", b"v2", last=revision)
    assert (await kv.get("k")).value == b"v2"
    await js.delete_stream(stream)
    await js.delete_key_value(stream + "_KV")


async def test_drain_and_close_do_not_wait_on_the_reply_subscription(nats_url):
    client = await nats.connect(nats_url)
    assert await faster_requests(client)
    await asyncio.wait_for(client.drain(), 5)
    assert client.is_closed


async def test_the_bus_uses_it_and_it_survives_a_server_restart(own_nats):
    bus = Bus(own_nats.url)
    await bus.connect(name="requests-restart")
    try:
        assert bus.nc.request.__qualname__.startswith("faster_requests")
        kv = await bus.bucket("REQUESTS_RESTART")
        await kv.put("k", b"before")
        own_nats.stop()
        own_nats.start()

        async def read() -> bool:
            try:
                return (await kv.get("k")).value == b"before"
            except Exception:
                return False

        await eventually(read, timeout=15)
        await kv.put("k", b"after")
        assert (await kv.get("k")).value == b"after"
    finally:
        await bus.close()
