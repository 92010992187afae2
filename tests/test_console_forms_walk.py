"""Every built-in plugin's settings form, on the demo tour's real config, is one a tour
manager can use in Russian: no JSON box, no control left with an English label (the
Russian page is compared with the English one), and the unchanged form saves the same
config (nothing lost or reformatted by a click on «Сохранить»)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import msgspec
from promtour._auth import create_token
from promtour._tours import load_enterprise_toml, load_tour_toml
from promtour.testing import console_sign_in, unique

from tests.test_console_config_checks import FormFields

DEMO = Path(__file__).resolve().parents[1] / "config" / "demo"
PLUGINS = ["audio_guide", "quests", "career", "visits", "safety", "analytics"]

#: Labels that are the same in both languages on purpose: language columns, units and
#: proper names; anything else identical on both pages is a missing translation.
SAME_IN_BOTH = {"RU", "EN", "RIASEC", "URL", "PIN", "Email", "E-mail", "—"}

#: Labels a plugin may leave untranslated, by plugin (none today: every built-in
#: plugin titles its fields).
NOT_OURS: dict[str, set[str]] = {}


class Labels(HTMLParser):
    """The visible label of each control of the config form, by the control's name
    (and value, for checkboxes): its ``<label>``, within its fieldsets' legends."""

    def __init__(self) -> None:
        super().__init__()
        self.for_id: dict[str, str] = {}
        self.controls: list[tuple[str, str, str]] = []  # (key, id, label if wrapped)
        self.legends: list[str] = []
        self.options: list[tuple[str, str, str]] = []  # (select name, value, text)
        self._label: tuple[str, list[str], list[tuple[str, str]]] | None = None
        self._legend: list[str] | None = None
        self._option: tuple[str, str, list[str]] | None = None
        self._select = ""
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "config-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "label":
            self._label = (a.get("for", ""), [], [])
        elif tag == "legend":
            self._legend = []
        elif tag in ("input", "select", "textarea") and name:
            kind = a.get("type", "text" if tag == "input" else tag)
            if kind in ("hidden", "submit", "button"):
                return
            key = f"{name}={a.get('value', '')}" if kind == "checkbox" else name
            self.controls.append((key, a.get("id", ""), ""))
            if self._label is not None:
                self._label[2].append((key, a.get("id", "")))
            if tag == "select":
                self._select = name
        elif tag == "option" and self._select:
            self._option = (self._select, a.get("value", ""), [])

    def handle_data(self, data: str) -> None:
        for bucket in (
            self._label and self._label[1],
            self._legend,
            self._option and self._option[2],
        ):
            if isinstance(bucket, list):
                bucket.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        if tag == "label" and self._label is not None:
            target, text, wrapped = self._label
            label = " ".join("".join(text).split())
            if target:
                self.for_id[target] = label
            for key, _ in wrapped:
                self.controls = [(k, i, label if k == key else w) for k, i, w in self.controls]
            self._label = None
        elif tag == "legend" and self._legend is not None:
            self.legends.append(" ".join("".join(self._legend).split()))
            self._legend = None
        elif tag == "option" and self._option is not None:
            select, value, text = self._option
            self.options.append((select, value, " ".join("".join(text).split())))
            self._option = None
        elif tag == "select":
            self._select = ""

    def labels(self) -> dict[str, str]:
        """Every control's visible label (a control without one maps to "")."""
        return {key: wrapped or self.for_id.get(cid, "") for key, cid, wrapped in self.controls}


def parse(html: str) -> Labels:
    parser = Labels()
    parser.feed(html)
    return parser


def untranslated(ru: str, en: str) -> bool:
    """A text identical in both languages that is a word, not a name or a number."""
    return (
        ru == en
        and ru not in SAME_IN_BOTH
        and not re.fullmatch(r"[\d\s.,:–-]*", ru)
        and not re.search(r"\.(mp3|vtt|png|jpe?g|webp|svg)$", ru)  # a media file's name
    )


async def import_demo_tour(setup: Any) -> Any:
    """The demo's main tour (stations, media, every plugin's config) under fresh ids."""
    enterprise = load_enterprise_toml(DEMO / "enterprise.toml")
    enterprise.id = unique("ent")
    tour_file = load_tour_toml(DEMO / "tours" / "main.toml")
    tour_file.tour.id = unique("demo")
    tour_file.tour.enterprise = enterprise.id
    await setup.import_enterprise(enterprise)
    return (await setup.import_tour(tour_file)).tour


async def test_every_plugin_form_is_russian_and_saves_unchanged(make_platform, serve_app):
    # One platform and server for every plugin: the walk stays within seconds per form.
    setup = await make_platform(consumers=False)
    tour = await import_demo_tour(setup)
    assert set(PLUGINS) <= set(tour.plugins)
    routes = setup.plugins.infos["routes"]
    assert not msgspec.structs.fields(routes.config), "routes got a per-tour config: walk it"
    _, secret = await create_token(setup.bus, tour.enterprise, "editor", "Ольга")
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await console_sign_in(client, secret)
        for plugin in PLUGINS:
            await check_form(client, setup, tour, plugin)


async def check_form(client: httpx.AsyncClient, setup: Any, tour: Any, plugin: str) -> None:
    before = tour.plugins[plugin]
    url = f"/console/{tour.enterprise}/tours/{tour.id}/plugins/{plugin}"
    ru = await client.get(url, headers={"Accept-Language": "ru"})
    en = await client.get(url, headers={"Accept-Language": "en"})
    assert ru.status_code == en.status_code == 200, plugin
    sent = FormFields()
    sent.feed(ru.text)
    form = sent.pairs  # as a browser sends it: a name once per ticked checkbox
    assert form, f"{plugin}: the page has a settings form"
    boxes = [name for name, _ in form if name.startswith("json.")]
    assert not boxes, f"{plugin}: JSON boxes for {boxes}"
    assert "TOML" not in ru.text.split('class="card config-form"')[1], plugin

    page_ru, page_en = parse(ru.text), parse(en.text)
    labels_ru, labels_en = page_ru.labels(), page_en.labels()
    assert labels_ru.keys() == labels_en.keys(), plugin  # the same form in both languages
    unlabelled = [key for key, label in labels_ru.items() if not label]
    assert not unlabelled, f"{plugin}: controls without a label: {unlabelled}"
    assert len(page_ru.legends) == len(page_en.legends), plugin
    assert len(page_ru.options) == len(page_en.options), plugin
    english = {ru for key, ru in labels_ru.items() if untranslated(ru, labels_en[key])}
    for ru, en in zip(page_ru.legends, page_en.legends, strict=True):
        if untranslated(ru, en):
            english.add(ru)
    for (select, _, ru), (_, _, en) in zip(page_ru.options, page_en.options, strict=True):
        if untranslated(ru, en):
            english.add(f"{select}: {ru}")
    english -= NOT_OURS.get(plugin, set())
    assert not english, f"{plugin}: labels not in Russian: {sorted(english)}"

    data: dict[str, list[str]] = {}
    for name, value in form:
        data.setdefault(name, []).append(value)
    saved = await client.post(url, data=data, headers={"Accept-Language": "ru"})
    assert saved.status_code == 303, f"{plugin}: {saved.text[:800]}"
    after = (await setup.tours.refresh(tour.key)).tour.plugins[plugin]
    convert = setup.plugins.convert_config
    assert msgspec.to_builtins(convert(plugin, after)) == msgspec.to_builtins(
        convert(plugin, before)
    ), plugin
