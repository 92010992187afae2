"""A station page's markup kept per tour revision, station and language.

Most of a station page is the same for every visitor: the layout, the station's name,
text and picture, the offline section. Only the plugins' panels and the progress list
depend on the visitor. Rendering ``station.html`` whole cost about 200 µs per scan in
a hot loop (docs/performance.md), of which the panels and the progress list are about
75. So the page is rendered once with a slot for each, kept as a
:class:`~promtour._rendering.Frame` in the tour's render cache (a saved tour is a new
revision and a new cache), and filled per visitor with those two parts, rendered by
the same macro and template as before: the HTML is the same
(tests/test_station_frame.py compares it with the page rendered whole).

A new visitor's first page carries the stylesheet and script inline (75 KB): it has
a frame of its own, so the cache holds one 18 KB and one 75 KB frame per station and
language (under 1 MB for a tour of five stations in two languages). A copy saved for
offline use is rendered whole.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from promtour._models import Progress, Station, pick_text
from promtour._rendering import Frame, Panel, slot
from promtour._tours import TourState
from promtour._web.request import RequestContext

__all__ = ["station_html"]

#: Off: every station page is rendered whole (for the test that compares the two).
ENABLED = True


def station_html(
    pt: RequestContext,
    state: TourState,
    station: Station,
    progress: Progress | None,
    panels: list[Panel],
    *,
    saved: bool,
    path: str,
) -> str | None:
    """The station page from the cached frame, or None when it is rendered whole (the
    caller then uses ``pt.page``). Call with ``pt``'s inline assets allowed."""
    tour = state.tour
    platform = pt._platform
    if not ENABLED or saved or platform.tours.cached(tour.key) is not state:
        return None  # saved copies, previews of unsaved tours: rendered whole
    # Also sets the page's CSP for the inline assets of a new visitor's first page.
    assets = pt.assets_for(tour)
    lang = pt.lang_for(tour)
    inline = tuple(kind for kind in ("inline_css", "inline_js") if kind in assets)
    # The bundles' URLs carry their content's hash: inline or linked, they name it.
    urls = (*assets["css"], *assets["js"], *assets.get("prefetch", ()))
    key = ("promtour", "station_page", station.id, lang, urls, inline)
    frame: Frame | None = state.memo.get(key)
    if frame is None:
        html = pt.render(
            "station.html",
            tour=tour,
            station=station,
            progress=None,
            panels=[],
            saved=False,
            path=path,
            assets=assets,
            panels_html=slot("panels"),
            progress_html=slot("progress"),
        )
        frame = state.memo[key] = Frame(html)
    env = platform.templates
    # A macro of the template's module (jinja2 makes its attributes at run time).
    panels_html = env.get_template("_panels.html").module.render_panels(panels)  # type: ignore[attr-defined]
    progress_html = platform.render(
        "_progress.html",
        lang,
        tour=tour,
        station=station,
        progress=progress,
        text=_text_of(lang),
    )
    return str(frame.fill(panels=panels_html, progress=Markup(progress_html)))


def _text_of(lang: str) -> Any:
    """The ``text`` of the page's templates (as :meth:`RequestContext.render` gives)."""
    return lambda t, fallback="": pick_text(t, lang, fallback)
