"""Fixtures several of promtour's own test files share (not part of promtour.testing:
plugin authors do not need them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promtour._embedded import EmbeddedNats


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server for this test alone, under ``tmp_path``: the test may stop and
    restart it, change its streams' limits or read its store files."""
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running() -> Iterator[list[Any]]:
    """``promtour`` processes a test started (``test_cli.Running``, see
    ``test_cli.start``), killed at the end whatever happened."""
    started: list[Any] = []
    yield started
    for process in started:
        process.kill()
