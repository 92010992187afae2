"""The plugin manager: pluggy, with per-tour hook callers and isolated fan-out calls.

Built-in plugins are found through the same ``promtour`` entry points as third-party
ones; nothing here names a plugin.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import importlib.metadata
import inspect
import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pluggy
from promtour import hookspecs
from promtour._describe import PluginInfo, RoleSpec
from promtour._errors import ConfigError, PromtourError
from promtour._events import Event
from promtour._models import SLUG_RE, Tour

__all__ = ["HookOutcome", "PluginFolders", "PluginManager", "await_maybe"]

log = logging.getLogger("promtour.plugins")

#: An event type's tag is the last token of its subject, so no dots or wildcards.
EVENT_TAG_RE = re.compile(r"^[A-Za-z0-9_-]+$")


async def await_maybe(value: Any) -> Any:
    """pluggy is synchronous: a hook may hand back an awaitable for us to resolve."""
    if inspect.isawaitable(value):
        return await value
    return value


def _hook_names() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith("promtour_")]


class HookOutcome(msgspec.Struct):
    plugin: str
    result: Any = None
    error: str | None = None


class PluginFolders(msgspec.Struct, frozen=True):
    """A plugin's ``templates/``, ``static/`` and ``locale/`` folders, where it has them."""

    templates: Path | None = None
    static: Path | None = None
    locales: Path | None = None


def _module_of(plugin: object) -> Any:
    """The module a plugin is (a module registered as a plugin) or was defined in."""
    return plugin if inspect.ismodule(plugin) else sys.modules.get(type(plugin).__module__)


def _folder_of(plugin: object) -> Path | None:
    file = getattr(_module_of(plugin), "__file__", None)
    return Path(file).parent if file else None


def _folders(plugin: object) -> PluginFolders:
    base = _folder_of(plugin)
    if base is None:
        return PluginFolders()

    def found(name: str) -> Path | None:
        path = base / name
        return path if path.is_dir() else None

    return PluginFolders(found("templates"), found("static"), found("locale"))


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """Top-level package -> distributions. Reading every installed distribution's
    metadata takes about a second: once per process, not once per plugin and manager
    (it was most of a ``promtour`` command's start-up and of every test's platform)."""
    return importlib.metadata.packages_distributions()


def _version_of(plugin: object) -> str:
    """The version of the distribution that installed the plugin's top-level package."""
    top = (getattr(_module_of(plugin), "__name__", "") or "").split(".")[0]
    # Most distributions are named as their package (promtour, promtour-occupancy).
    try:
        return importlib.metadata.version(top)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        pass
    for dist in _distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "0.0.0"


def _call_with_own_args(function: Any, argnames: tuple[str, ...], **kwargs: Any) -> Any:
    return function(**{name: kwargs[name] for name in argnames})


class PluginManager:
    """Loads, checks and calls the plugins of one platform instance."""

    def __init__(
        self,
        *,
        load_entrypoints: bool = True,
        disabled: Iterable[str] = (),
        plugins: Iterable[tuple[str, object]] = (),
    ) -> None:
        self.pm = pluggy.PluginManager("promtour")
        self.pm.add_hookspecs(hookspecs)
        for name in disabled:
            self.pm.set_blocked(name)
        if load_entrypoints:
            try:
                self.pm.load_setuptools_entrypoints("promtour")
            except pluggy.PluginValidationError as exc:
                raise self._invalid(exc) from None
        for name, plugin in plugins:
            # An explicit plugin replaces the installed one of the same name (or the same
            # object under another name): a test of a pip-installed plugin registers it
            # again, and pluggy would refuse ("Plugin name already registered").
            if self.pm.has_plugin(name):
                self.pm.unregister(name=name)
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._register(plugin, name)
        self.infos: dict[str, PluginInfo] = {}
        self.folders: dict[str, PluginFolders] = {}
        self._subsets: dict[tuple[str, frozenset[str]], Any] = {}
        self._check()

    def _register(self, plugin: object, name: str) -> None:
        # pluggy checks a known hook's arguments here (a misspelled argument name).
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise self._invalid(exc, name) from None

    def _invalid(self, exc: pluggy.PluginValidationError, name: str | None = None) -> PromtourError:
        """A start-up error that names the plugin (by its registered name, not its repr)
        and, for an unknown hook, the hook that was probably meant."""
        name = name or self.pm.get_name(exc.plugin) or repr(exc.plugin)
        message = str(exc).replace(repr(exc.plugin), repr(name))
        unknown = re.search(r"unknown hook '(\w+)'", message)
        if unknown:
            close = difflib.get_close_matches(unknown.group(1), _hook_names(), n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        return PromtourError(f"plugin {name!r}: {message}")

    def _check(self) -> None:
        # A misspelled hook implementation fails here, at start, not silently never.
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise self._invalid(exc) from None
        for impl in self.pm.hook.promtour_plugin_info.get_hookimpls():
            info = impl.function()
            if not isinstance(info, PluginInfo):
                raise PromtourError(
                    f"plugin {impl.plugin_name!r}: promtour_plugin_info returned "
                    f"{type(info).__name__}, not a PluginInfo"
                )
            if info.name != impl.plugin_name:
                raise PromtourError(
                    f"plugin registered as {impl.plugin_name!r} calls itself {info.name!r}"
                )
            if not SLUG_RE.match(info.name):
                raise PromtourError(f"plugin name {info.name!r} is not a valid id")
            if not info.version:
                info.version = _version_of(impl.plugin)
            try:
                tags = info.handled_tags()
            except TypeError as exc:
                raise PromtourError(f"plugin {info.name!r}: handles: {exc}") from None
            for tag in tags:
                if not EVENT_TAG_RE.match(tag):
                    raise PromtourError(
                        f"plugin {info.name!r}: handles: {tag!r} is not an event type's tag"
                    )
            self.infos[info.name] = info
            self.folders[info.name] = _folders(impl.plugin)
        for name in self.names:
            if name not in self.infos:
                raise PromtourError(f"plugin {name!r} does not implement promtour_plugin_info")
        self._subsets.clear()

    def register(self, plugin: object, name: str) -> None:
        """Register one more plugin (used by tests to add a plugin to a fresh instance)."""
        self._register(plugin, name)
        self._check()

    @property
    def names(self) -> list[str]:
        return sorted(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        return sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])

    def event_types(self) -> list[type[Event]]:
        return [t for info in self.infos.values() for t in info.events]

    def routes(self) -> dict[str, list[Any]]:
        return {name: list(info.routes) for name, info in self.infos.items() if info.routes}

    def roles(self) -> list[RoleSpec]:
        return [role for info in self.infos.values() for role in info.roles]

    def for_tour(self, hook_name: str, enabled: Iterable[str]) -> list[Any]:
        """The implementations of ``hook_name`` by the plugins in ``enabled``, in pluggy's
        order (cached per set of plugins). Chosen by plugin name: pluggy's
        ``subset_hook_caller`` would keep a plugin whose implementation is registered
        under a name of its own (``@hookimpl(specname=...)``, imported into the module)."""
        enabled_set = frozenset(enabled)
        key = (hook_name, enabled_set)
        impls = self._subsets.get(key)
        if impls is None:
            hook = getattr(self.pm.hook, hook_name)
            impls = [i for i in hook.get_hookimpls() if i.plugin_name in enabled_set]
            self._subsets[key] = impls
        return impls

    def impl_of(self, hook_name: str, plugin: str) -> Any | None:
        """One plugin's implementation of a hook, to call with keyword arguments. As in
        a pluggy hook call, it gets only the arguments it declares (pluggy's rule: a
        plugin's ``validate_config(tour, config)`` may leave out ``media``)."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name == plugin:
                return functools.partial(_call_with_own_args, impl.function, impl.argnames)
        return None

    async def call_each(
        self,
        hook_name: str,
        enabled: Iterable[str],
        *,
        timeout: float,
        kwargs_for: Callable[[str], dict[str, Any]],
    ) -> list[HookOutcome]:
        """Call each enabled implementation alone, concurrently, each with a time limit
        and its own try/except: one plugin's failure is only its own outcome.

        ``kwargs_for(plugin)`` gives the arguments of that plugin's call. A sync hook
        cannot be interrupted: slow work belongs in an ``async def`` hook."""
        impls = list(reversed(self.for_tour(hook_name, enabled)))

        def failed(plugin: str, exc: Exception) -> HookOutcome:
            if isinstance(exc, TimeoutError):
                log.error("plugin %s: %s took more than %.1fs", plugin, hook_name, timeout)
                return HookOutcome(plugin, error="timed out")
            log.error("plugin %s: %s failed", plugin, hook_name, exc_info=exc)
            return HookOutcome(plugin, error=f"{type(exc).__name__}: {exc}")

        async def finish(plugin: str, pending: Any) -> HookOutcome:
            try:
                # asyncio.timeout, not wait_for: no extra task per plugin per page.
                async with asyncio.timeout(timeout):
                    result = await pending
                return HookOutcome(plugin, result)
            except Exception as exc:
                return failed(plugin, exc)

        def start(impl: Any) -> Any:
            # A sync hook's result is final here; an async one is awaited below, all of
            # them concurrently. (Hooks run on every page: no task when none is needed.)
            try:
                kwargs = kwargs_for(impl.plugin_name)
                result = _call_with_own_args(impl.function, impl.argnames, **kwargs)
            except Exception as exc:
                return failed(impl.plugin_name, exc)
            if inspect.isawaitable(result):
                return finish(impl.plugin_name, result)
            return HookOutcome(impl.plugin_name, result)

        started = [start(impl) for impl in impls]
        pending = [s for s in started if not isinstance(s, HookOutcome)]
        if not pending:
            return started
        done = iter([await pending[0]] if len(pending) == 1 else await asyncio.gather(*pending))
        return [s if isinstance(s, HookOutcome) else next(done) for s in started]

    def convert_config(self, plugin: str, raw: dict[str, Any]) -> Any:
        """Convert a raw ``[plugins.<name>]`` table into the plugin's config Struct.

        Raises :class:`ConfigError` naming the plugin and the key."""
        info = self.infos.get(plugin)
        if info is None:
            known = ", ".join(self.names) or "none"
            raise ConfigError(plugin, f"no such plugin is installed (installed: {known})")
        try:
            return msgspec.convert(raw, info.config, str_keys=True)
        except msgspec.ValidationError as exc:
            raise ConfigError(plugin, str(exc)) from None

    def validate_tour(self, tour: Tour, media: frozenset[str]) -> dict[str, Any]:
        """Convert and check every enabled plugin's config; return them by plugin.

        Raises :class:`ConfigError` for the first plugin whose config is wrong."""
        configs: dict[str, Any] = {}
        for plugin, raw in tour.plugins.items():
            config = self.convert_config(plugin, raw)
            check = self.impl_of("promtour_validate_config", plugin)
            if check is not None:
                found: Sequence[object] = check(tour=tour, config=config, media=media) or ()
                # A note (Problem(blocking=False)) does not refuse the config; the media
                # check still counts it (a file it needs is "in use").
                errors = [e for e in found if getattr(e, "blocking", True)]
                if errors:
                    # A plugin returns strings or Problems; str() is the English text.
                    raise ConfigError(plugin, "; ".join(map(str, errors)), errors)
            configs[plugin] = config
        return configs
