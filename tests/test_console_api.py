"""The enterprise JSON API: tours, stations, plugin config, media, TOML, key rotation,
tokens; and the ``promtour enterprise`` commands."""

from __future__ import annotations

import io
import tomllib

import httpx
import pytest
from PIL import Image
from promtour._auth import create_token, list_tokens
from promtour._cli import main
from promtour.testing import unique

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


async def editor_client(setup, server, enterprise: str, role: str = "editor") -> httpx.AsyncClient:
    _, secret = await create_token(setup.bus, enterprise, role, f"{role} for tests")
    return httpx.AsyncClient(
        base_url=f"{server.url}/api/v1/enterprises/{enterprise}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )


async def test_tour_crud_stations_and_languages(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    seed = await new_tour(setup, stations=1)
    server = serve_app()
    async with await editor_client(setup, server, seed.enterprise) as api:
        created = await api.post(
            "/tours",
            json={
                "id": "walk",
                "name": {"ru": "Прогулка", "en": "Walk"},
                "stations": [
                    {"id": "gate", "number": 1, "name": {"ru": "Проходная", "en": "Gate"}},
                    {"id": "press", "number": 2, "name": {"ru": "Пресс", "en": "Press"}},
                    {"id": "qc", "number": 3, "name": {"ru": "ОТК", "en": "QC"}},
                ],
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["key_id"]
        again = await api.post("/tours", json={"id": "walk", "name": {"en": "Walk"}})
        assert again.status_code == 409

        listed = (await api.get("/tours")).json()
        assert {t["id"] for t in listed} == {seed.id, "walk"}

        order = await api.put("/tours/walk/stations/order", json={"order": ["qc", "gate", "press"]})
        assert [s["id"] for s in order.json()["stations"]] == ["qc", "gate", "press"]
        # Numbers stay with their stations (they are printed on the posters).
        assert [s["number"] for s in order.json()["stations"]] == [3, 1, 2]
        bad_order = await api.put("/tours/walk/stations/order", json={"order": ["qc", "gate"]})
        assert bad_order.status_code == 400 and "every station" in bad_order.json()["detail"]

        off = await api.put("/tours/walk/stations/press/enabled", json={"enabled": False})
        assert [s["enabled"] for s in off.json()["stations"]] == [True, True, False]

        added = await api.post(
            "/tours/walk/stations", json={"id": "paint", "number": 4, "name": {"en": "Paint"}}
        )
        assert added.status_code == 201
        duplicate_number = await api.post(
            "/tours/walk/stations", json={"id": "weld", "number": 4, "name": {"en": "Weld"}}
        )
        assert duplicate_number.status_code == 400
        assert "number 4 appears twice" in duplicate_number.json()["detail"]

        changed = await api.put(
            "/tours/walk/stations/paint",
            json={"number": 5, "name": {"ru": "Покраска", "en": "Paint shop"}},
        )
        assert changed.json()["stations"][-1]["name"]["en"] == "Paint shop"
        assert (await api.delete("/tours/walk/stations/paint")).status_code == 204

        langs = await api.put(
            "/tours/walk/languages", json={"languages": ["en", "ru"], "default_language": "en"}
        )
        assert langs.json()["default_language"] == "en"
        bad_lang = await api.put(
            "/tours/walk/languages", json={"languages": ["ru"], "default_language": "en"}
        )
        assert bad_lang.status_code == 400 and "default_language" in bad_lang.json()["detail"]

        assert (await api.delete("/tours/walk")).status_code == 204
        assert (await api.get("/tours/walk")).status_code == 404


async def test_plugin_config_is_validated_and_nothing_half_saved(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=2)
    server = serve_app()
    async with await editor_client(setup, server, tour.enterprise) as api:
        plugins = (await api.get("/plugins")).json()
        quests = next(p for p in plugins if p["name"] == "quests")
        assert quests["config_schema"]["$defs"]  # msgspec.json.schema of the config Struct
        assert "order" in str(quests["config_schema"])

        bad = await api.put(f"/tours/{tour.id}/plugins/quests", json={"order": 5})
        assert bad.status_code == 400
        assert "quests" in bad.json()["detail"] and "$.order" in bad.json()["detail"]
        assert (await api.get(f"/tours/{tour.id}")).json()["plugins"] == {}

        good = await api.put(f"/tours/{tour.id}/plugins/quests", json={})
        assert good.status_code == 200
        assert good.json()["config"]["order"] in ("free", "fixed")
        enabled = (await api.get(f"/tours/{tour.id}/plugins")).json()
        assert [p["plugin"] for p in enabled] == ["quests"]

        # A bad value in a full update leaves the stored tour as it was.
        full = (await api.get(f"/tours/{tour.id}")).json()
        update = {k: full[k] for k in ("name", "description", "languages", "stations")}
        update["name"] = {"en": "Renamed"}
        update["plugins"] = {"quests": {"order": []}}
        refused = await api.put(f"/tours/{tour.id}", json=update)
        assert refused.status_code == 400 and "quests" in refused.json()["detail"]
        assert (await api.get(f"/tours/{tour.id}")).json()["name"] == tour.name

        missing = await api.put(f"/tours/{tour.id}/plugins/no_such_plugin", json={})
        assert missing.status_code == 404
        assert (await api.delete(f"/tours/{tour.id}/plugins/quests")).status_code == 204
        assert (await api.get(f"/tours/{tour.id}/plugins")).json() == []


async def test_media_upload_checks_and_where_used(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    server = serve_app()
    async with await editor_client(setup, server, tour.enterprise) as api:
        path = f"/tours/{tour.id}/media"
        ok = await api.post(path, files={"file": ("press.mp3", MP3, "audio/mpeg")})
        assert ok.status_code == 201, ok.text
        assert ok.json() == {
            "name": "press.mp3",
            "size": len(MP3),
            "content_type": "audio/mpeg",
            "used_in": [],
        }
        image = await api.post(
            path, files={"file": ("x.png", png_bytes(), "image/png")}, data={"name": "img/gate.png"}
        )
        assert image.status_code == 201 and image.json()["name"] == "img/gate.png"

        fake = await api.post(path, files={"file": ("evil.mp3", b"<html>hi</html>", "audio/mpeg")})
        assert fake.status_code == 400 and "not a .mp3 file" in fake.json()["detail"]
        exe = await api.post(path, files={"file": ("tool.exe", b"MZ\x90\x00", "x/y")})
        assert exe.status_code == 400 and "not accepted" in exe.json()["detail"]
        svg = await api.post(path, files={"file": ("a.svg", b"<svg/>", "image/svg+xml")})
        assert svg.status_code == 400
        big = await api.post(
            path, files={"file": ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (11 * 1024 * 1024))}
        )
        assert big.status_code == 400 and "at most 10 MB" in big.json()["detail"]
        sneaky = await api.post(path, files={"file": ("x.mp3", MP3)}, data={"name": "../x.mp3"})
        assert sneaky.status_code == 400

        # Served to visitors from the object store.
        async with httpx.AsyncClient(base_url=server.url) as visitor:
            served = await visitor.get(f"/media/{tour.enterprise}/{tour.id}/press.mp3")
            assert served.status_code == 200 and served.content == MP3

        # "Where used": a config that names the file; deleting it is then refused.
        listing = (await api.get(path)).json()
        assert [m["name"] for m in listing] == ["img/gate.png", "press.mp3"]

        from promtour._console.media import where_used
        from promtour._models import Tour

        probe = Tour(
            id=tour.id,
            enterprise=tour.enterprise,
            name={"en": "x"},
            plugins={"audio_guide": {"stations": {"s1": {"audio": "press.mp3"}}}},
        )
        assert where_used(probe, "press.mp3") == ["audio_guide.stations.s1.audio"]
        assert where_used(probe, "img/gate.png") == []

        assert (await api.delete(f"{path}/img/gate.png")).status_code == 204
        assert [m["name"] for m in (await api.get(path)).json()] == ["press.mp3"]
        assert (await api.delete(f"{path}/img/gate.png")).status_code == 400


async def test_export_import_round_trip(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=2, plugins={"quests": {"order": "free"}})
    server = serve_app()
    async with await editor_client(setup, server, tour.enterprise) as api:
        exported = await api.get(f"/tours/{tour.id}/export")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/toml")
        data = tomllib.loads(exported.text)
        assert data["id"] == tour.id and "keys" not in data
        assert [s["id"] for s in data["stations"]] == ["s1", "s2"]

        copy = exported.text.replace(f'id = "{tour.id}"', 'id = "copy"', 1)
        imported = await api.post("/tours/import", json={"toml": copy})
        assert imported.status_code == 201, imported.text
        assert (
            imported.json()["stations"] == (await api.get(f"/tours/{tour.id}")).json()["stations"]
        )
        assert "quests" in imported.json()["plugins"]
        # The same id again: 409 unless replacing.
        assert (await api.post("/tours/import", json={"toml": copy})).status_code == 409
        renamed = copy.replace('en = "Test tour"', 'en = "Copied tour"')
        replaced = await api.post("/tours/import", json={"toml": renamed, "replace": True})
        assert replaced.status_code == 201 and replaced.json()["name"]["en"] == "Copied tour"

        other = copy.replace(f'enterprise = "{tour.enterprise}"', 'enterprise = "someone-else"')
        refused = await api.post("/tours/import", json={"toml": other, "replace": True})
        assert refused.status_code == 400 and "someone-else" in refused.json()["detail"]
        broken = await api.post("/tours/import", json={"toml": "id = ["})
        assert broken.status_code == 400 and "TOML" in broken.json()["detail"]


async def test_tokens_api_is_admin_only(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    server = serve_app()
    async with await editor_client(setup, server, tour.enterprise, "admin") as admin:
        created = await admin.post("/tokens", json={"role": "guide", "label": "Guide Anna"})
        assert created.status_code == 201
        secret = created.json()["token"]
        listed = (await admin.get("/tokens")).json()
        assert "Guide Anna" in [t["label"] for t in listed]
        assert secret not in str(listed)  # labels, never secrets
        async with httpx.AsyncClient(
            base_url=admin.base_url, headers={"Authorization": f"Bearer {secret}"}
        ) as guide:
            assert (await guide.get("/tours")).status_code == 200  # reading is fine
            assert (await guide.get("/tokens")).status_code == 403
            refused = await guide.post("/tours", json={"id": "x", "name": {"en": "X"}})
            assert refused.status_code == 403 and "guide" in refused.json()["detail"]
            rotated = await admin.post(f"/tokens/{created.json()['id']}/rotate")
            assert rotated.status_code == 201 and rotated.json()["label"] == "Guide Anna"
            assert (await guide.get("/tours")).status_code == 401  # the old secret is dead
            new = {"Authorization": f"Bearer {rotated.json()['token']}"}
            assert (await guide.get("/tours", headers=new)).status_code == 200
            assert (await admin.delete(f"/tokens/{rotated.json()['id']}")).status_code == 204
            assert (await guide.get("/tours", headers=new)).status_code == 401


def test_cli_enterprise_create_and_tokens(nats_url, capsys):
    def cli(*args: str) -> int:
        return main([*args, "--nats", nats_url])

    ent = unique("cli")
    assert cli("enterprise", "create", ent, "--name-ru", "Завод", "--name-en", "Works") == 0
    out = capsys.readouterr().out
    secret = next(line for line in out.splitlines() if line.startswith("pt_"))
    assert f"created enterprise {ent}" in out and "/console/login" in out

    # Creating it again is refused; the first token is untouched.
    assert cli("enterprise", "create", ent, "--name-ru", "a", "--name-en", "b") == 2
    assert "already exists" in capsys.readouterr().err

    assert cli("enterprise", "tokens", "create", ent, "--role", "editor", "--label", "Olga") == 0
    editor_secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert editor_secret.startswith("pt_")

    assert cli("enterprise", "tokens", "list", ent) == 0
    listing = capsys.readouterr().out
    assert "Olga" in listing and "first admin" in listing and "editor" in listing
    assert secret not in listing and editor_secret not in listing

    # Rotation: a new secret, same role and label; the old id is gone.
    assert cli("enterprise", "tokens", "rotate", ent, editor_secret.split("_")[1]) == 0
    rotated = capsys.readouterr().out
    assert f"replaces {editor_secret.split('_')[1]}" in rotated
    editor_secret = rotated.strip().splitlines()[-1]
    assert cli("enterprise", "tokens", "list", ent) == 0
    listing = capsys.readouterr().out
    assert listing.count("Olga") == 1 and editor_secret.split("_")[1] in listing

    editor_id = editor_secret.split("_")[1]
    assert cli("enterprise", "tokens", "revoke", ent, editor_id) == 0
    assert f"revoked {editor_id}" in capsys.readouterr().out
    assert cli("enterprise", "tokens", "revoke", ent, editor_id) == 2
    capsys.readouterr()
    assert cli("enterprise", "list") == 0
    assert ent in capsys.readouterr().out


@pytest.mark.parametrize("bad_id", ["Bad Id", "login"])
def test_cli_refuses_bad_enterprise_ids(nats_url, capsys, bad_id):
    args = ["enterprise", "create", bad_id, "--name-ru", "a", "--name-en", "b"]
    code = main([*args, "--nats", nats_url])
    assert code == 2
    assert bad_id in capsys.readouterr().err


async def test_token_listing_never_holds_secrets(bus):
    ent = unique("ent")
    _, secret = await create_token(bus, ent, "hr", "HR desk")
    tokens = await list_tokens(bus, ent)
    assert [t.label for t in tokens] == ["HR desk"]
    assert secret not in repr(tokens)
