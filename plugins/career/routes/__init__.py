"""The career plugin's routes, by audience: the visitor's quiz and profile pages, the
lead form, the pages behind a lead's secret links, the HR pages (console session) and
the HR API (bearer token)."""

from __future__ import annotations

from typing import Any

from litestar import Router

from . import contact, hr_pages, links, quiz
from .hr import api_router

__all__ = ["ROUTES"]

# The visitor's and HR's HTML pages stay out of the OpenAPI schema; the HR API is in it.
ROUTES: list[Any] = [
    Router(
        path="/",
        route_handlers=[*quiz.ROUTES, *contact.ROUTES, *links.ROUTES, *hr_pages.ROUTES],
        include_in_schema=False,
    ),
    api_router(),
]
