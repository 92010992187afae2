"""The embedded NATS of `promtour serve`/`demo`, run as a person runs them.

It requires credentials kept private in the data folder, listens on loopback only, is
restarted when it dies (while the health endpoints tell the truth), and the platform
works end to end through it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import threading
import time
from pathlib import Path

import httpx
import nats
import nats.errors
import pytest
from promtour._embedded import free_port
from test_cli import STATION_LINE, pid_alive, serve_ready, start, wait_ready


def _cmdline(pid: int) -> str:
    """The command line of ``pid`` as ``ps`` shows it to every local user."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _running(store: Path) -> tuple[int, str]:
    pid, url = (store / "running.url").read_text().split()
    return int(pid), url


def _listeners(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


async def _refused(url: str, **auth: str) -> bool:
    try:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2, **auth)
    except nats.errors.Error as exc:
        return "authorization violation" in str(exc).lower()
    await nc.close()
    return False


def test_embedded_nats_requires_private_credentials(tmp_path, running):
    data = tmp_path / "data"
    serve, port = serve_ready(running, data)
    store = data / "nats"
    pid, url = _running(store)
    credentials = json.loads((store / "credentials.json").read_text())

    # Without the credentials, or with wrong ones, a local client is turned away.
    assert asyncio.run(_refused(url))
    assert asyncio.run(_refused(url, user="promtour", password="guess"))
    assert not asyncio.run(_refused(url, **credentials))

    # Only the owner can read the secrets; the password is on no command line or log.
    assert _mode(data) == 0o700 and _mode(store) == 0o700
    assert _mode(store / "credentials.json") == 0o600
    assert _mode(store / "nats-server.conf") == 0o600
    args = _cmdline(pid)
    assert "nats-server" in args and credentials["password"] not in args
    assert serve.interrupt() == 0
    assert credentials["password"] not in "".join(serve.output)
    assert credentials["password"] not in (store / "nats-server.log").read_text()

    # The next start uses the same credentials.
    serve, _ = serve_ready(running, data, port=port)
    assert json.loads((store / "credentials.json").read_text()) == credentials
    _, url = _running(store)
    assert asyncio.run(_refused(url)) and not asyncio.run(_refused(url, **credentials))
    assert serve.interrupt() == 0


def test_embedded_nats_listens_on_loopback_only(tmp_path, running):
    data = tmp_path / "data"
    serve, _ = serve_ready(running, data)
    pid, url = _running(data / "nats")
    nats_port = int(url.rsplit(":", 1)[1])
    # 127.0.0.1 as /proc/net/tcp writes it; nothing on 0.0.0.0 or any IPv6 address.
    assert _listeners(nats_port) == {"0100007F"}
    assert " -a 127.0.0.1 " in _cmdline(pid)
    assert serve.interrupt() == 0


def test_killed_nats_server_is_restarted_and_health_tells_the_truth(tmp_path, running):
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = start(running, "demo", port, data)
    stations = [STATION_LINE.search(line) for line in demo.read_until(STATION_LINE.pattern, 3)]
    wait_ready(base)
    store = data / "nats"
    old_pid, url = _running(store)
    credentials = json.loads((store / "credentials.json").read_text())

    with httpx.Client(headers={"Accept-Language": "en"}, timeout=10) as client:
        # End to end through the protected server: a scan is recorded.
        first = client.get(stations[0].group(3))
        assert first.status_code == 200 and 'data-visited="1"' in first.text
        assert client.get(f"{base}/healthz").json()["status"] == "ok"

        seen: dict[str, set] = {"healthz": set(), "readyz": set(), "scan": set()}
        done = threading.Event()

        def probe_health() -> None:
            # Apart from the scans: a scan waits up to 2 s for NATS to come back, and the
            # outage can be shorter than that, so probes between scans could miss it.
            with httpx.Client(timeout=10) as probe:
                while not done.is_set():
                    health = probe.get(f"{base}/healthz")
                    seen["healthz"].add((health.status_code, health.json()["status"]))
                    seen["readyz"].add(probe.get(f"{base}/readyz").status_code)
                    time.sleep(0.01)

        os.kill(old_pid, signal.SIGKILL)
        killed = time.monotonic()
        prober = threading.Thread(target=probe_health)
        prober.start()
        recovered = None
        while time.monotonic() - killed < 20:
            scan = client.get(stations[1].group(3))
            seen["scan"].add(scan.status_code)
            if scan.status_code == 503:
                assert "please try again" in scan.text.lower()
            if scan.status_code == 200:
                recovered = time.monotonic() - killed
                break
            time.sleep(0.02)

        # The probes go on until NATS is back for them too.
        while time.monotonic() - killed < 20:
            if client.get(f"{base}/readyz").status_code == 200:
                break
            time.sleep(0.05)
        done.set()
        prober.join(15)
        assert recovered is not None and recovered < 10, seen
        assert 'data-visited="2"' in scan.text
        # While it was down, the health endpoints said so.
        assert 503 in seen["readyz"], seen
        assert (200, "degraded") in seen["healthz"], seen
        assert client.get(f"{base}/healthz").json()["status"] == "ok"

    # Same port, same store, same credentials; the killed one is gone.
    new_pid, new_url = _running(store)
    assert new_pid != old_pid and new_url == url and not pid_alive(old_pid)
    assert asyncio.run(_refused(url)) and not asyncio.run(_refused(url, **credentials))
    assert demo.interrupt() == 0
    assert not pid_alive(new_pid), "the restarted nats-server outlived promtour"


@pytest.mark.parametrize(
    ("environ", "synced"),
    [({}, True), ({"PROMTOUR_NATS__EMBEDDED_SYNC": "default"}, False)],
)
def test_embedded_server_fsyncs_acked_messages_by_default(tmp_path, environ, synced):
    """The server `promtour serve` starts fsyncs each message before acking it, unless
    ``nats.embedded_sync`` says otherwise (docs/running.md: what an ack survives)."""
    from promtour._server import nats_for
    from promtour._settings import load_settings

    settings = load_settings(environ={"PROMTOUR_DATA_DIR": str(tmp_path), **environ})
    with nats_for(settings):
        conf = (tmp_path / "nats" / "nats-server.conf").read_text()
    assert ('sync_interval: "always"' in conf) is synced
