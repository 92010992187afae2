"""Composing a visitor page from the panels of the plugins enabled for its tour."""

from __future__ import annotations

from markupsafe import Markup, escape
from promtour.context import PageContext
from promtour.models import Progress, Station, pick_text
from promtour.rendering import Panel
from promtour.tours import TourState
from promtour.web.request import RequestContext

__all__ = ["collect_panels"]


async def collect_panels(
    pt: RequestContext,
    hook: str,
    state: TourState,
    progress: Progress | None,
    station: Station | None = None,
) -> list[Panel]:
    """Every enabled plugin's panels, ordered; a failed plugin leaves a notice."""
    platform = pt._platform
    lang = pt.lang_for(state.tour)

    def kwargs_for(plugin: str) -> dict[str, object]:
        page = PageContext(
            platform,
            plugin,
            state,
            visitor=pt.visitor,
            lang=lang,
            progress=progress,
            station=station,
            csrf_token=pt.csrf_token,
        )
        return {"page": page}

    outcomes = await platform.plugins.call_each(
        hook, state.configs, timeout=platform.settings.plugin_timeout, kwargs_for=kwargs_for
    )
    panels: list[Panel] = []
    for outcome in outcomes:
        if outcome.error is not None:
            platform.metrics.inc("promtour_panel_failures_total", plugin=outcome.plugin)
            info = platform.plugins.infos[outcome.plugin]
            _ = platform.translations.translator(lang)
            panels.append(
                Panel(
                    title=pick_text(info.title, lang, outcome.plugin),
                    html=Markup("<p class='notice'>{}</p>").format(
                        escape(_("This part of the page is not available right now."))
                    ),
                    plugin=outcome.plugin,
                    failed=True,
                    order=1000,
                )
            )
            continue
        result = outcome.result
        items = [] if result is None else [result] if isinstance(result, Panel) else list(result)
        for panel in items:
            panel.plugin = outcome.plugin
            panels.append(panel)
    panels.sort(key=lambda p: (p.order, p.plugin))
    return panels
