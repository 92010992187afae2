"""The docs keep up with the code: every hook and every event type is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from promtour import hookspecs
from promtour._events import CORE_EVENT_TYPES
from promtour._i18n import CORE_LOCALES
from promtour._manager import PluginManager

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
    templates = (ROOT / "core" / "_web" / "templates").glob("*.html")
    used = {
        m
        for path in templates
        for m in re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", path.read_text())
    }
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"core template strings without a Russian translation: {missing}"


def test_example_settings_load_and_every_setting_is_documented():
    import msgspec
    from promtour._settings import NatsSettings, Settings, WebSettings, load_settings

    load_settings(ROOT / "config" / "promtour.toml", environ={})
    text = (DOCS / "settings.md").read_text()
    for struct in (Settings, NatsSettings, WebSettings):
        for field in msgspec.structs.fields(struct):
            if field.name not in ("nats", "web"):
                assert f"| `{field.name}` |" in text, f"{struct.__name__}.{field.name}"


API_CLASSES = (
    "PluginContext",
    "PageContext",
    "EnterpriseContext",
    "RequestContext",
    "PluginStore",
    "WatchedKeys",
    "Frame",
)


def _api_sections() -> dict[str, str]:
    text = (DOCS / "plugins" / "api.md").read_text()
    parts = re.split(r"^### (\S+)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_public_api_name_is_documented():
    import promtour.plugin

    sections = _api_sections()
    missing = [name for name in promtour.plugin.__all__ if name not in sections]
    assert not missing, f"public API names without a section in docs/plugins/api.md: {missing}"
    unknown = set(sections) - set(promtour.plugin.__all__)
    assert not unknown, f"docs/plugins/api.md documents names that are not public: {unknown}"


def test_every_public_method_of_the_api_classes_is_documented():
    import promtour.plugin

    sections = _api_sections()
    undocumented = []
    for class_name in API_CLASSES:
        cls = getattr(promtour.plugin, class_name)
        names = {n for n in vars(cls) if not n.startswith("_")}
        # Attributes set in __init__ (self.x = ...) are public too.
        source = inspect.getsource(cls.__init__)
        names |= set(re.findall(r"self\.([a-z]\w*) = ", source))
        if class_name == "PageContext":
            names |= {"_", "ngettext"}
        for name in sorted(names):
            if f"`{name}" not in sections[class_name] and f" {name}(" not in sections[class_name]:
                undocumented.append(f"{class_name}.{name}")
    assert not undocumented, f"not described in docs/plugins/api.md: {undocumented}"
