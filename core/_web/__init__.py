"""The web app: visitor pages, the JSON API, plugin routes, health and metrics."""

from promtour._web.app import create_app
from promtour._web.request import RequestContext

__all__ = ["RequestContext", "create_app"]
