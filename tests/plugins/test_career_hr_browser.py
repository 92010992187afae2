"""HR reads, erases and downloads the visitors' contacts in a real headless Chromium on
a phone (390x844, Russian), signed in to the console with an HR token: the menu links
the leads page, a lead opens, the CSV download starts with the BOM, and an erased lead
is gone from the page and from the store's files. A guide's menu has no such link and
the page refuses the guide in Russian.

``PROMTOUR_SCREENSHOTS=1`` also writes docs/img/hr-leads.png and docs/img/hr-lead.png.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from promtour._auth import create_token
from promtour._embedded import EmbeddedNats
from promtour._manager import PluginManager
from promtour._platform import Platform
from promtour.plugin import utcnow
from promtour.plugins.career.leads import DAY, LeadStore
from promtour.testing import LiveServer, save_new_tour, test_settings, with_platform
from test_career_flow import career_config
from test_career_model import lead
from test_career_store import files_containing

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
BOM = b"\xef\xbb\xbf"


def seed(nats_url: str, tag: str) -> dict[str, str]:
    """A tour with the career plugin, two leads of it, and an HR and a guide token."""

    async def work(platform: Platform) -> dict[str, str]:
        tour = await save_new_tour(platform, plugins={"career": career_config()})
        store = LeadStore(platform.store_for("career"))
        now = utcnow()
        ids = {}
        for who, name, contact in (
            ("kept", f"Мария Кузнецова {tag}", f"+7 912 000-{tag[:2]}-11"),
            ("erased", f"Иван Петров {tag}", f"ivan.{tag}@example.org"),
        ):
            ids[who] = secrets.token_hex(12)
            record = lead(
                name,
                contact,
                id=ids[who],
                enterprise=tour.enterprise,
                tour=tour.id,
                created=now - timedelta(days=1 if who == "kept" else 0),
                expires=now + timedelta(days=30),
                professions=["press-operator"],
                place="Школа 5",
            )
            assert await store.write(record, 30 * DAY)
        _, hr = await create_token(platform.bus, tour.enterprise, "hr", "Ольга из кадров")
        _, guide = await create_token(platform.bus, tour.enterprise, "guide", "Гид")
        return {"enterprise": tour.enterprise, "hr": hr, "guide": guide, **ids}

    return with_platform(nats_url, work)


def sign_in(page, url: str, secret: str, enterprise: str) -> None:
    page.goto(f"{url}/console/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/console/{enterprise}")


def test_hr_reads_erases_and_downloads_leads(own_nats: EmbeddedNats, phone, tmp_path):
    tag = secrets.token_hex(4)
    world = seed(own_nats.url, tag)
    ent = world["enterprise"]
    erased_name, erased_contact = f"Иван Петров {tag}", f"ivan.{tag}@example.org"
    needles = [erased_name.encode(), erased_contact.encode()]
    assert files_containing(own_nats.store_dir, needles), "the bytes are on disk first"
    server = LiveServer(Platform(test_settings(own_nats.url), plugins=PluginManager())).start()
    shots = bool(os.environ.get("PROMTOUR_SCREENSHOTS"))
    try:
        page = phone(locale="ru-RU", device_scale_factor=1, accept_downloads=True).new_page()
        sign_in(page, server.url, world["hr"], ent)
        leads_url = f"/p/career/hr/{ent}/leads"
        menu = page.locator("nav.console-nav")
        link = menu.locator(f"a[href='{leads_url}']")
        assert link.inner_text() == "Контакты посетителей"
        assert menu.locator("a[href*='/p/analytics/']").count() == 0  # not HR's

        # The list: both leads, newest first, with date, tour, professions and expiry.
        link.click()
        page.wait_for_url(f"**{leads_url}")
        assert page.locator("h1").inner_text() == "Контакты посетителей"
        items = page.locator("li.career-hr-item")
        assert items.count() == 2
        assert erased_name in items.nth(0).inner_text()
        first = items.nth(1).inner_text()
        assert f"Мария Кузнецова {tag}" in first and "Press Operator" in first
        assert "Удаляется автоматически" in first and "Оставлен" in first
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        if shots:
            page.screenshot(path=str(IMG / "hr-leads.png"))

        # The CSV download, with the console session (no bearer token): UTF-8 with BOM.
        with page.expect_download() as download:
            page.click("a[data-csv=semicolon]")
        body = Path(download.value.path()).read_bytes()
        assert body.startswith(BOM)
        text = body.decode("utf-8-sig")
        assert text.splitlines()[0].startswith("id;created;expires;name;contact")
        assert erased_name in text and f"Мария Кузнецова {tag}" in text

        # One lead: every field; then erase it, after a confirmation.
        page.click(f"li[data-lead='{world['erased']}'] h2 a")
        page.wait_for_url(f"**{leads_url}/{world['erased']}")
        assert page.locator("[data-field=contact]").inner_text() == erased_contact
        assert "Школа 5" in page.locator("dl.career-lead").inner_text()
        if shots:
            page.screenshot(path=str(IMG / "hr-lead.png"))
        page.click("text=Удалить…")
        page.wait_for_url("**/erase")
        assert "восстановить" in page.locator("[role=alert]").inner_text()
        assert page.locator("li.career-hr-item").count() == 0  # nothing erased yet
        page.click("button.career-danger")
        page.wait_for_url(f"**{leads_url}?done=erased")
        assert "удалён" in page.locator(".career-flash").inner_text()
        assert page.locator("li.career-hr-item").count() == 1
        assert erased_name not in page.locator("main").inner_text()
        gone = page.goto(f"{server.url}{leads_url}/{world['erased']}")
        assert gone.status == 404 and "Такого контакта нет" in page.locator("main").inner_text()

        # A guide: no link in the menu, and the page refuses in Russian (no 500, no JSON).
        guide = phone(locale="ru-RU").new_page()
        sign_in(guide, server.url, world["guide"], ent)
        assert guide.locator(f"nav.console-nav a[href='{leads_url}']").count() == 0
        refused = guide.goto(f"{server.url}{leads_url}")
        assert refused.status == 403
        assert "Контакты посетителей видят только" in guide.locator("main").inner_text()
        # Signed out: the sign-in page, not a raw 401.
        anonymous = phone(locale="ru-RU").new_page()
        anonymous.goto(f"{server.url}{leads_url}")
        assert "/console/login" in anonymous.url
    finally:
        server.stop()
    # The erased lead's bytes are gone from the store's files (the kept one is not).
    own_nats.stop()
    own_nats.start()
    own_nats.stop()
    assert files_containing(own_nats.store_dir, needles) == []
    assert files_containing(own_nats.store_dir, [f"Мария Кузнецова {tag}".encode()])
    own_nats.start()  # for the fixture's stop
