"""Register the plugin on a fresh promtour instance and scan a station."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import promtour_hello  # noqa: E402
from promtour.testing import station_path  # noqa: E402


async def test_panel_greets_in_the_visitors_language(make_platform, serve_app, new_tour):
    plugins = [("hello", promtour_hello)]
    setup = await make_platform(consumers=False, plugins=plugins)
    tour = await new_tour(setup, plugins={"hello": {"greeting": {"ru": "Здравствуйте"}}})
    server = serve_app(plugins=plugins)
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get(station_path(tour, "s2"), headers={"Accept-Language": "ru"})
    assert page.status_code == 200
    assert "Здравствуйте! Вы на станции 2." in page.text


async def test_bad_config_is_refused_naming_the_key(make_platform, new_tour):
    import pytest

    from promtour.errors import ConfigError

    setup = await make_platform(consumers=False, plugins=[("hello", promtour_hello)])
    with pytest.raises(ConfigError, match=r"hello.*greeting"):
        await new_tour(setup, plugins={"hello": {"greeting": "not a table"}})
