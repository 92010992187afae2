"""Plugin pages in the console's menu only for the roles that may open them
(``PluginInfo.console_role``): analytics for admin, editor and analyst; the career
plugin's leads page for admin and HR; the audio guide's group show for guides, editors
and admins; a guide sees only that one, and from it opens a tour's guide console
without the tour's PIN."""

from __future__ import annotations

import re

import httpx
from promtour._auth import create_token
from promtour._tours import media_name
from promtour.testing import console_sign_in, csrf_token

RU = {"Accept-Language": "ru"}
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16
MENU = re.compile(r'<nav class="console-nav".*?</nav>', re.S)


async def test_menus_show_only_the_pages_the_role_may_open(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    ent = tour.enterprise
    leads, analytics = f"/p/career/hr/{ent}/leads", f"/p/analytics/{ent}/"
    show = f"/p/audio_guide/guides/{ent}"
    expected = {
        "admin": {leads, analytics, show},
        "editor": {analytics, show},
        "analyst": {analytics},
        "hr": {leads},
        "guide": {show},
    }
    server = serve_app()
    for role, pages in expected.items():
        _, secret = await create_token(setup.bus, ent, role, f"menu {role}")
        async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=RU) as client:
            await console_sign_in(client, secret)
            home = await client.get(f"/console/{ent}")
            menu = MENU.search(home.text).group(0)
            linked = {url for url in (leads, analytics, show) if f'href="{url}"' in menu}
            assert linked == pages, (role, linked)
            if leads in pages:
                assert "Контакты посетителей" in menu
            # Every page the menu links opens for this role (no dead ends).
            for url in linked:
                assert (await client.get(url)).status_code == 200, (role, url)


async def tour_with_cues(setup, new_tour, **fields):
    """A tour whose station s1 has one group-show cue (its audio in the tour's media)."""
    tour = await new_tour(setup, stations=1, plugins={"audio_guide": {}}, **fields)
    await setup.bus.media.put(media_name(tour, "audio/hello.ru.mp3"), MP3)
    cue = {"id": "hello", "title": {"ru": "Привет"}, "audio": {"ru": "audio/hello.ru.mp3"}}
    tour.plugins = {"audio_guide": {"stations": [{"station": "s1", "cues": [cue]}]}}
    return (await setup.save_tour(tour)).tour


async def test_a_guide_opens_the_group_show_from_the_console_menu(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    with_cues = await tour_with_cues(setup, new_tour)
    ent = with_cues.enterprise
    without = await new_tour(setup, enterprise=ent, stations=1, plugins={"audio_guide": {}})
    other = await tour_with_cues(setup, new_tour)  # another enterprise's
    server = serve_app()
    _, secret = await create_token(setup.bus, ent, "guide", "menu guide")
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=RU) as client:
        # Signed out: the console's sign-in page, not an error.
        signed_out = await client.get(f"/p/audio_guide/guides/{ent}")
        assert signed_out.status_code in (302, 303)
        assert signed_out.headers["location"].startswith("/console/login?next=")
        # Signing in there comes back to the group-show page.
        form = await client.get(signed_out.headers["location"])
        back = await client.post(
            "/console/login",
            data={
                "token": secret,
                "_csrf": csrf_token(form.text),
                "next": f"/p/audio_guide/guides/{ent}",
            },
        )
        assert back.headers["location"] == f"/p/audio_guide/guides/{ent}"
        page = await client.get(f"/p/audio_guide/guides/{ent}")
        assert page.status_code == 200 and "Групповое шоу" in page.text
        guide_url = f"/p/audio_guide/{ent}/{with_cues.id}/guide"
        assert f'href="{guide_url}"' in page.text
        assert f"/{without.id}/guide" not in page.text  # no cues: nothing to show
        # The console session is enough: the guide console, not the PIN form.
        console = await client.get(guide_url)
        assert console.status_code == 200, console.text[:300]
        assert 'name="pin"' not in console.text and "Пульт экскурсовода" in console.text
        # Another enterprise's: its own group-show page is refused, its guide console
        # still asks for that tour's PIN.
        assert (await client.get(f"/p/audio_guide/guides/{other.enterprise}")).status_code == 404
        foreign = await client.get(f"/p/audio_guide/{other.enterprise}/{other.id}/guide")
        assert 'name="pin"' in foreign.text or "PIN" in foreign.text
