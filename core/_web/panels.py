"""Composing a visitor page from the panels of the plugins enabled for its tour."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape
from promtour._context import PageContext
from promtour._models import Progress, Station, pick_text
from promtour._rendering import Panel
from promtour._tours import TourState
from promtour._web.request import RequestContext

__all__ = ["collect_panels", "page_context_for"]


def page_context_for(
    pt: RequestContext,
    plugin: str,
    state: TourState,
    progress: Progress | None,
    station: Station | None = None,
) -> PageContext:
    """The :class:`PageContext` of one plugin for this request's visitor."""
    return PageContext(
        pt._platform,
        plugin,
        state,
        visitor=pt.visitor,
        lang=pt.lang_for(state.tour),
        progress=progress,
        station=station,
        csrf_token=pt.csrf_token,
        new_visitor=pt.new_visitor,
    )


async def collect_panels(
    pt: RequestContext,
    hook: str,
    state: TourState,
    progress: Progress | None,
    station: Station | None = None,
) -> list[Panel]:
    """Every enabled plugin's panels, ordered; a failed plugin leaves a notice.

    A plugin's ``promtour_page_gate`` panel, when there is one, is the page's only
    panel (a briefing that must come first)."""
    platform = pt._platform
    lang = pt.lang_for(state.tour)

    def kwargs_for(plugin: str) -> dict[str, object]:
        return {"page": page_context_for(pt, plugin, state, progress, station)}

    gate = await _gate(pt, state, kwargs_for)
    if gate is not None:
        return [gate]

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


async def _gate(
    pt: RequestContext, state: TourState, kwargs_for: Callable[[str], dict[str, object]]
) -> Panel | None:
    """The first gate panel of the enabled plugins (by name), or None."""
    platform = pt._platform
    outcomes = await platform.plugins.call_each(
        "promtour_page_gate",
        state.configs,
        timeout=platform.settings.plugin_timeout,
        kwargs_for=kwargs_for,
    )
    for outcome in sorted(outcomes, key=lambda o: o.plugin):
        if outcome.error is None and isinstance(outcome.result, Panel):
            outcome.result.plugin = outcome.plugin
            return outcome.result
    return None
