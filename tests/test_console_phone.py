"""The console on a phone (390x844, Russian) as the admin of the demo tour: every
console page reachable from the tours list fits the screen (no sideways scrolling, the
print sheets included), the tour page's first screen shows the tour and its actions,
not only the header, and each station row keeps its column labels.

``PROMTOUR_SCREENSHOTS=1`` also writes docs/img/console-tour.png and
docs/img/console-stations.png.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from promtour._auth import create_token
from promtour._platform import Platform
from promtour.testing import import_demo_in_thread, with_platform

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
#: Links the walk does not follow: downloads and the visitor's own pages.
SKIP = ("/export",)
#: No sideways scrolling, and no zooming out either: a phone browser widens its layout
#: viewport (innerWidth) to fit a page wider than the screen.
FITS = "document.scrollingElement.scrollWidth <= innerWidth && innerWidth <= 390"


def admin_of_demo(nats_url: str) -> tuple[str, str, str]:
    key = next(k for k in import_demo_in_thread(nats_url) if k.endswith(".main"))
    enterprise, tour = key.split(".", 1)

    async def work(platform: Platform) -> str:
        _, secret = await create_token(platform.bus, enterprise, "admin", "Админ телефона")
        return secret

    return enterprise, tour, with_platform(nats_url, work)


def console_links(page, prefix: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h.startswith(prefix)]


def test_every_console_page_fits_a_phone(serve_app, phone, nats_url):
    enterprise, tour, secret = admin_of_demo(nats_url)
    server = serve_app()
    page = phone(locale="ru-RU", device_scale_factor=1).new_page()
    page.goto(f"{server.url}/console/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/console/{enterprise}")

    prefix = f"/console/{enterprise}"
    queue, seen, wide = [prefix], set(), []
    while queue:
        href = queue.pop(0)
        path = urlsplit(href).path
        # One visit per page (not per ?lang= or ?per_page= variant, except posters).
        key = href if "per_page" in href else path
        if key in seen or path.endswith(SKIP):
            continue
        seen.add(key)
        response = page.goto(server.url + href)
        assert response.status == 200, f"{href}: {response.status}"
        if not page.evaluate(FITS):
            width = page.evaluate("Math.max(document.scrollingElement.scrollWidth, innerWidth)")
            wide.append(f"{href}: {width}px")
        queue += console_links(page, prefix)
    assert len(seen) >= 25, sorted(seen)  # the walk reached the whole console
    assert {f"{prefix}/tours/{tour}/posters", f"{prefix}/tours/{tour}/contact-sheet"} <= seen
    assert not wide, "pages wider than the phone: " + ", ".join(wide)

    # The tour page: its name and its actions on the first screen, below the menu.
    page.goto(f"{server.url}{prefix}/tours/{tour}")
    h1 = page.locator("h1").bounding_box()
    first_action = page.locator("nav.actions a").first.bounding_box()
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        page.screenshot(path=str(IMG / "console-tour.png"))
    assert h1["y"] < 844 / 3, f"the tour's name starts at {h1['y']}px"
    assert first_action["y"] + first_action["height"] < 844 / 2
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        page.screenshot(path=str(IMG / "console-tour.png"))

    # Station rows keep their column labels (the table's head is hidden on a phone).
    rows = page.locator("tr[data-station]")
    assert rows.count() >= 5
    labels = rows.first.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)"
    )
    shown = [label.strip('"') for label in labels]
    assert shown[:4] == ["№", "Станция", "Состояние", "Предпросмотр"], shown
    page.evaluate("document.querySelector('table.stations-table').scrollIntoView()")
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        page.screenshot(path=str(IMG / "console-stations.png"))

    # So do the rows of the media list.
    page.goto(f"{server.url}{prefix}/tours/{tour}/media")
    cells = page.locator("table.media tbody tr").first.locator("td")
    labels = cells.evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    shown = [label.strip('"') for label in labels]
    assert shown[:4] == ["Файл", "Размер", "Тип", "Где используется"], shown
