"""Audio guide: each station's audio performance with its transcript, offline voice
rendering (``promtour audio render``) and synchronised group shows on visitors' phones.

The plugin's description is here; the hooks are implemented (``@hookimpl``) where their
work is and imported here, which registers them. The modules: :mod:`.config` (the
per-tour config),
:mod:`.validate`, :mod:`.panels` (visitor pages), :mod:`.routes` (player reports, the
show, the guide console), :mod:`.access` (guide PIN and tokens), :mod:`.records` (what
is kept per tour), :mod:`.events`, :mod:`.render` (the CLI) and :mod:`.vtt`. Every
record is in the tour's store, which the core erases with the tour: no teardown hook.
"""

from __future__ import annotations

from promtour.plugin import PluginInfo, hookimpl

from .access import GUIDE_ROLE
from .config import AudioGuideConfig
from .events import EVENT_TYPES
from .panels import finish_panel, start_panel, station_panel
from .render import add_cli
from .routes import ROUTES
from .validate import check_config

#: With the hook implementations, each marked @hookimpl where it lives.
__all__ = [
    "AudioGuideConfig",
    "add_cli",
    "check_config",
    "finish_panel",
    "start_panel",
    "station_panel",
]


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="audio_guide",
        title={"ru": "Аудиогид", "en": "Audio guide"},
        description={
            "ru": "Аудиоспектакль на каждой станции, расшифровка и групповое шоу",
            "en": "An audio story at each station, with transcript, and group shows",
        },
        config=AudioGuideConfig,
        events=EVENT_TYPES,
        routes=ROUTES,
        roles=(GUIDE_ROLE,),
        css=("audio_guide.css",),
        js=("audio_guide.js",),
        console_page="/p/audio_guide/guides/{enterprise}",
        console_role=GUIDE_ROLE.name,
        console_title={"ru": "Групповое шоу", "en": "Group show"},
    )
