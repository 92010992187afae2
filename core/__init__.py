"""promtour: an event-driven plugin platform for immersive factory tours."""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("promtour")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

#: Decorator for plugin hook implementations: ``@hookimpl def promtour_...``.
hookimpl = pluggy.HookimplMarker("promtour")

__all__ = ["__version__", "hookimpl"]
