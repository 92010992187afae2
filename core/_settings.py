"""Settings: a TOML file decoded into msgspec Structs, with ``PROMTOUR_*`` overrides.

Every key can be overridden from the environment: ``PROMTOUR_<KEY>`` for a top-level
key and ``PROMTOUR_<SECTION>__<KEY>`` for a nested one (``PROMTOUR_WEB__PORT=9000``).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec
from promtour._bus import (
    DEFAULT_EVENTS_MAX_AGE,
    DEFAULT_EVENTS_MAX_BYTES,
    DEFAULT_PROGRESS_TTL,
    DEFAULT_VISITOR_RECORD_TTL,
)
from promtour._errors import SettingsError

__all__ = ["DAY", "NatsSettings", "Settings", "WebSettings", "load_settings"]

ENV_PREFIX = "PROMTOUR_"
DAY = 86_400.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class NatsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: Empty means: start a private nats-server under ``data_dir``.
    url: str = ""
    #: Stream replicas; 3 on a clustered JetStream.
    replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    #: Seconds to wait for a JetStream publish ack.
    publish_timeout: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    #: Seconds to wait for the first connection before giving up with an error.
    connect_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    #: Path of a nats-server binary for the embedded mode; found automatically if empty.
    server_binary: str = ""
    #: Days an event stays in the events stream; 0 keeps events for ever.
    events_max_age_days: Annotated[float, msgspec.Meta(ge=0)] = DEFAULT_EVENTS_MAX_AGE / DAY
    #: Size cap of the events stream in bytes (the oldest events go first); 0: no cap.
    #: JetStream reserves this much of the server's storage when the stream is created.
    events_max_bytes: Annotated[int, msgspec.Meta(ge=0)] = DEFAULT_EVENTS_MAX_BYTES
    #: Days a visitor's progress record is kept after its last change; 0: for ever.
    progress_ttl_days: Annotated[float, msgspec.Meta(ge=0)] = DEFAULT_PROGRESS_TTL / DAY
    #: Days a plugin's record about one visitor (``ctx.visitor_ttl``) is kept after its
    #: last change; 0: for ever.
    visitor_record_ttl_days: Annotated[float, msgspec.Meta(ge=0)] = DEFAULT_VISITOR_RECORD_TTL / DAY
    #: Seconds between two sweeps of the expiry index: a personal record (career leads,
    #: booking contacts) is erased at most this long after its time-to-live.
    expiry_sweep_seconds: Annotated[float, msgspec.Meta(gt=0, le=1800)] = 60.0
    #: Credentials for a server that requires them (the embedded one brings its own).
    user: str = ""
    password: str = ""
    token: str = ""
    #: A ``.creds`` file (JWT and NKey seed) for servers with decentralized auth.
    creds: str = ""
    #: JetStream ``sync_interval`` of the embedded server: ``always`` fsyncs each acked
    #: message before the ack; ``default`` is nats-server's own (every 2 minutes).
    embedded_sync: Annotated[str, msgspec.Meta(pattern=r"^(always|default|[0-9]+(ms|s|m|h))$")] = (
        "always"
    )


class WebSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1)] = 1
    #: Base URL printed on QR codes; defaults to http://host:port.
    public_url: str = ""
    allowed_hosts: list[str] = msgspec.field(default_factory=lambda: ["*"])
    #: Send cookies with the Secure flag (on behind HTTPS).
    secure_cookies: bool = False
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1_048_576
    #: Scans per visitor per minute before a 429.
    scan_rate_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 120
    #: Scans per client address per minute (a school class shares one address).
    scan_rate_per_address: Annotated[int, msgspec.Meta(ge=1)] = 1200
    #: Addresses or networks of reverse proxies whose ``X-Forwarded-For`` is believed
    #: (e.g. ``["127.0.0.1"]`` behind a local nginx); empty: the socket peer counts.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    access_log: bool = False
    #: Gzip HTML pages for clients that accept it (a phone on a slow network paints
    #: sooner); off behind a proxy that compresses (nginx ``gzip on``) to save the CPU.
    compress_pages: bool = True
    #: Hours after which a check-in or answer queued on a phone without signal is no
    #: longer accepted when it is replayed (the tour day); idempotency records of
    #: replayed actions are kept one hour longer.
    offline_replay_hours: Annotated[float, msgspec.Meta(gt=0, le=168)] = 24.0
    #: The base name of the lock files by which the processes of this machine split the
    #: plugins' event consumers (``consumers.lock``: ``consumers.<plugin>.lock``, …):
    #: each runs in the process holding its lock, another takes over when it ends.
    #: ``promtour serve --workers N`` (N > 1) sets it in the data folder. Empty: every
    #: process runs them all.
    consumer_lock: str = ""


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "./promtour-data"
    #: Signs visitor cookies and CSRF tokens; generated and kept in NATS if empty.
    secret_key: str = ""
    default_language: str = "ru"
    languages: list[str] = msgspec.field(default_factory=lambda: ["ru", "en"])
    #: Seconds a plugin hook may take before its panel is replaced by a notice.
    plugin_timeout: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    #: Entry-point plugins to skip (by name).
    disabled_plugins: list[str] = msgspec.field(default_factory=list)
    log_level: str = "INFO"
    nats: NatsSettings = msgspec.field(default_factory=NatsSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)

    @property
    def public_url(self) -> str:
        return (self.web.public_url or f"http://{self.web.host}:{self.web.port}").rstrip("/")


def _env_overrides(environ: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides from ``PROMTOUR_*`` variables, and which variable set which key."""
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "PROMTOUR_SETTINGS":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SettingsError(f"environment: {name}: {'.'.join(path[:-1])} is not a section")
            node = child
        node[path[-1]] = _parse_env_value(value, _field_type(path))
        names[".".join(path)] = name
    return out, names


def _field_type(path: list[str]) -> Any:
    """The declared type of the setting at ``path`` (None if there is no such setting)."""
    cls: Any = Settings
    for part in path:
        if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
            return None
        fields = {f.name: f.type for f in msgspec.structs.fields(cls)}
        if part not in fields:
            return None
        cls = fields[part]
    return cls


def _parse_env_value(value: str, declared: Any = None) -> Any:
    """Accept TOML literals (numbers, booleans, arrays), else take the raw string; a
    text setting always takes the raw string (a data folder may be called ``2025``)."""
    if declared is str:
        return value
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _describe(exc: msgspec.ValidationError) -> tuple[str, str]:
    """``(key, problem)`` from a msgspec error: ``("web.port", "Expected `int`, ...")``."""
    match = re.fullmatch(r"(.*?)(?: - at `\$\.?(.*)`)?", str(exc), re.S)
    problem, where = (match.group(1), match.group(2) or "") if match else (str(exc), "")
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", problem)
    if unknown:
        return (f"{where}.{unknown.group(1)}" if where else unknown.group(1)), "unknown key"
    return where, problem


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _blame(key: str, env_names: dict[str, str], source: str) -> str:
    """The environment variable that set ``key`` (or a key under it), else the file."""
    base = key.split("[")[0]
    for name, variable in env_names.items():
        if name == base or name.startswith(base + "."):
            return f"environment variable {variable}"
    return source


def load_settings(
    path: str | Path | None = None,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read settings from ``path`` (or ``$PROMTOUR_SETTINGS``), then the environment.

    Raises :class:`SettingsError` naming the file and the key that is wrong.
    """
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("PROMTOUR_SETTINGS") or None
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    from_env, env_names = _env_overrides(environ)
    raw = _merge(_merge(raw, from_env), overrides)
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        key, problem = _describe(exc)
        where = _blame(key, env_names, source)
        raise SettingsError(f"{where}: bad setting {key or '(top level)'}: {problem}") from None
    if settings.default_language not in settings.languages:
        where = _blame("default_language", env_names, source)
        raise SettingsError(
            f"{where}: bad setting default_language: {settings.default_language!r} "
            f"is not in languages {settings.languages}"
        )
    if settings.log_level.upper() not in LOG_LEVELS:
        where = _blame("log_level", env_names, source)
        raise SettingsError(
            f"{where}: bad setting log_level: {settings.log_level!r} is not one of "
            f"{', '.join(LOG_LEVELS)}"
        )
    settings.log_level = settings.log_level.upper()
    return settings
