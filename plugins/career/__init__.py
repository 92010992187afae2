"""Career: the professions behind each station, an interest profile built from a RIASEC
quiz and from the tour itself, and a consented hand-off of contacts to the enterprise.

- Station pages show the cards of the professions that work there.
- ``/p/career/t/<enterprise>/<tour>/quiz``: the 30-statement interest quiz.
- The finish page ranks the enterprise's professions by fit, with a reason each.
- ``/p/career/t/<enterprise>/<tour>/contact``: the opt-in lead form (consent required;
  a guardian's too under 18). Contacts stay in the plugin's store with an expiry;
  events carry only an opaque lead id.
- ``/p/career/hr/<enterprise>/leads``: the HR pages (console sign-in with role hr),
  linked from the console's menu for those who may open them.
- ``/p/career/api/<enterprise>/leads``: the HR API (token with role hr).

This module holds the plugin's description; the hooks are implemented where their work
is (``@hookimpl`` in :mod:`.config`, :mod:`.panels`, :mod:`.visitors`) and imported
here, which registers them. See docs/plugins/career.md.
"""

from __future__ import annotations

from promtour.plugin import PluginInfo, RoleSpec, hookimpl

from .config import CareerConfig, validate_config
from .events import EVENT_TYPES
from .panels import finish_panel, start_panel, station_panel
from .profile import OBSERVED_TYPES
from .routes import ROUTES
from .routes.hr_pages import LEADS_PAGE
from .visitors import handle_event

#: With the hook implementations, each marked @hookimpl where it lives.
__all__ = [
    "CareerConfig",
    "finish_panel",
    "handle_event",
    "start_panel",
    "station_panel",
    "validate_config",
]

#: Staff who may read and erase the enterprise's leads (admin always may).
HR = RoleSpec(name="hr", title={"ru": "Отдел кадров", "en": "HR"})


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="career",
        title={"ru": "Профессии", "en": "Careers"},
        description={
            "ru": "Кто здесь работает, тест интересов и связь с предприятием по согласию",
            "en": "Who works here, an interest quiz and a consented hand-off to the enterprise",
        },
        config=CareerConfig,
        events=EVENT_TYPES,
        handles=OBSERVED_TYPES,
        routes=ROUTES,
        roles=[HR],
        css=["career.css"],
        js=["career.js"],
        console_page=LEADS_PAGE,
        console_role=HR.name,
        console_title={"ru": "Контакты посетителей", "en": "Visitor contacts"},
    )
