"""The audio guide's web routes, mounted under ``/p/audio_guide/``, by audience:
:mod:`.visitors` (listening reports, positions, the clock, the group show) and
:mod:`.guides` (the console, PIN sign-in, groups and cues); :mod:`.bodies` holds the
request and response bodies of both."""

from __future__ import annotations

from typing import Any

from .guides import GUIDE_ROUTES
from .visitors import VISITOR_ROUTES

__all__ = ["ROUTES"]

ROUTES: list[Any] = [*VISITOR_ROUTES, *GUIDE_ROUTES]
