"""``promtour plugins new NAME``: write a new plugin package from the templates here.

The templates are package data of promtour (``templates/plugin/``), so an installed
wheel can run the generator; they are the one source of truth for a plugin's layout
(the old ``contrib/plugin-template`` copy is gone). A file's path and text name the
plugin with placeholders: ``__package__`` and ``__name__`` in paths, ``@@NAME@@``,
``@@PACKAGE@@``, ``@@DIST@@`` and ``@@TITLE@@`` in text (not jinja2 syntax, which
the plugin's own templates use). The ``.tmpl`` suffix keeps tools from reading them
as code of promtour.
"""

from __future__ import annotations

from pathlib import Path

from promtour._errors import PromtourError
from promtour._models import SLUG_RE

__all__ = ["TEMPLATES", "new_plugin"]

TEMPLATES = Path(__file__).parent / "templates" / "plugin"


def _names(name: str) -> dict[str, str]:
    package = "promtour_" + name.replace("-", "_")
    return {
        "@@NAME@@": name,
        "@@PACKAGE@@": package,
        "@@DIST@@": "promtour-" + name.replace("_", "-"),
        "@@TITLE@@": name.replace("_", " ").replace("-", " ").capitalize(),
    }


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package of plugin ``name`` into ``parent/promtour-<name>``; returns
    that folder. Refuses an invalid name or an existing folder (never overwrites)."""
    if not SLUG_RE.match(name) or not name[0].isalpha() or "-" in name:
        raise PromtourError(
            f"plugin name {name!r}: use lower-case letters, digits and '_', "
            "starting with a letter (it is a Python package and an entry point name)"
        )
    values = _names(name)
    target = parent / values["@@DIST@@"]
    if target.exists():
        raise PromtourError(f"{target} exists already: choose another --dir or name")
    for source in sorted(TEMPLATES.rglob("*.tmpl")):
        relative = str(source.relative_to(TEMPLATES)).removesuffix(".tmpl")
        relative = relative.replace("__package__", values["@@PACKAGE@@"])
        relative = relative.replace("__name__", name)
        text = source.read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target
