"""The booking contact: in no event, and erased from the server's files (by the
leader, and when it expires)."""

from __future__ import annotations

import time
from pathlib import Path

from promtour._context import PluginContext
from promtour._embedded import EmbeddedNats
from promtour._expiry import sweep
from promtour._manager import PluginManager
from promtour._platform import Platform
from promtour.plugins.visits import service
from promtour.plugins.visits.records import Contact
from promtour.testing import save_new_tour, test_settings, unique
from visits_helpers import booking, visits_config


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
            plugins=PluginManager(),
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


async def test_an_expired_contact_is_erased_from_the_files(own_nats: EmbeddedNats) -> None:
    """The contact's time-to-live (the slot plus ``contact_days``) ends in an erasure:
    the platform's sweep overwrites it, the server's expiry would leave its bytes."""
    email = f"expiring-{unique('x')}@example.org"
    platform = Platform(
        test_settings(own_nats.url),
        plugins=PluginManager(),
    )
    await platform.start(consumers=False)  # no sweeper running: the test sweeps itself
    try:
        tour = await save_new_tour(platform, plugins={"visits": visits_config()})
        ctx = PluginContext(platform, "visits", await platform.tours.get(tour.key))
        form = service.BookingForm(**{**booking(email=email), "size": 5})
        made, _ = await service.book(ctx, form, lang="en", _=lambda s: s)
        assert files_containing(own_nats.store_dir, email.encode())
        assert await sweep(platform.bus) == 0  # not due yet
        # The slot is in three days; contact_days is 30: due within 34 days.
        assert await sweep(platform.bus, now=time.time() + 34 * 86400) == 1
        assert await ctx.tour_store.get(f"contact.{made.id}", Contact) is None
        assert (await service.load(ctx, made.id)).organisation == "School 7"
    finally:
        await platform.stop()
    own_nats.stop()
    assert files_containing(own_nats.store_dir, email.encode()) == []
    own_nats.start()
    assert files_containing(own_nats.store_dir, email.encode()) == []
