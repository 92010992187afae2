"""The booking contact: in no event, and erased from the server's files."""

from __future__ import annotations

from pathlib import Path

from promtour.context import PluginContext
from promtour.embedded import EmbeddedNats
from promtour.manager import PluginManager
from promtour.platform import Platform
from promtour.plugins.visits import service
from promtour.plugins.visits.records import Contact
from promtour.testing import save_new_tour, test_settings, unique
from visits_helpers import PLUGINS, booking, visits_config


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_contact_is_in_no_event_and_erasure_removes_it_from_the_files(tmp_path: Path):
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    email = f"teacher-{unique('x')}@example.org"
    phone = "+7 900 123-45-67"
    try:
        platform = Platform(
            test_settings(server.url),
            plugins=PluginManager(load_entrypoints=False, plugins=PLUGINS),
        )
        await platform.start(consumers=False)
        try:
            tour = await save_new_tour(platform, plugins={"visits": visits_config()})
            state = await platform.tours.get(tour.key)
            ctx = PluginContext(platform, "visits", state)
            form = service.BookingForm(**{**booking(email=email, phone=phone), "size": 5})
            made, _ = await service.book(ctx, form, lang="en", _=lambda s: s)
            contact = await ctx.tour_store.get(f"contact.{made.id}", Contact)
            assert contact is not None and contact.email == email
            assert contact.consent_version == "1" and contact.consent_text
            stored = files_containing(tmp_path, email.encode())
            assert stored, "the test needs the bytes on disk first"
            # Only the plugin's store holds it: no event stream file does.
            assert all("KV_PROMTOUR_P_VISITS" in str(p) for p in stored), stored
            # The leader erases the contact (the route's one call).
            assert await ctx.tour_store.erase(f"contact.{made.id}") is True
            assert await ctx.tour_store.get(f"contact.{made.id}", Contact) is None
            # The booking itself stays (no personal data in it).
            assert (await service.load(ctx, made.id)).organisation == "School 7"
        finally:
            await platform.stop()
    finally:
        server.stop()
    assert files_containing(tmp_path, email.encode()) == []
    server = EmbeddedNats(tmp_path / "nats", port=server.port)
    server.start()
    try:
        assert files_containing(tmp_path, email.encode()) == []
        assert files_containing(tmp_path, phone.encode()) == []
    finally:
        server.stop()
