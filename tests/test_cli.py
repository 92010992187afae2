"""The ``promtour`` command line, run as a person would run it: as a subprocess."""

from __future__ import annotations

import asyncio
import io
import os
import queue
import re
import signal
import socket
import subprocess
import sysconfig
import threading
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from promtour._embedded import free_port
from promtour._models import Enterprise
from promtour._server import DEMO_DIR
from promtour.testing import import_demo_in_thread, unique

PROMTOUR = str(Path(sysconfig.get_path("scripts")) / "promtour")
STATION_LINE = re.compile(r"station\s+(\d+)\s+(\S+)\s+(http://\S+/s/\S+)")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMTOUR_")}
    env.update(extra)
    return env


def run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOUR, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=clean_env(),
    )


async def arun(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """:func:`run` from an async test, without blocking the loop its platform lives on."""
    return await asyncio.to_thread(run, *args, cwd=cwd, timeout=timeout)


class Running:
    """A long-running ``promtour`` process in its own session, stopped like Ctrl-C."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [PROMTOUR, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=clean_env(PYTHONUNBUFFERED="1"),
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def read_until(self, pattern: str, count: int = 1, timeout: float = 30) -> list[str]:
        """Lines of output until ``count`` lines matched ``pattern``; returns the matches."""
        found: list[str] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no {pattern!r} in:\n{''.join(self.output)}")
            self.output.append(line)
            if re.search(pattern, line):
                found.append(line)
        return found

    def interrupt(self, timeout: float = 20) -> int:
        """Ctrl-C in a terminal: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(running: list[Running], command: str, port: int, data: Path, *extra: str) -> Running:
    """``promtour <command> --port <port> --data-dir <data>`` run from ``data``'s parent,
    for the ``running`` fixture to kill at the end."""
    process = Running(
        command, *extra, "--port", str(port), "--data-dir", str(data), cwd=data.parent
    )
    running.append(process)
    return process


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not become ready")
        time.sleep(0.1)


def serve_ready(
    running: list[Running], data: Path, *extra: str, port: int | None = None
) -> tuple[Running, int]:
    """``promtour serve`` on ``port`` (a free one by default) with ``data``, once it
    answers ``/readyz``; the process and its port."""
    port = port or free_port()
    serve = start(running, "serve", port, data, *extra)
    wait_ready(f"http://127.0.0.1:{port}")
    return serve, port


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is as good as gone: nobody waits for it any more.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_demo_runs_stops_cleanly_and_keeps_its_data(tmp_path, running):
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = start(running, "demo", port, data)
    (start_line,) = demo.read_until(r"Tour uralpress\.main: ")
    assert f"{base}/t/uralpress/main" in start_line
    stations = [STATION_LINE.search(line) for line in demo.read_until(r"station\s+\d", 5)]
    assert [m.group(1) for m in stations if m] == ["1", "2", "3", "4", "5"]
    urls = [m.group(3) for m in stations if m]
    assert all(url.startswith(f"{base}/s/uralpress.main.") for url in urls)
    # The plugins' announced pages follow: where a teacher books a class visit.
    (book_line,) = demo.read_until(r"Book a class visit: ")
    assert f"{base}/p/visits/t/uralpress/main/book" in book_line

    nats_pid = int((data / "nats" / "running.url").read_text().split()[0])
    assert pid_alive(nats_pid)
    wait_ready(base)
    with httpx.Client(timeout=10, headers={"Accept-Language": "en"}) as client:
        assert client.get(f"{base}/t/uralpress/main").status_code == 200
        page = client.get(urls[0])
        assert page.status_code == 200
        assert "Steel coil warehouse" in page.text
        cookies = dict(client.cookies)

    assert demo.interrupt() == 0
    assert not pid_alive(nats_pid), "the embedded nats-server outlived promtour"
    assert not (data / "nats" / "running.url").exists()

    # Started again on the same data: the same codes, and the visitor's progress kept.
    again = start(running, "demo", port, data)
    again.read_until(r"Tour uralpress\.main: ")  # the demo's second tour comes first
    lines = again.read_until(r"station\s+\d", 5)
    assert [STATION_LINE.search(line).group(3) for line in lines] == urls  # type: ignore[union-attr]
    wait_ready(base)
    with httpx.Client(timeout=10, headers={"Accept-Language": "en"}, cookies=cookies) as client:
        page = client.get(urls[1])
        assert page.status_code == 200
        assert 'data-visited="2"' in page.text  # the first station is still visited
        assert client.get(f"{base}/t/uralpress/main/at/warehouse").status_code == 200
    assert again.interrupt() == 0


def test_demo_of_a_folder_of_ones_own(tmp_path, running):
    """``promtour demo --demo-dir``: a sales demo with the enterprise's own tour."""
    own = tmp_path / "own"
    (own / "tours").mkdir(parents=True)
    (own / "enterprise.toml").write_text((DEMO_DIR / "enterprise.toml").read_text())
    (own / "tours" / "line.toml").write_text(
        'id = "line"\nenterprise = "uralpress"\nname = { en = "The bottling line" }\n'
        'languages = ["en"]\ndefault_language = "en"\n\n'
        '[[stations]]\nid = "filler"\nnumber = 1\nname = { en = "Filler" }\n'
    )
    port = free_port()
    demo = start(running, "demo", port, tmp_path / "data", "--demo-dir", str(own))
    demo.read_until(r"Tour uralpress\.line: ")
    (station,) = demo.read_until(r"station\s+\d")
    wait_ready(f"http://127.0.0.1:{port}")
    url = STATION_LINE.search(station).group(3)  # type: ignore[union-attr]
    page = httpx.get(url, follow_redirects=True, headers={"Accept-Language": "en"}, timeout=10)
    assert page.status_code == 200 and "Filler" in page.text
    assert not any("uralpress.main" in line for line in demo.output)  # not the built-in demo
    assert demo.interrupt() == 0
    # A folder that is not a demo folder: said so, before anything starts.
    wrong = run("demo", "--demo-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert wrong.returncode != 0 and "no tours/ folder" in wrong.stderr


def test_no_orphan_nats_server_when_promtour_is_killed(tmp_path, running):
    data = tmp_path / "data"
    serve, _ = serve_ready(running, data)
    nats_pid = int((data / "nats" / "running.url").read_text().split()[0])
    assert pid_alive(nats_pid)
    os.kill(serve.process.pid, signal.SIGKILL)  # no chance to clean up
    serve.process.wait(10)
    deadline = time.monotonic() + 10
    while pid_alive(nats_pid):
        assert time.monotonic() < deadline, "nats-server outlived a killed promtour"
        time.sleep(0.05)


def test_serve_uses_the_given_nats(tmp_path, running, nats_url):
    data = tmp_path / "data"
    serve, _ = serve_ready(running, data, "--nats", nats_url)
    # No embedded server was started: no store, no child nats-server.
    assert not (data / "nats").exists()
    children = subprocess.run(
        ["ps", "--ppid", str(serve.process.pid), "-o", "comm="],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "nats-server" not in children
    assert serve.interrupt() == 0
    # The given server was used, not stopped: it is still there for everyone else.
    host, port_text = nats_url.removeprefix("nats://").rsplit(":", 1)
    with socket.create_connection((host, int(port_text)), timeout=2) as sock:
        assert sock.recv(4).startswith(b"INFO")


TOUR_TOML = """\
id = "{tour}"
enterprise = "{enterprise}"
name = {{ ru = "Экскурсия", en = "A tour" }}
languages = ["ru", "en"]
default_language = "ru"

[[stations]]
id = "gate"
number = 1
name = {{ ru = "Проходная", en = "Gate" }}

[[stations]]
id = "hall"
number = 7
name = {{ ru = "Цех", en = "Hall" }}
enabled = false

[plugins.career]
"""


async def test_tours_import_export_list_round_trip(tmp_path, make_platform, nats_url):
    platform = await make_platform(consumers=False)
    enterprise = unique("ent")
    await platform.import_enterprise(Enterprise(id=enterprise, name={"en": "Works"}))
    tour = unique("tour")
    source = tmp_path / "tour.toml"
    source.write_text(TOUR_TOML.format(tour=tour, enterprise=enterprise), encoding="utf-8")
    key = f"{enterprise}.{tour}"

    imported = await arun("tours", "import", str(source), "--nats", nats_url, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert f"imported {key} (2 stations)" in imported.stdout
    first = await arun("tours", "export", key, "--nats", nats_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    exported = tomllib.loads(first.stdout)
    original = tomllib.loads(source.read_text(encoding="utf-8"))
    for field in ("id", "enterprise", "name", "languages", "default_language", "plugins"):
        assert exported[field] == original[field], field
    assert [(s["id"], s["number"], s["enabled"]) for s in exported["stations"]] == [
        ("gate", 1, True),
        ("hall", 7, False),
    ]
    assert "keys" not in exported  # signing keys never leave NATS

    (tmp_path / "again.toml").write_text(first.stdout, encoding="utf-8")
    again = await arun("tours", "import", "again.toml", "--nats", nats_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    second = await arun("tours", "export", key, "--nats", nats_url, "-o", "out.toml", cwd=tmp_path)
    assert second.returncode == 0
    assert (tmp_path / "out.toml").read_text(encoding="utf-8") == first.stdout

    listed = await arun("tours", "list", "--nats", nats_url, cwd=tmp_path)
    assert listed.returncode == 0
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(key + "\t")]
    assert "A tour" in line and "2 stations" in line and "career" in line

    missing = await arun("tours", "export", f"{enterprise}.nope", "--nats", nats_url, cwd=tmp_path)
    assert missing.returncode == 2 and "no tour" in missing.stderr


@pytest.mark.parametrize(
    ("plugins", "named"),
    [
        ("[plugins.quests]\nnonsense = 1\n", ("quests", "nonsense")),
        ("[plugins.career]\n[plugins.nosuch]\n", ("nosuch", "no such plugin")),
        ("[plugins.career]\nprofessions = 3\n", ("career", "professions")),
    ],
)
async def test_tour_file_with_bad_plugin_config(tmp_path, make_platform, nats_url, plugins, named):
    platform = await make_platform(consumers=False)
    enterprise = unique("ent")
    await platform.import_enterprise(Enterprise(id=enterprise, name={"en": "Works"}))
    tour = unique("tour")
    text = TOUR_TOML.format(tour=tour, enterprise=enterprise).replace("[plugins.career]\n", "")
    path = tmp_path / "bad.toml"
    path.write_text(text + plugins, encoding="utf-8")
    result = await arun("tours", "import", str(path), "--nats", nats_url, cwd=tmp_path)
    assert result.returncode == 2
    for word in named:
        assert word in result.stderr
    assert "Traceback" not in result.stderr
    assert await platform.tours.refresh(f"{enterprise}.{tour}") is None  # nothing stored


def test_tour_file_that_is_not_a_tour(tmp_path, nats_url):
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\nstations = 3\n', encoding="utf-8")
    result = run("tours", "import", str(path), "--nats", nats_url, cwd=tmp_path)
    assert result.returncode == 2
    assert "broken.toml" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_nats_is_a_clear_error(tmp_path):
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [PROMTOUR, "tours", "list", "--nats", f"nats://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean_env(PROMTOUR_NATS__CONNECT_TIMEOUT="1"),
    )
    assert result.returncode == 2
    assert f"cannot reach NATS at nats://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_qr_codes_scan_to_the_station_urls(tmp_path, nats_url, browser):
    import zxingcpp
    from PIL import Image

    keys = import_demo_in_thread(nats_url)
    key = "uralpress.main"
    assert key in keys
    svg_dir, png_dir = tmp_path / "svg", tmp_path / "png"
    result = run(
        "qr", key, "--format", "svg", "--out", str(svg_dir), "--nats", nats_url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines() if line.strip()]
    assert [row[0] for row in rows] == ["1", "2", "3", "4", "5"]
    urls = {row[1]: row[2] for row in rows}
    svgs = sorted(svg_dir.glob("*.svg"))
    assert [p.name for p in svgs] == [
        "001-warehouse.svg",
        "002-press.svg",
        "003-welding.svg",
        "004-cnc.svg",
        "005-qc.svg",
    ]
    # Render an SVG as a browser would print it, then scan it like a phone camera.
    page = browser.new_page(viewport={"width": 600, "height": 700})
    try:
        page.set_content(
            "<body style='margin:0;background:#fff'>"
            + svgs[1].read_text(encoding="utf-8")
            + "</body>"
        )
        shot = page.screenshot(full_page=True)
        labels = page.locator("svg > text").all_text_contents()
    finally:
        page.close()
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert decoded.text == urls["press"]
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert labels[0] == "2"  # the station number is printed under the code

    result = run(
        "qr", key, "--format", "png", "--out", str(png_dir), "--nats", nats_url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    (decoded,) = zxingcpp.read_barcodes(Image.open(png_dir / "005-qc.png"))
    assert decoded.text == urls["qc"]
    assert decoded.ec_level in ("Q", "H")

    unknown = run("qr", "nobody.nothing", "--nats", nats_url, cwd=tmp_path)
    assert unknown.returncode == 2 and "no tour" in unknown.stderr


def test_plugins_list(tmp_path):
    result = run("plugins", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    blocks: dict[str, tuple[str, str]] = {}
    lines = result.stdout.splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if not line.startswith("\t"):
            name, version, *_ = line.split("\t")
            blocks[name] = (version, following.strip())
    for name in ("audio_guide", "quests", "career"):
        version, hooks = blocks[name]
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", version), version
        assert hooks.startswith("hooks: ")
        assert "promtour_plugin_info" in hooks and "promtour_station_panels" in hooks


def test_qr_urls_point_at_the_running_server(tmp_path, nats_url):
    """Issue 12.10: without --public-url the URLs are the running server's, not :8000."""
    from promtour._server import record_running_url

    key = "uralpress.main"
    assert key in import_demo_in_thread(nats_url)

    async def started_on_port_8765() -> None:
        from promtour._manager import PluginManager
        from promtour._platform import Platform
        from promtour.testing import test_settings

        platform = Platform(test_settings(nats_url), plugins=PluginManager())
        await platform.start(consumers=False)
        try:
            await record_running_url(platform, "http://127.0.0.1:8765")
        finally:
            await platform.stop()

    asyncio.run(started_on_port_8765())
    result = run("qr", key, "--nats", nats_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    urls = [line.split("\t")[2] for line in result.stdout.splitlines() if line.strip()]
    assert urls and all(u.startswith("http://127.0.0.1:8765/s/") for u in urls)
    # An explicit public URL still wins.
    result = run(
        "qr", key, "--nats", nats_url, "--public-url", "https://tour.example.org", cwd=tmp_path
    )
    assert all(
        line.split("\t")[2].startswith("https://tour.example.org/s/")
        for line in result.stdout.splitlines()
        if line.strip()
    )
