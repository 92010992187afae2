"""The built wheel works on its own: installed into a fresh venv (not the editable
checkout), it imports as ``promtour`` and ``promtour.plugins.*`` only, finds its
plugins by entry point, and serves a station page with its templates, catalogs and
static files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = r"""
import asyncio, importlib.util, json, re, sys
from pathlib import Path

import httpx
import promtour
import promtour.plugins.quests
from promtour._manager import PluginManager
from promtour._platform import Platform
from promtour.testing import LiveServer, save_new_tour, station_path
from promtour.testing import test_settings as settings_for

nats_url = sys.argv[1]


async def make_tour():
    platform = Platform(settings_for(nats_url), plugins=PluginManager())
    await platform.start(consumers=False)
    try:
        return await save_new_tour(platform, plugins={"quests": {}, "career": {}})
    finally:
        await platform.stop()


tour = asyncio.run(make_tour())
server = LiveServer(Platform(settings_for(nats_url), plugins=PluginManager())).start()
try:
    page = httpx.get(
        server.url + station_path(tour, "s1"), headers={"Accept-Language": "ru"}, timeout=10
    )
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    asset_status = {a: httpx.get(server.url + a, timeout=10).status_code for a in assets}
finally:
    server.stop()
print(json.dumps({
    "promtour": promtour.__file__,
    "quests": promtour.plugins.quests.__file__,
    "core_importable": importlib.util.find_spec("core") is not None,
    "plugins_importable": importlib.util.find_spec("plugins") is not None,
    "plugins": PluginManager().names,
    "status": page.status_code,
    "html": page.text,
    "assets": asset_status,
}))
"""


def test_every_package_folder_is_in_the_wheel():
    """A new sub-package (a plugin's ``routes/``) is listed in pyproject, or the wheel lacks it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {
        ".".join((root, *init.parent.relative_to(ROOT / folder).parts))
        for root, folder in config["package-dir"].items()
        for init in (ROOT / folder).rglob("__init__.py")
        if "templates" not in init.parts
    }
    assert sorted(folders - listed) == [], "add these to [tool.setuptools] packages"


def test_wheel_installs_and_runs_on_its_own(tmp_path, nats_url):
    # Build from a copy of the sources, so the checkout gets no build/ or egg-info.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("core", "plugins"):
        shutil.copytree(
            ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("promtour-*.whl")

    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"promtour"}
    for data in (
        "promtour/py.typed",
        "promtour/_web/templates/station.html",
        "promtour/_web/static/promtour.css",
        "promtour/locale/ru/LC_MESSAGES/promtour.po",
        "promtour/plugins/quests/__init__.py",
        "promtour/plugins/audio_guide/__init__.py",
        "promtour/plugins/career/__init__.py",
    ):
        assert data in names, data
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "promtour = promtour._cli:main" in text
    for plugin in ("audio_guide", "quests", "career"):
        assert f"{plugin} = promtour.plugins.{plugin}" in text

    # A plain venv with only the wheel in it; the dependencies come from this
    # interpreter's site-packages, appended *after* the venv's own (a .pth line is
    # not a site dir, so the editable checkout's import hook is not loaded).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    installed = {p.name for p in site.iterdir()}
    assert "promtour" in installed
    assert "core" not in installed and "plugins" not in installed
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMTOUR_", "PYTHON"))}
    run = subprocess.run(
        [str(python), "-c", CHECK, nats_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # not the checkout: nothing importable from the current folder
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(report["promtour"]).is_relative_to(site)
    assert Path(report["quests"]).is_relative_to(site)
    assert not report["core_importable"] and not report["plugins_importable"]
    assert {"audio_guide", "quests", "career"} <= set(report["plugins"])
    # The page came from the wheel's templates, in Russian from its catalog ...
    assert report["status"] == 200
    assert "Ваш маршрут" in report["html"]
    assert "Станция 1" in report["html"]
    # The plugins' hooks ran from the wheel too (the class on a panel, not the
    # stylesheet's rule: a new visitor's page carries the stylesheet inline).
    assert ' panel-failed"' not in report["html"]
    # ... with every stylesheet and script it links served from the wheel's static files
    # (the core's and the plugins' files bundled into one of each: web/assets.py).
    bundles = [a for a in report["assets"] if a.startswith("/static/b/")]
    assert any("quests" in a and a.endswith(".css") for a in bundles), report["assets"]
    assert any("quests" in a and a.endswith(".js") for a in bundles), report["assets"]
    assert report["assets"] and set(report["assets"].values()) == {200}, report["assets"]
