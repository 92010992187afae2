"""``promtour audio render``: real espeak-ng and ffmpeg make playable MP3s with WebVTT
transcripts, from a script file or a tour file; a missing tool is named clearly."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from promtour._manager import PluginManager
from promtour._tours import load_tour_toml
from promtour.plugins import audio_guide
from promtour.plugins.audio_guide.vtt import parse_vtt

SCRIPT = """
out = "media/audio"
[[items]]
name = "press"
text.ru = "Перед вами пресс. Он штампует деталь за четыре секунды!"
text.en = "This is the press. It stamps a part in four seconds!"

[[items]]
name = "welding"
text.ru = "Здесь варят роботы."
text.en = "Robots weld here. Six of them."
"""

TOUR = """
id = "mini"
enterprise = "acme"
name = { en = "Mini" }
languages = ["en"]
default_language = "en"
media = "media"

[[stations]]
id = "press"
number = 1
name = { en = "Press" }

[plugins.audio_guide.intro]
id = "intro"
audio = { en = "audio/intro.en.mp3" }
script = { en = "Welcome. Follow the steel." }

[[plugins.audio_guide.stations]]
station = "press"
tracks = [{ id = "main", audio = { en = "sound/press-main.en.mp3" }, script = { en = "Bang." } }]
"""


def promtour(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "promtour", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def probe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_render_script_makes_playable_mp3_and_vtt(tmp_path):
    script = tmp_path / "script.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    result = promtour("audio", "render", str(script))
    assert result.returncode == 0, result.stderr
    # Progress: one line per file, then a summary.
    assert "[1/4] press.ru" in result.stdout and "[4/4] welding.en" in result.stdout
    assert "rendered 4 files" in result.stdout
    folder = tmp_path / "media" / "audio"
    for name, sentences in (("press.ru", 2), ("press.en", 2), ("welding.ru", 1), ("welding.en", 2)):
        info = probe(folder / f"{name}.mp3")
        stream = info["streams"][0]
        assert stream["codec_name"] == "mp3" and stream["channels"] == 1
        duration = float(info["format"]["duration"])
        cues = parse_vtt((folder / f"{name}.vtt").read_text(encoding="utf-8"))
        assert len(cues) == sentences
        assert cues[0].start == 0 and all(a.end <= b.start for a, b in pairwise(cues))
        # The transcript's timing matches the audio.
        assert 0.8 < duration and abs(duration - cues[-1].end) < 0.5, (name, duration, cues)
    assert "четыре секунды" in (folder / "press.ru.vtt").read_text(encoding="utf-8")
    # Loudness normalised: every file near the target (-18 LUFS), so stations match.
    for name in ("press.ru", "welding.en"):
        assert abs(loudness(folder / f"{name}.mp3") + 18) < 1.5, name


def loudness(path: Path) -> float:
    """Integrated loudness in LUFS, measured by ffmpeg's EBU R128 filter."""
    result = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", result.stderr)[-1])


def test_render_tour_file_writes_the_files_its_config_names(tmp_path):
    tour_file = tmp_path / "tour.toml"
    tour_file.write_text(TOUR, encoding="utf-8")
    (tmp_path / "media").mkdir()
    result = promtour("audio", "render", str(tour_file))
    assert result.returncode == 0, result.stderr
    assert "rendered 2 files" in result.stdout
    loaded = load_tour_toml(tour_file)
    assert {"audio/intro.en.mp3", "audio/intro.en.vtt", "sound/press-main.en.vtt"} <= set(
        loaded.media
    )
    # The rendered tour passes its own validation: every file and transcript is there.
    PluginManager(load_entrypoints=False, plugins=[("audio_guide", audio_guide)]).validate_tour(
        loaded.tour, frozenset(loaded.media)
    )


def test_render_names_the_missing_tool(tmp_path):
    script = tmp_path / "script.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    only_espeak = tmp_path / "bin"
    only_espeak.mkdir()
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng must be installed for these tests"
    (only_espeak / "espeak-ng").symlink_to(espeak)

    result = promtour("audio", "render", str(script), path=str(only_espeak))
    assert result.returncode == 2
    assert "ffmpeg was not found on PATH" in result.stderr
    assert "espeak-ng was not found" not in result.stderr
    assert "Traceback" not in result.stderr

    result = promtour("audio", "render", str(script), path=str(tmp_path / "empty"))
    assert result.returncode == 2
    assert "espeak-ng and ffmpeg missing" in result.stderr
    assert "apt-get install espeak-ng" in result.stderr
    assert not (tmp_path / "media").exists()  # nothing half-made
