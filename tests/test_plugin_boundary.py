"""The public plugin API is the boundary: plugins import nothing else of the core.

Every Python file under plugins/ and contrib/ may import from ``promtour.plugin``,
``promtour.testing`` (tests and fixtures), and its own package; any other ``promtour``
import fails this test with the file, the line and the name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import promtour.plugin

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"promtour.plugin", "promtour.testing", "promtour.testing.browser"}


def _own_package(path: Path) -> str | None:
    """``promtour.plugins.<name>`` for a file of a built-in plugin."""
    parts = path.relative_to(ROOT).parts
    if parts[0] == "plugins" and len(parts) > 2:
        return f"promtour.plugins.{parts[1]}"
    return None


def private_imports(path: Path) -> list[str]:
    own = _own_package(path)
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "promtour":
                names = [f"promtour.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name != "promtour" and not name.startswith("promtour."):
                continue
            if name in PUBLIC or (own and (name == own or name.startswith(own + "."))):
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_plugins_import_only_the_public_api() -> None:
    files = sorted([*ROOT.glob("plugins/**/*.py"), *ROOT.glob("contrib/**/*.py")])
    assert len(files) > 20, "the plugins were not found"
    offending = [line for path in files for line in private_imports(path)]
    assert not offending, "private core imports in plugins:\n" + "\n".join(offending)


def test_the_boundary_test_catches_a_private_import(tmp_path: Path) -> None:
    plugin = ROOT / "plugins" / "quests" / "_boundary_probe.py"
    plugin.write_text("from promtour._bus import read\nfrom promtour import plugin\n")
    try:
        assert private_imports(plugin) == ["plugins/quests/_boundary_probe.py:1: promtour._bus"]
    finally:
        plugin.unlink()


def test_every_public_name_exists() -> None:
    for name in promtour.plugin.__all__:
        assert hasattr(promtour.plugin, name), name


#: What may be imported from outside the core (everything else carries an underscore).
PUBLIC_CORE = {"__init__.py", "__main__.py", "plugin.py", "hookspecs.py", "testing"}


def test_the_rest_of_the_core_is_underscore_private() -> None:
    core = ROOT / "core"
    modules = [
        path.name
        for path in core.iterdir()
        if path.suffix == ".py" or (path / "__init__.py").exists()
    ]
    assert "_bus.py" in modules and "plugin.py" in modules, "the core was not found"
    exposed = [name for name in modules if not name.startswith("_") and name not in PUBLIC_CORE]
    assert not exposed, f"core modules without a leading underscore: {exposed}"
