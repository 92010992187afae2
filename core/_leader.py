"""Which process of a machine runs the plugins' event consumers: a file lock decides.

With ``promtour serve --workers N`` every worker ran every plugin's consumer. They
shared each durable consumer, each fetched part of the events, and two processes
wrote the same visitor's records at once (a conflict, a read and a write again).
With the consumers in one process, a scan with two workers cost 1,802–2,036 µs of
CPU instead of 2,526–3,003 (docs/performance.md). The process that holds the lock
runs them; the others try again every few seconds and take over when it ends: the
system releases the lock of a process that exits or dies.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

__all__ = ["FileLock"]


class FileLock:
    """An exclusive ``flock`` on a file, taken without waiting."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other process (or open file) holds it; True if held."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
