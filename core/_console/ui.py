"""The console's per-request helper: language, translations, rendering, redirects.

Console pages are rendered with the ``console`` translation domain (falling back to
the core's catalog) in the staff member's language (``?lang=``, the ``pt_lang``
cookie, ``Accept-Language``), independent of any tour's languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from promtour._auth import Principal
from promtour._console.access import STATE_KEY
from promtour._models import Enterprise, Text, pick_text
from promtour._platform import Platform
from promtour._web.request import RequestContext

__all__ = ["DOMAIN", "LOCALES", "Console", "FormData"]

DOMAIN = "console"
LOCALES = Path(__file__).parent / "locale"

#: Messages shown after a successful change (``?done=<key>``); fixed texts only.
DONE = {
    "created": "Created.",
    "saved": "Saved.",
    "deleted": "Deleted.",
    "station_deleted": "The station was deleted.",
    "restored": "The station is back in the tour.",
    "uploaded": "Uploaded.",
    "enabled": "Enabled for this tour.",
    "disabled": "Disabled for this tour.",
    "rotated": "New codes are active. Print the posters again: the old ones no longer work.",
    "imported": "Imported.",
    "revoked": "The token was revoked.",
    "closed": "All stations are disabled: visitors who scan get a friendly notice.",
    "opened": "All stations are enabled.",
}


class FormData:
    """A submitted form: last value per name, every value, and uploaded files."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = items

    def get(self, name: str, default: str = "") -> str:
        value = default
        for key, item in self.items:
            if key == name and isinstance(item, str):
                value = item
        return value

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.items)

    def all(self) -> dict[str, str]:
        return {k: v for k, v in self.items if isinstance(v, str)}

    def file(self, name: str) -> UploadFile | None:
        for key, item in self.items:
            if key == name and isinstance(item, UploadFile):
                return item
        return None


class Console:
    """One console request: who, in which language, and how to answer."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.request = request
        self.platform: Platform = request.app.state.platform
        self.pt = RequestContext(self.platform, request)
        state = request.scope.get("state") or {}
        principal = state.get(STATE_KEY)
        self.principal: Principal | None = principal if isinstance(principal, Principal) else None
        self.lang = self.pt.lang
        self._ = self.platform.translations.translator(self.lang, DOMAIN)

    def role_title(self, role: str) -> str:
        """A role as people call it (the core's from the console catalog, a plugin's
        from the title it declares)."""
        if role in self.platform.roles.specs:
            return self.platform.roles.title(role, self.lang)
        return self._(role)

    def text(self, text: Text | None, fallback: str = "") -> str:
        return pick_text(text, self.lang, fallback)

    async def form(self) -> FormData:
        form = await self.request.form()
        return FormData(list(form.multi_items()))

    async def enterprise(self) -> Enterprise | None:
        if self.principal is None:
            return None
        return await self.platform.tours.enterprise(self.principal.enterprise)

    def base(self) -> str:
        """``/console/<enterprise>``."""
        return f"/console/{self.principal.enterprise}" if self.principal else "/console"

    def plugin_pages(self) -> list[tuple[str, str]]:
        """(title, URL) of the installed plugins' staff pages for this enterprise
        (``PluginInfo.console_page``) that this principal may open, for the console's
        menu: a link the role would only meet a 403 behind is a dead end."""
        if self.principal is None:
            return []
        pages = []
        for name in self.platform.plugins.names:
            info = self.platform.plugins.infos[name]
            if info.console_page and (
                not info.console_role or self.principal.can(info.console_role)
            ):
                url = info.console_page.replace("{enterprise}", self.principal.enterprise)
                pages.append((self.text(info.console_title or info.title, name), url))
        return pages

    def render(self, template: str, **values: Any) -> str:
        done = self.request.query_params.get("done")
        values.setdefault("notice", self._(DONE[done]) if done in DONE else "")
        # Which change just succeeded: a page may keep its form open for the next one.
        values.setdefault("done", done if done in DONE else "")
        values.setdefault("error", "")
        values.update(
            c=self,
            pt=self.pt,
            csrf_token=self.pt.csrf_token,
            text=self.text,
            role_title=self.role_title,
            principal=self.principal,
            base=self.base(),
            plugin_pages=self.plugin_pages(),
            languages=self.platform.settings.languages,
            path=self.request.url.path,
            assets={"css": [], "js": []},
        )
        return self.platform.render(template, self.lang, DOMAIN, **values)

    async def page(self, template: str, *, status: int = 200, **values: Any) -> Response[str]:
        values.setdefault("enterprise", await self.enterprise())
        html = self.render(template, **values)
        response = Response(html, status_code=status, media_type="text/html")
        response.headers["X-Frame-Options"] = "DENY"
        return self.pt.finish(response)

    def redirect(self, url: str, done: str | None = None) -> Response[Any]:
        if done:
            url = f"{url}{'&' if '?' in url else '?'}done={done}"
        return self.pt.redirect(url)
