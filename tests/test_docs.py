"""The docs keep up with the code: every hook and every event type is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from promtour import hookspecs
from promtour.events import CORE_EVENT_TYPES
from promtour.i18n import CORE_LOCALES
from promtour.manager import PluginManager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def hook_names() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("promtour_")
    ]


def test_every_hook_has_a_section_in_docs_hooks_md():
    headings = set(re.findall(r"^### (\w+)$", (DOCS / "hooks.md").read_text(), re.M))
    missing = [name for name in hook_names() if name not in headings]
    assert not missing, f"hooks without a section in docs/hooks.md: {missing}"
    unknown = headings - set(hook_names())
    assert not unknown, f"docs/hooks.md documents hooks that do not exist: {unknown}"


def test_every_hook_has_a_docstring():
    for name in hook_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_event_type_is_documented():
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
    types = list(CORE_EVENT_TYPES) + PluginManager().event_types()
    missing = [t.__struct_config__.tag for t in types if f"`{t.__struct_config__.tag}`" not in text]
    assert not missing, f"event types not documented in docs/: {missing}"


def test_core_templates_are_translated_to_russian():
    from babel.messages.pofile import read_po

    with (CORE_LOCALES / "ru" / "LC_MESSAGES" / "promtour.po").open("rb") as fh:
        catalog = read_po(fh)
    templates = (ROOT / "core" / "web" / "templates").glob("*.html")
    used = {
        m
        for path in templates
        for m in re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", path.read_text())
    }
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"core template strings without a Russian translation: {missing}"


def test_example_settings_load_and_every_setting_is_documented():
    import msgspec
    from promtour.settings import NatsSettings, Settings, WebSettings, load_settings

    load_settings(ROOT / "config" / "promtour.toml", environ={})
    text = (DOCS / "settings.md").read_text()
    for struct in (Settings, NatsSettings, WebSettings):
        for field in msgspec.structs.fields(struct):
            if field.name not in ("nats", "web"):
                assert f"| `{field.name}` |" in text, f"{struct.__name__}.{field.name}"
