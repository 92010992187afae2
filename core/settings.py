"""Settings: a TOML file decoded into msgspec Structs, with ``PROMTOUR_*`` overrides.

Every key can be overridden from the environment: ``PROMTOUR_<KEY>`` for a top-level
key and ``PROMTOUR_<SECTION>__<KEY>`` for a nested one (``PROMTOUR_WEB__PORT=9000``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import msgspec
from promtour.errors import SettingsError

__all__ = ["NatsSettings", "Settings", "WebSettings", "load_settings"]

ENV_PREFIX = "PROMTOUR_"


class NatsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: Empty means: start a private nats-server under ``data_dir``.
    url: str = ""
    #: Stream replicas; 3 on a clustered JetStream.
    replicas: int = 1
    #: Seconds to wait for a JetStream publish ack.
    publish_timeout: float = 2.0
    #: Path of a nats-server binary for the embedded mode; found automatically if empty.
    server_binary: str = ""


class WebSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Base URL printed on QR codes; defaults to http://host:port.
    public_url: str = ""
    allowed_hosts: list[str] = msgspec.field(default_factory=lambda: ["*"])
    #: Send cookies with the Secure flag (on behind HTTPS).
    secure_cookies: bool = False
    max_body_bytes: int = 1_048_576
    #: Scans per visitor per minute before a 429.
    scan_rate_per_minute: int = 120
    access_log: bool = False


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "./promtour-data"
    #: Signs visitor cookies and CSRF tokens; generated and kept in NATS if empty.
    secret_key: str = ""
    default_language: str = "ru"
    languages: list[str] = msgspec.field(default_factory=lambda: ["ru", "en"])
    #: Seconds a plugin hook may take before its panel is replaced by a notice.
    plugin_timeout: float = 2.0
    #: Entry-point plugins to skip (by name).
    disabled_plugins: list[str] = msgspec.field(default_factory=list)
    log_level: str = "INFO"
    nats: NatsSettings = msgspec.field(default_factory=NatsSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)

    @property
    def public_url(self) -> str:
        return (self.web.public_url or f"http://{self.web.host}:{self.web.port}").rstrip("/")


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "PROMTOUR_SETTINGS":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(value)
    return out


def _parse_env_value(value: str) -> Any:
    """Accept TOML literals (numbers, booleans, arrays), else take the raw string."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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
    raw = _merge(_merge(raw, _env_overrides(environ)), overrides)
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"{source}: bad setting: {exc}") from None
    if settings.default_language not in settings.languages:
        raise SettingsError(
            f"{source}: bad setting: default_language {settings.default_language!r} "
            f"is not in languages {settings.languages}"
        )
    if settings.web.workers < 1:
        raise SettingsError(f"{source}: bad setting: web.workers must be at least 1")
    return settings
