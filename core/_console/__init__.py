"""The enterprise console (server-rendered pages) and the enterprise JSON API.

``console_handlers(platform)`` gives the web app everything to mount:

- ``/console/login``, ``/console/logout``: sign in with an access token; the session
  is a signed HttpOnly cookie.
- ``/console/{enterprise}/...``: the pages, behind the enterprise guard.
- ``/api/v1/enterprises/{enterprise}/...``: the JSON API, bearer tokens only.

Access is per enterprise and per role (see :mod:`promtour._console.access`). The
submodules are imported when the handlers are built, so that importing this package
(e.g. from the CLI) does not import the web app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promtour._platform import Platform

__all__ = ["console_handlers"]


def console_handlers(platform: Platform) -> list[Any]:
    """The console's and the API's route handlers, for ``Litestar(route_handlers=...)``."""
    from litestar import Router
    from litestar.exceptions import PermissionDeniedException
    from promtour._console.access import SignInRequired, enterprise_guard
    from promtour._console.api import api_router
    from promtour._console.content import PluginPages, PosterPages, PreviewPages
    from promtour._console.deps import DEPENDENCIES
    from promtour._console.media_pages import MediaPages
    from promtour._console.pages import SignInPages, TourPages, ToursPages, sign_in_redirect
    from promtour._console.signin import no_access
    from promtour._console.stations import StationPages
    from promtour._console.tokens import TokenPages
    from promtour._console.ui import DOMAIN, LOCALES

    platform.translations.add_domain(DOMAIN, LOCALES)
    pages = Router(
        path="/console/{enterprise:str}",
        route_handlers=[
            ToursPages,
            TourPages,
            StationPages,
            TokenPages,
            PluginPages,
            MediaPages,
            PreviewPages,
            PosterPages,
        ],
        guards=[enterprise_guard],
        dependencies=DEPENDENCIES,
        exception_handlers={SignInRequired: sign_in_redirect, PermissionDeniedException: no_access},
        include_in_schema=False,
    )
    return [SignInPages, pages, api_router()]
