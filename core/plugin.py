"""What a plugin hands to the core: its description, its assets and its panels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from markupsafe import Markup

__all__ = ["NoConfig", "Panel", "PluginAssets", "PluginInfo"]


class NoConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config schema of a plugin that has no per-tour settings."""


class PluginInfo(msgspec.Struct, kw_only=True):
    name: str
    version: str
    #: Shown in ``promtour plugins list`` and the console, per language.
    title: dict[str, str]
    description: dict[str, str] = msgspec.field(default_factory=dict)
    #: msgspec Struct type for the per-tour config; its defaults are the default config.
    config: type[Any] = NoConfig


class PluginAssets(msgspec.Struct, kw_only=True):
    templates: Path | None = None
    static: Path | None = None
    locales: Path | None = None
    #: Files in ``static`` that every page of a tour with this plugin includes.
    css: list[str] = msgspec.field(default_factory=list)
    js: list[str] = msgspec.field(default_factory=list)


class Panel(msgspec.Struct, kw_only=True):
    """A block of a visitor page. ``html`` is trusted markup: render it from a template."""

    title: str
    html: Markup | str
    #: Lower comes first.
    order: int = 100
    #: Set by the core: the plugin that contributed the panel.
    plugin: str = ""
    #: Set by the core when the plugin failed: the panel is a notice.
    failed: bool = False
