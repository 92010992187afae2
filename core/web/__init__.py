"""The web app: visitor pages, the JSON API, plugin routes, health and metrics."""

from promtour.web.app import create_app
from promtour.web.request import RequestContext

__all__ = ["RequestContext", "create_app"]
