"""Which process of a machine runs each plugin's event consumer: file locks decide.

With ``promtour serve --workers N`` every worker ran every plugin's consumer. They
shared each durable consumer, each fetched part of the events, and two processes
wrote the same visitor's records at once (a conflict, a read and a write again).
With each consumer in one process, a scan with two workers cost 1,802–2,036 µs of
CPU instead of 2,526–3,003 (docs/performance.md). Each plugin's consumer (and the
expiry sweep) has a lock of its own, so that the workers split them instead of one
worker doing all the consumers' work; the process that holds a lock runs that
consumer, the others try again every few seconds and take over when it ends: the
system releases the locks of a process that exits or dies.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

__all__ = ["EXPIRY_UNIT", "FileLock", "unit_label", "unit_locks"]

#: The lock of the sweep that erases personal records when their time is up.
EXPIRY_UNIT = "expiry"


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


def unit_locks(base: str | Path, units: list[str]) -> list[tuple[str, Path]]:
    """Each unit's lock file beside ``base``: ``consumers.lock`` gives
    ``consumers.quests.lock``, ``consumers.expiry.lock``, …"""
    base = Path(base)
    return [(unit, base.with_name(f"{base.stem}.{unit}{base.suffix}")) for unit in units]


def unit_label(unit: str) -> str:
    """What a unit is, for the log."""
    return "the expiry sweep" if unit == EXPIRY_UNIT else f"the event consumer of {unit}"
