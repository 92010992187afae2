"""A plugin that ships no HTML gets a working settings form from its config Struct,
nested list included: add an element, fill it in, save; a bad value names the field."""

from __future__ import annotations

from typing import Annotated

import httpx
import msgspec
from promtour._auth import create_token
from promtour.plugin import Field, PluginInfo, hookimpl
from promtour.testing import console_sign_in

from tests.test_console_pages import EN


class Stop(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    station: Annotated[str, Field(title="Where", kind="station")]
    note: Annotated[dict[str, str], Field(title="Note")] = msgspec.field(default_factory=dict)
    minutes: Annotated[int, msgspec.Meta(ge=1, le=60), Field(title="Minutes")] = 5


class MiniConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    greeting: dict[str, str] = msgspec.field(default_factory=dict)  # no Field: named by key
    stops: Annotated[list[Stop], Field(title="Stops", item="Stop")] = msgspec.field(
        default_factory=list
    )


class Mini:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="mini", version="1", title={"en": "Mini"}, config=MiniConfig)


async def test_a_plugin_without_html_gets_a_form_with_a_nested_list(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False, entrypoints=False, plugins=[("mini", Mini())])
    tour = await new_tour(setup, stations=2)
    _, secret = await create_token(setup.bus, tour.enterprise, "editor", "Olga")
    server = serve_app(entrypoints=False, plugins=[("mini", Mini())])
    url = f"/console/{tour.enterprise}/tours/{tour.id}/plugins/mini"
    station = tour.stations[1].id
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=EN) as client:
        csrf = await console_sign_in(client, secret)
        form = await client.get(url)
        assert form.status_code == 200
        assert "Greeting" in form.text and 'value="add:stops"' in form.text
        added = await client.post(
            url, data={"_csrf": csrf, "cfg.greeting.en": "Hi", "_op": "add:stops"}
        )
        assert added.status_code == 200 and "not saved yet" in added.text
        assert 'name="cfg.stops.0.station"' in added.text  # a station picker
        assert f'<option value="{station}"' in added.text
        assert 'value="Hi"' in added.text  # what was typed survives the button
        assert "mini" not in (await setup.tours.refresh(tour.key)).tour.plugins

        filled = {
            "_csrf": csrf,
            "cfg.greeting.en": "Hi",
            "cfg.stops.0._": "1",
            "cfg.stops.0.station": station,
            "cfg.stops.0.note.en": "Look up",
            "cfg.stops.0.minutes": "99",
        }
        bad = await client.post(url, data=filled)
        assert bad.status_code == 400
        assert "Stops › Stop 1 › Minutes: No more than 60." in bad.text
        assert "mini" not in (await setup.tours.refresh(tour.key)).tour.plugins

        saved = await client.post(url, data={**filled, "cfg.stops.0.minutes": "7"})
        assert saved.status_code == 303, saved.text
        stored = (await setup.tours.refresh(tour.key)).tour.plugins["mini"]
        assert stored == {
            "greeting": {"en": "Hi"},
            "stops": [{"station": station, "note": {"en": "Look up"}, "minutes": 7}],
        }


def test_a_one_input_row_keeps_its_value_whatever_the_field_order():
    """The form's fields come in no fixed order (litestar's parser): a list-of-dates row's
    presence marker after its value must not blank it (a typed day off was lost)."""
    from promtour._console.form_read import parse_form
    from promtour.plugins.visits.config import VisitsConfig

    fields = [
        ("cfg.blackout._", "1"),
        ("cfg.blackout.0._", "1"),
        ("cfg.blackout.0", "2026-12-31"),
        ("cfg.blackout.1._", "1"),
        ("cfg.blackout.1", "2027-01-07"),
    ]
    for order in (fields, list(reversed(fields)), fields[::2] + fields[1::2]):
        assert parse_form(VisitsConfig, order)["blackout"] == ["2026-12-31", "2027-01-07"]
