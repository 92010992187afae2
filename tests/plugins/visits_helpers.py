"""Shared set-up of the visits and safety tests: a tour config, a client. The plugins
are the installed ones (entry points), as in production."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ZONE = ZoneInfo("Europe/Moscow")
DAY = date.today() + timedelta(days=3)
PAST = date.today() - timedelta(days=2)
SLOT = f"{DAY.isoformat()}-1000"
PAST_SLOT = f"{PAST.isoformat()}-1000"
#: A slot two hours from now: its group code can be joined today (the visit's day,
#: or within the margin before it when two hours from now is after midnight).
_SOON = datetime.now(ZONE) + timedelta(hours=2)
SOON_DAY = _SOON.date()
SOON_TIME = _SOON.strftime("%H:%M")
SOON_SLOT = f"{SOON_DAY.isoformat()}-{_SOON.strftime('%H%M')}"


def visits_config(capacity: int = 30, min_age: int = 10) -> dict[str, Any]:
    return {
        "slots": [
            {"date": DAY.isoformat(), "time": "10:00", "capacity": capacity, "min_age": min_age},
            {"date": PAST.isoformat(), "time": "10:00", "capacity": capacity},
            {"date": SOON_DAY.isoformat(), "time": SOON_TIME, "capacity": capacity},
        ],
        "timezone": "Europe/Moscow",
    }


def safety_config(briefing: bool = True) -> dict[str, Any]:
    return {
        "rules": [{"en": "Closed shoes only.", "ru": "Только закрытая обувь."}],
        "min_age": 10,
        "evacuation": {
            "en": "Follow the green signs; never take the lift.",
            "ru": "По зелёным знакам, не на лифте.",
        },
        "ppe": {"s1": ["helmet", "glasses"], "s2": ["no_photo"]},
        "briefing": briefing,
        "quiz": [
            {
                "question": {
                    "en": "Can you take the lift in an evacuation?",
                    "ru": "Можно ли в эвакуацию ехать на лифте?",
                },
                "options": [{"en": "Yes", "ru": "Да"}, {"en": "No", "ru": "Нет"}],
                "correct": 1,
            },
            {
                "question": {"en": "Which shoes?", "ru": "Какая обувь?"},
                "options": [
                    {"en": "Sandals", "ru": "Сандалии"},
                    {"en": "Closed shoes", "ru": "Закрытая"},
                ],
                "correct": 1,
            },
        ],
    }


def booking(**changes: Any) -> dict[str, Any]:
    form = {
        "slot": SLOT,
        "size": 1,
        "age_min": 12,
        "age_max": 13,
        "organisation": "School 7",
        "name": "Anna Teacher",
        "email": "anna.teacher@example.org",
        "phone": "",
        "consent": "yes",
    }
    form.update(changes)
    return form


async def client_for(server_url: str, tour: Any) -> tuple[httpx.AsyncClient, str]:
    """A visitor's client (own cookie) and its CSRF token, from the booking page."""
    # No kept-alive connections: the server closes idle ones after 5 s, and a test
    # that prepares fifty clients first would reuse a closed one.
    client = httpx.AsyncClient(
        base_url=server_url,
        timeout=30,
        headers={"Accept-Language": "en"},
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    page = await client.get(f"/p/visits/t/{tour.enterprise}/{tour.id}/book")
    assert page.status_code == 200, page.text
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    return client, token


def minted_client(server: Any, tour: Any) -> tuple[httpx.AsyncClient, str]:
    """A visitor's client with a cookie signed by the server's own signer, and its
    CSRF token: what the booking page would give, without loading it (fifty page
    loads were most of the fifty-bookings test's time)."""
    signer = server.platform.signer
    visitor = secrets.token_hex(12)
    client = httpx.AsyncClient(
        base_url=server.url,
        timeout=30,
        headers={"Accept-Language": "en"},
        cookies={"pt_v": signer.sign(visitor, purpose="visitor")},
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    return client, signer.mac(visitor, purpose="csrf")


async def post_booking(client: httpx.AsyncClient, token: str, tour: Any, **changes: Any):
    return await client.post(
        f"/p/visits/t/{tour.enterprise}/{tour.id}/book",
        json=booking(**changes),
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
