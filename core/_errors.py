"""Errors the platform raises on bad input; each carries a message for a person."""

from collections.abc import Sequence

__all__ = ["ConfigError", "PromtourError", "SettingsError", "TokenError", "TourError"]


class PromtourError(Exception):
    """Base class: the message is shown to the user as it is."""


class SettingsError(PromtourError):
    """Bad settings file or environment override; the message names the key."""


class TourError(PromtourError):
    """A tour definition that cannot be accepted."""


class ConfigError(TourError):
    """A plugin's per-tour config that fails validation; names plugin and key."""

    def __init__(self, plugin: str, message: str, problems: Sequence[object] = ()) -> None:
        self.plugin = plugin
        self.message = message
        #: What the plugin's validation returned (strings or ``Problem``s), so that the
        #: console can translate each one and name the field as its form shows it.
        self.problems = list(problems)
        super().__init__(f"plugin {plugin!r}: {message}")


class TokenError(PromtourError):
    """A station code that is forged, truncated or unknown."""
