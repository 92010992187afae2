"""A started platform for a plugin's command-line command (``promtour_cli_commands``).

A plugin's command gets the parsed arguments; with :func:`plugin_session` it gets the
platform of those settings (the embedded NATS of the data folder, or ``--nats``)
seen through the plugin's contexts, and can replay the stream into its own consumer
(a read model's rebuild) while following the progress.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from promtour._context import EnterpriseContext, PluginContext
from promtour._events import Event
from promtour._platform import Platform
from promtour._store import PluginStore

__all__ = ["PluginSession", "add_settings_args", "plugin_session"]


def add_settings_args(parser: argparse.ArgumentParser) -> None:
    """The flags every command that talks to the platform takes (``--settings``,
    ``--nats``, ``--data-dir``), for :func:`plugin_session`."""
    from promtour._cli import _settings_args

    _settings_args(parser)


class PluginSession:
    """One plugin's view of a started platform, for a command-line command."""

    def __init__(self, platform: Platform, plugin: str) -> None:
        self._platform = platform
        self.plugin = plugin

    def tours(self) -> list[PluginContext]:
        """Contexts of every tour that has the plugin enabled."""
        return [
            PluginContext(self._platform, self.plugin, state)
            for state in self._platform.tours.all()
            if self.plugin in state.configs
        ]

    def enterprise(self, enterprise: str) -> EnterpriseContext:
        """The plugin's context for an enterprise."""
        return EnterpriseContext(self._platform, self.plugin, enterprise)

    @property
    def store(self) -> PluginStore:
        """The plugin's own store."""
        return self._platform.store_for(self.plugin)

    async def publish(self, event: Event) -> int:
        """Store an event in the stream (waits for the ack); returns its sequence."""
        return await self._platform.bus.publish(event)

    async def replay(
        self, progress: Callable[[int, int], Any] | None = None, *, interval: float = 0.5
    ) -> int:
        """Replay the stream into the plugin's consumer and wait until it has caught
        up: its durable consumer is deleted and created again (from the stream's first
        event for a plugin with ``consume_from="first"``), run here; a running server
        shares the work. ``progress(done, total)`` is called with stream sequences
        every ``interval`` seconds. Returns the stream's last sequence."""
        consumers = self._platform.consumers
        await consumers.reset(self.plugin)
        await consumers.start(only=[self.plugin])
        try:
            while True:
                done, total = await consumers.progress(self.plugin)
                if progress is not None:
                    progress(done, total)
                if done >= total:
                    return total
                await asyncio.sleep(interval)
        finally:
            await consumers.stop()


@asynccontextmanager
async def plugin_session(plugin: str, args: argparse.Namespace) -> AsyncIterator[PluginSession]:
    """``async with plugin_session("myplugin", args) as session:`` a started platform
    (no consumers running) for the settings in ``args`` (see :func:`add_settings_args`)."""
    from promtour._cli import settings_from
    from promtour._server import nats_for

    with nats_for(settings_from(args)) as settings:
        platform = Platform(settings)
        await platform.start(consumers=False)
        try:
            yield PluginSession(platform, plugin)
        finally:
            await platform.stop()
