"""Shared set-up of the visits and safety tests: the plugins, a tour config, a client."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx
import promtour.plugins.safety as safety
import promtour.plugins.visits as visits

PLUGINS: list[tuple[str, object]] = [("visits", visits), ("safety", safety)]
DAY = date.today() + timedelta(days=3)
PAST = date.today() - timedelta(days=2)
SLOT = f"{DAY.isoformat()}-1000"
PAST_SLOT = f"{PAST.isoformat()}-1000"


def visits_config(capacity: int = 30, min_age: int = 10) -> dict[str, Any]:
    return {
        "slots": [
            {"date": DAY.isoformat(), "time": "10:00", "capacity": capacity, "min_age": min_age},
            {"date": PAST.isoformat(), "time": "10:00", "capacity": capacity},
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


async def post_booking(client: httpx.AsyncClient, token: str, tour: Any, **changes: Any):
    return await client.post(
        f"/p/visits/t/{tour.enterprise}/{tour.id}/book",
        json=booking(**changes),
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
