"""Plugin pages in the console's menu only for the roles that may open them
(``PluginInfo.console_role``): analytics for admin, editor and analyst; the career
plugin's leads page for admin and HR; a guide sees neither."""

from __future__ import annotations

import re

import httpx
from promtour.auth import create_token
from promtour.testing import console_sign_in

RU = {"Accept-Language": "ru"}
MENU = re.compile(r'<nav class="console-nav".*?</nav>', re.S)


async def test_menus_show_only_the_pages_the_role_may_open(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    ent = tour.enterprise
    leads, analytics = f"/p/career/hr/{ent}/leads", f"/p/analytics/{ent}/"
    expected = {
        "admin": {leads, analytics},
        "editor": {analytics},
        "analyst": {analytics},
        "hr": {leads},
        "guide": set(),
    }
    server = serve_app()
    for role, pages in expected.items():
        _, secret = await create_token(setup.bus, ent, role, f"menu {role}")
        async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=RU) as client:
            await console_sign_in(client, secret)
            home = await client.get(f"/console/{ent}")
            menu = MENU.search(home.text).group(0)
            linked = {url for url in (leads, analytics) if f'href="{url}"' in menu}
            assert linked == pages, (role, linked)
            if leads in pages:
                assert "Контакты посетителей" in menu
            # Every page the menu links opens for this role (no dead ends).
            for url in linked:
                assert (await client.get(url)).status_code == 200, (role, url)
