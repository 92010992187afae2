"""Media: one check for every way into the store (API, console, CLI tour import) and
safe serving (issue 10, defect 2 and the media half of 8)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import quote

import httpx
import nats.js.errors
import pytest
from promtour._bus import Bus
from promtour._cli import main
from promtour._media import MediaError, clean_name
from promtour.testing import unique
from test_console_api import editor_client

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64
VTT = "WEBVTT\n\n00:00.000 --> 00:01.000\nПривет\n".encode()
#: Starts like a PNG, is an HTML page after the magic bytes.
PNG_HTML = b"\x89PNG\r\n\x1a\n<html><body><script>alert(document.cookie)</script></body></html>"
PAGE = b"<!doctype html><script>fetch('/console')</script>"

TOUR_TOML = """\
id = "{tour}"
enterprise = "{enterprise}"
name = {{ en = "A tour" }}
languages = ["en"]
default_language = "en"
media = {media}

[[stations]]
id = "gate"
number = 1
name = {{ en = "Gate" }}
"""


def test_name_rules_allow_any_script_and_refuse_paths():
    assert clean_name("Пресс-цех.mp3") == "Пресс-цех.mp3"
    assert clean_name("audio/Сварка_1.ru.mp3") == "audio/Сварка_1.ru.mp3"
    # macOS file systems hand out decomposed names: stored composed, as typed.
    assert clean_name("й.mp3".replace("й", "и\u0306")) == "й.mp3"
    for bad in (
        "../x.mp3",
        "a/../../x.mp3",
        "/etc/passwd.mp3",
        "C:\\x.mp3",
        "a\\b.mp3",
        "a\x00.mp3",
        "a\nb.mp3",
        "x\u202egpj.mp3",
        "./x.mp3",
        "a b.mp3",
        "",
    ):
        with pytest.raises(MediaError):
            clean_name(bad)


async def test_unicode_upload_is_served_with_allowed_type_nosniff_and_ranges(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    server = serve_app()
    async with await editor_client(setup, server, tour.enterprise) as api:
        path = f"/tours/{tour.id}/media"
        ok = await api.post(path, files={"file": ("Пресс-цех.mp3", MP3, "audio/mpeg")})
        assert ok.status_code == 201, ok.text
        assert ok.json()["name"] == "Пресс-цех.mp3"
        # An image that is an HTML page after its magic bytes: accepted as a PNG (the
        # bytes start like one), and a browser must never render it as HTML.
        poly = await api.post(path, files={"file": ("poster.png", PNG_HTML, "image/png")})
        assert poly.status_code == 201, poly.text
        page = await api.post(path, files={"file": ("notes.txt", PAGE, "text/plain")})
        assert page.status_code == 400 and "not a .txt file" in page.json()["detail"]
        vtt = await api.post(path, files={"file": ("Пресс-цех.vtt", VTT, "text/vtt")})
        assert vtt.status_code == 201, vtt.text

    base = f"/media/{tour.enterprise}/{tour.id}/"
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        audio = await visitor.get(base + quote("Пресс-цех.mp3"))
        assert audio.status_code == 200 and audio.content == MP3
        assert audio.headers["content-type"] == "audio/mpeg"
        assert audio.headers["x-content-type-options"] == "nosniff"
        part = await visitor.get(base + quote("Пресс-цех.mp3"), headers={"Range": "bytes=3-9"})
        assert part.status_code == 206 and part.content == MP3[3:10]
        assert part.headers["content-range"] == f"bytes 3-9/{len(MP3)}"
        assert part.headers["x-content-type-options"] == "nosniff"

        image = await visitor.get(base + "poster.png")
        assert image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in image.headers["content-security-policy"]

        text = await visitor.get(base + quote("Пресс-цех.vtt"))
        assert text.headers["content-type"].startswith("text/vtt")
        assert text.headers["x-content-type-options"] == "nosniff"

    # Files that got into the store another way (before these checks, or by hand):
    # never served as a page, whatever the name says.
    await setup.bus.media.put(f"{tour.enterprise}/{tour.id}/evil.html", PAGE)
    await setup.bus.media.put(f"{tour.enterprise}/{tour.id}/fake.mp3", PAGE)
    await setup.bus.media.put(f"{tour.enterprise}/{tour.id}/logo.svg", b"<svg onload='x()'/>")
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        for name in ("evil.html", "fake.mp3", "logo.svg"):
            served = await visitor.get(base + name)
            assert served.status_code == 200, name
            assert served.headers["content-type"] == "application/octet-stream", name
            assert served.headers["content-disposition"].startswith("attachment"), name
            assert served.headers["x-content-type-options"] == "nosniff", name


# --- promtour tours import ------------------------------------------------------------


def _stored(nats_url: str, prefix: str) -> list[str]:
    async def names() -> list[str]:
        bus = Bus(nats_url)
        await bus.connect(name="promtour-test")
        try:
            infos = await bus.media.list(ignore_deletes=True)
        except nats.js.errors.NotFoundError:
            return []
        finally:
            await bus.close()
        return sorted(i.name[len(prefix) :] for i in infos if i.name.startswith(prefix))

    return asyncio.run(names())


@pytest.fixture
def tour_dir(tmp_path, nats_url, capsys):
    """A folder with a tour file (media = "media") for a new enterprise; returns
    ``(folder, write(media_value), prefix)``."""
    enterprise, tour = unique("ent"), unique("tour")
    assert (
        main(
            [
                "enterprise",
                "create",
                enterprise,
                "--name-ru",
                "Завод",
                "--name-en",
                "Works",
                "--nats",
                nats_url,
            ]
        )
        == 0
    )
    capsys.readouterr()
    folder = tmp_path / "tour"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "Пресс-цех.mp3").write_bytes(MP3)

    def write(media: str) -> Path:
        path = folder / "tour.toml"
        text = TOUR_TOML.format(tour=tour, enterprise=enterprise, media=media)
        path.write_text(text, encoding="utf-8")
        return path

    return folder, write, f"{enterprise}/{tour}/"


def _import_fails(path: Path, nats_url: str, capsys, named: str) -> str:
    code = main(["tours", "import", str(path), "--nats", nats_url])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("promtour: error:")]
    assert code == 2, err
    assert len(lines) == 1 and named in lines[0], err
    assert "Traceback" not in err
    return lines[0]


def test_cli_import_refuses_pages_and_uploads_nothing(tour_dir, nats_url, capsys):
    folder, write, prefix = tour_dir
    (folder / "media" / "steal.html").write_bytes(PAGE)
    path = write('"media"')
    line = _import_fails(path, nats_url, capsys, "steal.html")
    assert "not accepted" in line
    assert _stored(nats_url, prefix) == []  # not even the good file

    (folder / "media" / "steal.html").unlink()
    (folder / "media" / "logo.svg").write_bytes(b"<svg onload='x()'/>")
    _import_fails(path, nats_url, capsys, "logo.svg")
    (folder / "media" / "logo.svg").unlink()
    (folder / "media" / "intro.mp3").write_bytes(PAGE)  # a page named .mp3
    _import_fails(path, nats_url, capsys, "intro.mp3")
    (folder / "media" / "intro.mp3").unlink()
    assert _stored(nats_url, prefix) == []

    # The clean folder imports, Cyrillic name and all.
    assert main(["tours", "import", str(path), "--nats", nats_url]) == 0, capsys.readouterr()
    assert _stored(nats_url, prefix) == ["Пресс-цех.mp3"]


def test_cli_import_confines_media_to_the_tour_folder(tour_dir, tmp_path, nats_url, capsys):
    folder, write, prefix = tour_dir
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "key.mp3").write_bytes(MP3)

    _import_fails(write(f'"{outside}"'), nats_url, capsys, str(outside))
    _import_fails(write('"../secrets"'), nats_url, capsys, "'..'")
    os.symlink(outside, folder / "linked")
    _import_fails(write('"linked"'), nats_url, capsys, "linked")
    os.symlink(outside / "key.mp3", folder / "media" / "key.mp3")
    line = _import_fails(write('"media"'), nats_url, capsys, "key.mp3")
    assert "symbolic link" in line
    (folder / "media" / "key.mp3").unlink()
    os.symlink(outside, folder / "media" / "sub")
    _import_fails(write('"media"'), nats_url, capsys, "sub")
    assert _stored(nats_url, prefix) == []

    # An absolute path inside the tour's folder is fine.
    (folder / "media" / "sub").unlink()
    assert main(["tours", "import", str(write(f'"{folder / "media"}"')), "--nats", nats_url]) == 0
    assert _stored(nats_url, prefix) == ["Пресс-цех.mp3"]
