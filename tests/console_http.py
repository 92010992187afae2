"""The set-up of the console's HTTP tests: a served platform with a tour and a staff
token, and a browser-like client signed in with it (it keeps the session cookie)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
from promtour._auth import create_token
from promtour._models import Tour
from promtour._platform import Platform
from promtour.testing import LiveServer, console_sign_in

__all__ = ["EN", "Staffed", "editor_tour", "signed_in"]

EN = {"Accept-Language": "en"}


class Staffed(NamedTuple):
    setup: Platform
    tour: Tour
    secret: str
    server: LiveServer


async def editor_tour(
    make_platform: Callable[..., Any],
    serve_app: Callable[..., LiveServer],
    new_tour: Callable[..., Any],
    *,
    stations: int = 1,
    role: str = "editor",
    label: str = "Olga",
) -> Staffed:
    """A tour with ``stations``, a token of ``role`` for its enterprise, the app served."""
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=stations)
    _, secret = await create_token(setup.bus, tour.enterprise, role, label)
    return Staffed(setup, tour, secret, serve_app())


@asynccontextmanager
async def signed_in(
    server: LiveServer, secret: str, *, headers: dict[str, str] = EN, timeout: float = 10
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in to the console with ``secret``, and the CSRF token of its forms."""
    async with httpx.AsyncClient(base_url=server.url, timeout=timeout, headers=headers) as client:
        yield client, await console_sign_in(client, secret)
