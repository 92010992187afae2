"""The bare reference for ``bench/scan.py``: the least work a scan could possibly cost.

One litestar endpoint, ``POST /ref``, that does what a scan does at its core and
nothing else: decode a small JSON body, publish one JetStream event with
``Nats-Msg-Id`` (waiting for the ack), put one KV entry, and render a ~2 KB jinja2
page from a compiled template into a plain ``Response``. No cookies, no plugins, no
dependency injection. The scan path is measured against this, on the same machine,
the same NATS and the same uvicorn settings, so the ratio says what promtour's own
code costs and hardware differences cancel out.

Run it on its own::

    python bench/reference_app.py --nats nats://127.0.0.1:4222 --port 8766 --workers 1

``bench/scan.py`` starts and stops it by itself.

``--extra N`` (``$BENCH_REF_EXTRA``) makes each request also send N more NATS requests
after its put, one after another, alternately a KV get and a KV put of the visitor's
key: the bare stack doing as many NATS round trips as a scan, to tell what the
messages cost from what promtour's own code costs (``bench/scan.py --reference-extra``).

``--fast-nats`` (``$BENCH_REF_FAST``) sends them the cheapest way promtour knows: its
request path (``promtour._requests``) and KV reads (``promtour._kv``) instead of
nats-py's. With it the reference is no longer bare litestar and nats-py, but it is the
floor for a scan's messages: what they cost however little else a request does
(``bench/scan.py --reference-extra 10f``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import msgspec
import nats
import nats.js.errors
from litestar import Litestar, Request, Response, get, post
from nats.js.api import KeyValueConfig, StorageType, StreamConfig

__all__ = ["BUCKET", "STREAM", "create_app", "main"]

STREAM = "BENCH_REF"
BUCKET = "BENCH_REF"
SUBJECT = "bench.ref"
NATS_ENV = "BENCH_REF_NATS"
EXTRA_ENV = "BENCH_REF_EXTRA"
FAST_ENV = "BENCH_REF_FAST"


class ScanBody(msgspec.Struct):
    station: str
    visitor: str


class RefEvent(msgspec.Struct, kw_only=True, tag="ref_checked_in", tag_field="type"):
    """Shaped like promtour's event envelope, so the payload costs the same."""

    id: str
    enterprise: str = "bench"
    tour: str = "ref"
    station: str
    visitor: str
    group: str | None = None
    time: datetime
    v: int = 1


class Station(msgspec.Struct):
    number: int
    name: str


STATIONS = [Station(i, f"Station number {i}") for i in range(1, 6)]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ station }} · Reference tour</title>
<link rel="stylesheet" href="/static/core/promtour.css">
</head>
<body>
<header class="top">
  <div class="brand"><a href="/t/bench/ref">Reference tour</a></div>
  <nav class="langs"><a class="lang" href="/ref?lang=ru" lang="ru">RU</a></nav>
</header>
<main id="main">
<article class="station" data-station="{{ station }}">
  <p class="eyebrow">Station {{ station }}</p>
  <h1>{{ station }}</h1>
  <p class="lead">What happens at this station of the factory, in a sentence or two.</p>
</article>
<section class="panel" aria-labelledby="panel-1">
  <h2 id="panel-1">Listen</h2>
  <p>The story of this station, told by the people who work here.</p>
</section>
<section class="progress" aria-labelledby="progress-title">
  <h2 id="progress-title">Your tour: {{ stations|length }} stations</h2>
  <ol class="stations">
  {% for s in stations %}
    <li class="todo" data-station="{{ s.number }}"><span class="num">{{ s.number }}</span>
      <span>{{ s.name }}</span> <span class="state">not yet</span></li>
  {% endfor %}
  </ol>
  <form class="number" method="get" action="/t/bench/ref/go">
    <label for="station-number">Camera not working? Type the station number</label>
    <div class="row">
      <input id="station-number" name="n" inputmode="numeric" required>
      <button type="submit">Go</button>
    </div>
  </form>
  <p><a class="button secondary" href="/t/bench/ref/finish">Finish the tour</a></p>
</section>
<p class="visitor" data-visitor="{{ visitor }}">Visitor {{ visitor }}, sequence {{ seq }}.</p>
</main>
<footer class="bottom"><span>promtour reference page</span></footer>
</body>
</html>
"""

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
TEMPLATE = _env.from_string(PAGE)
_decode_body = msgspec.json.Decoder(ScanBody).decode
_encode = msgspec.json.Encoder().encode


def create_app(
    nats_url: str | None = None, extra: int | None = None, fast: bool | None = None
) -> Litestar:
    """The reference app; the NATS URL comes from ``$BENCH_REF_NATS`` when not given,
    the extra requests per request from ``$BENCH_REF_EXTRA``, promtour's request path
    from ``$BENCH_REF_FAST``."""
    url = nats_url or os.environ.get(NATS_ENV, "nats://127.0.0.1:4222")
    more = extra if extra is not None else int(os.environ.get(EXTRA_ENV, "0"))
    cheap = fast if fast is not None else os.environ.get(FAST_ENV) == "1"
    handles: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        nc = await nats.connect(url, name="promtour-bench-ref")
        js = nc.jetstream(timeout=2.0)
        try:
            await js.stream_info(STREAM)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=STREAM,
                    subjects=[f"{SUBJECT}.>"],
                    storage=StorageType.FILE,
                    duplicate_window=120.0,
                )
            )
        try:
            kv = await js.key_value(BUCKET)
        except nats.js.errors.BucketNotFoundError:
            kv = await js.create_key_value(KeyValueConfig(bucket=BUCKET, history=1))
        if cheap:
            from promtour._kv import faster_gets
            from promtour._requests import faster_requests

            await faster_requests(nc)
            kv = faster_gets(kv)
        handles["js"], handles["kv"] = js, kv
        try:
            yield
        finally:
            await nc.drain()

    @post("/ref", status_code=200)
    async def ref(request: Request) -> Response[str]:  # type: ignore[type-arg]
        body = _decode_body(await request.body())
        event = RefEvent(
            id=uuid.uuid4().hex,
            station=body.station,
            visitor=body.visitor,
            time=datetime.now(UTC),
        )
        js = handles["js"]
        ack = await js.publish(  # type: ignore[attr-defined]
            f"{SUBJECT}.{body.station}",
            _encode(event),
            headers={"Nats-Msg-Id": event.id},
        )
        kv = handles["kv"]
        await kv.put(f"v.{body.visitor}", _encode(event))  # type: ignore[attr-defined]
        for i in range(more):
            if i % 2:
                await kv.put(f"v.{body.visitor}", _encode(event))  # type: ignore[attr-defined]
            else:
                await kv.get(f"v.{body.visitor}")  # type: ignore[attr-defined]
        html = TEMPLATE.render(
            station=body.station, visitor=body.visitor, seq=ack.seq, stations=STATIONS
        )
        return Response(html, media_type="text/html")

    @get("/healthz")
    async def healthz() -> str:
        return "ok"

    return Litestar(
        route_handlers=[ref, healthz],
        lifespan=[lifespan],
        logging_config=None,
        debug=False,
        openapi_config=None,
    )


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    """Serve the reference with the uvicorn options ``promtour serve`` uses."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", required=True, help="NATS URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--extra", type=int, default=0, help="more NATS requests per request")
    parser.add_argument(
        "--fast-nats", action="store_true", help="promtour's request path for NATS requests"
    )
    args = parser.parse_args(argv)
    os.environ[NATS_ENV] = args.nats
    os.environ[EXTRA_ENV] = str(args.extra)
    os.environ[FAST_ENV] = "1" if args.fast_nats else "0"
    uvicorn.run(
        "reference_app:create_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        loop="uvloop" if _has("uvloop") else "asyncio",
        http="httptools" if _has("httptools") else "h11",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
