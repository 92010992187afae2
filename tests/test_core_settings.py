"""Settings: the example file loads, environment overrides apply, and every bad setting
is refused with a message that names the key (and where the bad value came from)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from promtour._errors import SettingsError
from promtour._settings import load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "promtour.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "promtour.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_settings_load():
    settings = load_settings(EXAMPLE, environ={})
    assert settings.default_language in settings.languages
    assert settings.web.port == 8000 and settings.nats.url == ""


def test_environment_overrides(tmp_path):
    path = write(tmp_path, "[web]\nport = 9000\n")
    settings = load_settings(
        path,
        environ={
            "PROMTOUR_WEB__PORT": "9100",
            "PROMTOUR_WEB__SECURE_COOKIES": "true",
            "PROMTOUR_LANGUAGES": '["en", "ru"]',
            "PROMTOUR_DEFAULT_LANGUAGE": "en",
            # A text setting keeps its text even when it looks like a number.
            "PROMTOUR_DATA_DIR": "2025",
            "PROMTOUR_NATS__URL": "nats://10.0.0.1:4222,nats://10.0.0.2:4222",
            "OTHER_VARIABLE": "ignored",
        },
    )
    assert settings.web.port == 9100
    assert settings.web.secure_cookies is True
    assert settings.languages == ["en", "ru"] and settings.default_language == "en"
    assert settings.data_dir == "2025"
    assert settings.nats.url.count("nats://") == 2


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("nonsense = 1\n", "nonsense", "unknown key"),
        ("[web]\nprot = 8000\n", "web.prot", "unknown key"),
        ("[web]\nport = 'abc'\n", "web.port", "Expected `int`, got `str`"),
        ("[web]\nport = 70000\n", "web.port", "<= 65535"),
        ("[web]\nworkers = 0\n", "web.workers", ">= 1"),
        ("plugin_timeout = -1\n", "plugin_timeout", "> 0"),
        ("languages = 'ru'\n", "languages", "Expected `array`"),
        ("default_language = 'de'\n", "default_language", "'de' is not in languages"),
        ("log_level = 'loud'\n", "log_level", "'loud' is not one of"),
        ("[nats]\nreplicas = 'three'\n", "nats.replicas", "Expected `int`"),
    ],
)
def test_bad_settings_file_names_the_key(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert str(path) in message
    assert f"bad setting {key}:" in message
    assert problem in message


def test_bad_environment_override_names_the_variable():
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"PROMTOUR_WEB__PORT": "abc"})
    message = str(caught.value)
    assert "PROMTOUR_WEB__PORT" in message and "web.port" in message
    assert "Expected `int`, got `str`" in message
    with pytest.raises(SettingsError, match=r"PROMTOUR_WEB__NOPE.*web\.nope: unknown key"):
        load_settings(environ={"PROMTOUR_WEB__NOPE": "1"})
    with pytest.raises(SettingsError, match="PROMTOUR_DEFAULT_LANGUAGE"):
        load_settings(environ={"PROMTOUR_DEFAULT_LANGUAGE": "de"})


def test_unreadable_settings_files(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "port = = 1\n"), environ={})


def test_serve_with_bad_settings_exits_2(tmp_path):
    bad = write(tmp_path, "[web]\nport = 'abc'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMTOUR_")}
    result = subprocess.run(
        [sys.executable, "-m", "promtour", "serve", "--settings", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2
    assert "bad setting web.port" in result.stderr
    assert "Traceback" not in result.stderr
    # A bad value in the environment is refused the same way.
    result = subprocess.run(
        [sys.executable, "-m", "promtour", "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**env, "PROMTOUR_WEB__PORT": "abc"},
    )
    assert result.returncode == 2
    assert "PROMTOUR_WEB__PORT" in result.stderr and "Traceback" not in result.stderr
