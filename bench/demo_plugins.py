"""The demo with only some plugins: the load of a target set for fewer plugins.

Used by ``bench/scan.py --plugins`` and ``bench/breakdown.py --plugins-only``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

__all__ = ["DEMO", "installed_plugins", "trimmed_demo"]

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo"


def installed_plugins() -> list[str]:
    from importlib.metadata import entry_points

    return sorted(ep.name for ep in entry_points(group="promtour"))


def trimmed_demo(plugins: list[str], tmp: Path) -> Path:
    """A copy of ``config/demo`` whose tours enable only ``plugins``: every
    ``[plugins.<other>]`` table (and its sub-tables) is left out."""
    target = tmp / "demo"
    shutil.copytree(DEMO, target, dirs_exist_ok=True)
    header = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.]+)")
    for path in (target / "tours").glob("*.toml"):
        out, skipping = [], False
        for line in path.read_text().splitlines(keepends=True):
            found = header.match(line)
            if found:
                parts = found.group(1).split(".")
                skipping = parts[0] == "plugins" and len(parts) > 1 and parts[1] not in plugins
            if not skipping:
                out.append(line)
        path.write_text("".join(out))
    return target
