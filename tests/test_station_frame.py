"""The station page from its cached frame is the page rendered whole, byte for byte:
for each station, language and visitor, with panels and the visitor's progress."""

from __future__ import annotations

import re

import httpx
from promtour._web import station_frame
from promtour.testing import station_path

SAFETY = {"ppe": {"s1": ["helmet", "glasses"], "s2": ["gloves"]}, "briefing": False}


async def test_framed_station_pages_equal_pages_rendered_whole(
    make_platform, serve_app, new_tour, monkeypatch
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"safety": SAFETY}, stations=3)
    server = serve_app()
    state = server.platform.tours.cached(tour.key)
    assert state is not None
    phones = [httpx.AsyncClient(base_url=server.url, follow_redirects=True) for _ in range(2)]
    try:
        # Two visitors with different progress: s1 and s2, and s2 only.
        for path in (station_path(tour, "s1"), station_path(tour, "s2")):
            assert (await phones[0].get(path)).status_code == 200
        assert (await phones[1].get(station_path(tour, "s2"))).status_code == 200

        async def pages() -> list[str]:
            out = []
            for phone in phones:
                for lang in ("ru", "en"):
                    for sid in ("s1", "s2"):
                        page = await phone.get(
                            f"/t/{tour.enterprise}/{tour.id}/at/{sid}",
                            headers={"Accept-Language": lang},
                        )
                        out.append(f"{page.status_code}\n{page.text}")
            return out

        framed = await pages()
        frames = [k for k in state.memo if k[:2] == ("promtour", "station_page") and not k[-1]]
        assert len(frames) == 4  # two stations x two languages, shared by both visitors
        monkeypatch.setattr(station_frame, "ENABLED", False)
        whole = await pages()
        assert framed == whole
        # What differs per visitor is there: their progress and the station's panel.
        assert 'data-visited="2"' in framed[0] and 'data-visited="1"' in framed[4 + 1]
        assert "Каска" in framed[0] and "Hard hat" in framed[2]
        assert "Перчатки" in framed[1]
    finally:
        for phone in phones:
            await phone.aclose()


async def test_a_new_visitors_first_page_from_its_frame_equals_the_page_rendered_whole(
    make_platform, serve_app, new_tour, monkeypatch
):
    """The first page (stylesheet and script inline, their CSP hashes in the header)
    from its own frame: the same page and header as rendered whole, but for the
    visitor's own tokens."""
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"safety": SAFETY}, stations=3)
    server = serve_app()
    state = server.platform.tours.cached(tour.key)
    assert state is not None

    async def first_pages() -> list[tuple[str, str]]:
        out = []
        for lang in ("ru", "en"):
            for sid in ("s1", "s2"):
                async with httpx.AsyncClient(base_url=server.url) as phone:
                    page = await phone.get(
                        station_path(tour, sid), headers={"Accept-Language": lang}
                    )
                    assert page.status_code == 200
                    token = phone.cookies["pt_v"].split(".")[0]
                    text = page.text.replace(token, "VISITOR")
                    for csrf in re.findall(r'name="_csrf" value="([^"]+)"', text):
                        text = text.replace(csrf, "CSRF")
                    out.append((text, page.headers["content-security-policy"]))
        return out

    framed = await first_pages()
    frames = [k for k in state.memo if k[:2] == ("promtour", "station_page")]
    assert len(frames) == 4 and all(k[-1] == ("inline_css", "inline_js") for k in frames)
    monkeypatch.setattr(station_frame, "ENABLED", False)
    whole = await first_pages()
    assert framed == whole
    assert "<style" in framed[0][0] and "sha256-" in framed[0][1]
