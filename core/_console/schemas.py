"""The shapes of the enterprise JSON API: request and answer bodies (msgspec Structs).

Kept apart from the controllers (core/_console/api.py) so that a reader sees the API's
data at a glance and the console pages can share the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile
from promtour._models import SLUG, Station, Text

__all__ = [
    "EnterpriseUpdate",
    "KeyRotated",
    "MediaUpload",
    "PluginConfigOut",
    "PluginOut",
    "Poster",
    "StationEnabled",
    "StationOrder",
    "StationUpdate",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
    "TourCreate",
    "TourFields",
    "TourImport",
    "TourLanguages",
    "TourOut",
    "TourSummary",
]

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
TextIn = Annotated[dict[str, Annotated[str, msgspec.Meta(max_length=5000)]], msgspec.Meta()]


class EnterpriseUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: TextIn
    contact: Annotated[str, msgspec.Meta(max_length=200)] = ""


class TourFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: TextIn
    description: TextIn = msgspec.field(default_factory=dict)
    languages: Annotated[list[Lang], msgspec.Meta(min_length=1, max_length=12)] = msgspec.field(
        default_factory=lambda: ["ru", "en"]
    )
    default_language: Lang = "ru"
    stations: Annotated[list[Station], msgspec.Meta(max_length=500)] = msgspec.field(
        default_factory=list
    )
    #: Enabled plugins and their config tables, as in the TOML ``[plugins.<name>]``.
    plugins: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)


class TourCreate(TourFields, kw_only=True, forbid_unknown_fields=True):
    id: Slug


class TourSummary(msgspec.Struct, kw_only=True):
    id: str
    name: Text
    stations: int
    enabled_stations: int
    plugins: list[str]
    languages: list[str]


class TourOut(msgspec.Struct, kw_only=True):
    id: str
    enterprise: str
    name: Text
    description: Text
    languages: list[str]
    default_language: str
    stations: list[Station]
    plugins: dict[str, dict[str, Any]]
    #: The id of the key that signs the QR codes now (changes on rotation).
    key_id: str
    revision: int


class StationUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    number: Annotated[int, msgspec.Meta(ge=1, le=9999)]
    name: TextIn
    description: TextIn = msgspec.field(default_factory=dict)
    enabled: bool = True


class StationOrder(msgspec.Struct, forbid_unknown_fields=True):
    order: Annotated[list[Slug], msgspec.Meta(max_length=500)]


class StationEnabled(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


class TourLanguages(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    languages: Annotated[list[Lang], msgspec.Meta(min_length=1, max_length=12)]
    default_language: Lang


class PluginOut(msgspec.Struct, kw_only=True):
    name: str
    version: str
    title: Text
    description: Text
    #: JSON schema of the per-tour config (``msgspec.json.schema`` of its Struct).
    config_schema: dict[str, Any]
    #: The config of a tour that enables the plugin with an empty table.
    default_config: dict[str, Any] | None


class PluginConfigOut(msgspec.Struct, kw_only=True):
    plugin: str
    #: The stored config with the plugin's defaults filled in.
    config: dict[str, Any]


class TourImport(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: The tour as TOML, in the form ``GET .../export`` gives (and ``config/`` uses).
    toml: Annotated[str, msgspec.Meta(min_length=1, max_length=200_000)]
    #: Replace a tour with the same id (else a 409 if it exists).
    replace: bool = False


class KeyRotated(msgspec.Struct, kw_only=True):
    key_id: str
    stations: int
    warning: str


class Poster(msgspec.Struct, kw_only=True):
    station: str
    number: int
    name: Text
    enabled: bool
    #: The URL the station's QR code holds (signed with the tour's current key).
    url: str


class TokenOut(msgspec.Struct, kw_only=True):
    id: str
    role: str
    label: str
    created: str


class TokenCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: admin, editor, or a role an installed plugin declares (guide, hr).
    role: Annotated[str, msgspec.Meta(pattern=SLUG)]
    label: Label


class TokenCreated(msgspec.Struct, kw_only=True):
    id: str
    role: str
    label: str
    #: The secret, shown this once; only its hash is stored.
    token: str


@dataclass
class MediaUpload:
    file: UploadFile
    #: Name to store it under (folders with "/"); default: the uploaded file's name.
    name: str | None = None
