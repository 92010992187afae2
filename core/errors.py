"""Errors the platform raises on bad input; each carries a message for a person."""

__all__ = ["ConfigError", "PromtourError", "SettingsError", "TokenError", "TourError"]


class PromtourError(Exception):
    """Base class: the message is shown to the user as it is."""


class SettingsError(PromtourError):
    """Bad settings file or environment override; the message names the key."""


class TourError(PromtourError):
    """A tour definition that cannot be accepted."""


class ConfigError(TourError):
    """A plugin's per-tour config that fails validation; names plugin and key."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class TokenError(PromtourError):
    """A station code that is forged, truncated or unknown."""
