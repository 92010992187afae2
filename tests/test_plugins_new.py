"""``promtour plugins new`` round trip: the generated package installs into a fresh venv
with promtour, its own tests pass there, and, registered on a platform here, its panel
shows on a station page."""

from __future__ import annotations

import importlib
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import promtour
from promtour._cli import main

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


async def test_new_plugin_passes_its_own_tests_and_shows_its_panel(
    tmp_path, harness, nats_url, monkeypatch
):
    assert main(["plugins", "new", "hello_kit", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "promtour-hello-kit"
    assert (package / "promtour_hello_kit" / "locale/ru/LC_MESSAGES/hello_kit.po").is_file()

    # A fresh venv that sees the promtour this suite runs (however it is installed:
    # editable or a wheel) and its dependencies, through a .pth file that adds this
    # environment's site directories; the new package is pip-installed into it
    # (--no-deps; its build backend comes from pip's usual isolated build).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = str(env_dir / "bin" / "python")
    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, {}
    ).stdout.strip()
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    (Path(purelib) / "_promtour_suite.pth").write_text(
        f"import site; list(map(site.addsitedir, {dirs!r}))\n", encoding="utf-8"
    )
    env = {**os.environ, "NATS_URL": nats_url, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "-e"]
    done = _run([*pip, str(package)], tmp_path, env)
    assert done.returncode == 0, done.stderr
    where = _run(
        [python, "-c", "import promtour_hello_kit, promtour; print(promtour.__file__)"],
        tmp_path,
        env,
    )
    assert where.stdout.strip() == promtour.__file__, where.stderr
    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], package, env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout

    # In this process: register the generated plugin and see its panel on a station.
    monkeypatch.syspath_prepend(str(package))
    plugin = importlib.import_module("promtour_hello_kit")
    await harness.start(plugin)
    tour = await harness.tour({"hello_kit": {"greeting": {"en": "Good morning"}}})
    page = await harness.scan(tour, "s3", lang="en")
    assert page.status_code == 200
    assert "Good morning! You are at station 3." in page.text
    assert sys.modules["promtour_hello_kit"] is plugin
