"""What a plugin says about its config fields so the console can build a form from them.

A plugin annotates a field of its config Struct with :func:`Field`::

    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=20), Field(title="Attempts")] = 3

The texts are msgids in English, translated by the core with the plugin's own gettext
catalog (domain = the plugin's name) in the console's language, so a plugin ships its
labels the same way it ships its page texts. The metadata rides in
``msgspec.Meta(extra=...)``: it changes nothing in how msgspec converts or validates.

A field may also carry an action (:class:`FieldAction`): a button beside the field
that runs the plugin's code on what was typed (e.g. the audio guide's «Озвучить»,
which renders speech from a script). The core runs it as a job with a progress page
and shows the form again with the values the action returned, unsaved; the form
stays generic, and the plugin writes no HTML.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import msgspec.inspect as mi

if TYPE_CHECKING:
    from promtour._models import Tour

__all__ = [
    "META_KEY",
    "ActionRequest",
    "ActionResult",
    "Field",
    "FieldAction",
    "FieldInfo",
    "Problem",
    "check_languages",
    "check_station",
    "check_text",
    "check_timezone",
    "check_unique",
    "field_info",
]

#: The key of ``msgspec.Meta.extra`` that holds the console metadata.
META_KEY = "promtour_field"

#: How a value is edited when its type alone does not say it: ``station`` (a station
#: id: a station picker), ``media`` (a file of the tour's media: a media picker),
#: ``text`` (long text: a multi-line box per language).
Kind = Literal["", "station", "media", "text"]


class Problem(msgspec.Struct, kw_only=True, frozen=True):
    """One thing wrong with a plugin's config, for ``promtour_validate_config``.

    ``message`` is an English msgid with ``{name}`` placeholders filled from ``values``;
    ``path`` names the field as msgspec does (``missions[0].choices``). The console
    translates the message with the plugin's catalog and names the field as its form
    labels it; ``str(problem)`` is the English sentence (CLI, API, logs).

    ``blocking=False`` makes it a note: the config is saved all the same, but the media
    check still counts it, so a file whose absence would raise the note (e.g. a
    transcript found by its name beside the audio) is shown as used and cannot be
    deleted."""

    path: str
    message: str
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    blocking: bool = True

    def __str__(self) -> str:
        text = self.message.format(**self.values) if self.values else self.message
        return f"{self.path}: {text}" if self.path else text


# --- The checks every plugin's config needs, with one message each ----------------------
# Their msgids are translated in the core's catalog, which every plugin's catalog falls
# back to: a plugin gets the Russian sentence without copying it.


def check_station(tour: Tour, station: str, path: str) -> list[Problem]:
    """``[]`` when ``tour`` has the station ``station``; else the problem that it has
    not (naming the stations it has), at ``path``."""
    if tour.station(station) is not None:
        return []
    stations = ", ".join(s.id for s in tour.stations)
    return [
        Problem(
            path=path,
            message="There is no station {station} in this tour (stations: {stations}).",
            values={"station": station, "stations": stations},
        )
    ]


def check_text(
    text: Mapping[str, str], languages: list[str], path: str, *, required: bool = True
) -> list[Problem]:
    """A text (language -> text) that misses some of the tour's ``languages``: empty, it
    asks for every language (or passes, when not ``required``); part-filled, it names
    the missing ones. Languages the tour does not have: :func:`check_languages`."""
    if not any((value or "").strip() for value in text.values()):
        if not required:
            return []
        return [
            Problem(
                path=path,
                message="Fill this in, in every language of the tour ({languages}).",
                values={"languages": ", ".join(languages)},
            )
        ]
    missing = [lang for lang in languages if not (text.get(lang) or "").strip()]
    if not missing:
        return []
    return [
        Problem(
            path=path,
            message="Not filled in for: {missing}.",
            values={"missing": ", ".join(missing)},
        )
    ]


def check_languages(codes: Iterable[str], languages: list[str], path: str) -> list[Problem]:
    """Language codes (a text's keys, a slot's languages) the tour does not have."""
    extra = [code for code in codes if code not in languages]
    if not extra:
        return []
    return [
        Problem(
            path=path,
            message="{extra}: not a language of this tour ({languages}).",
            values={"extra": ", ".join(extra), "languages": ", ".join(languages)},
        )
    ]


def check_unique(ids: Iterable[str], path: str) -> list[Problem]:
    """Ids of a list's items given twice: one problem at ``path[index].id`` per repeat."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            problems.append(
                Problem(
                    path=f"{path}[{index}].id",
                    message="The id {id} is used twice.",
                    values={"id": item},
                )
            )
        seen.add(item)
    return problems


def check_timezone(name: str, path: str) -> list[Problem]:
    """A time zone name the system does not know (any string passes a schema)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [
            Problem(
                path=path,
                message="“{zone}” is not a known zone name (write it as Europe/Moscow).",
                values={"zone": name},
            )
        ]
    return []


class ActionRequest:
    """What a field's action gets from the core: the tour, the unsaved values of the
    whole form, the field's path, and what it may do to the tour's media.

    ``values`` is the raw config as typed (not validated: check what you use);
    ``path`` is the field's form path (``stations.0.tracks.1.script``); ``_`` translates
    with the plugin's catalog into the console's language (``lang``)."""

    def __init__(
        self,
        *,
        tour: Any,
        plugin: str,
        values: dict[str, Any],
        path: str,
        lang: str,
        translate: Callable[[str], str],
        save_media: Callable[[str, bytes], Awaitable[str]],
        report: Callable[[str], None],
    ) -> None:
        self.tour = tour
        self.plugin = plugin
        self.values = values
        self.path = path
        self.lang = lang
        self._translate = translate
        self._save_media = save_media
        self._report = report

    def _(self, text: str) -> str:
        return self._translate(text)

    async def save_media(self, name: str, data: bytes) -> str:
        """Store a file in the tour's media with the checks of an upload (name rules,
        allowed types, the bytes must be what the name claims); returns the stored
        name. A file of that name is replaced."""
        return await self._save_media(name, data)

    def progress(self, text: str) -> None:
        """What the progress page says now (already translated, e.g. with ``_``)."""
        self._report(text)


class ActionResult(msgspec.Struct, kw_only=True):
    """A field action's answer: the form's new values (shown again, unsaved, for the
    manager to check and save), a message (an English msgid of the plugin with
    ``{name}`` placeholders from ``message_values``), or problems; with any problem
    the form is shown again with them and the values as they were typed."""

    values: dict[str, Any] | None = None
    message: str = ""
    message_values: dict[str, Any] = msgspec.field(default_factory=dict)
    problems: list[Problem] = msgspec.field(default_factory=list)


class FieldAction(msgspec.Struct, kw_only=True, frozen=True):
    """A button beside a config field: ``label`` (an English msgid) and ``run``, an
    async function of an :class:`ActionRequest` returning an :class:`ActionResult`.

    The core runs it as a job: the button posts the form, a run that ends within half
    a second answers at once, a longer one shows a progress page (``working``, then
    what ``progress`` said) that refreshes itself, without JavaScript. ``run`` runs on
    the event loop: do slow work in a thread or process."""

    label: str
    run: Callable[[ActionRequest], Awaitable[ActionResult]]
    help: str = ""
    #: What the progress page says until the action reports (msgid).
    working: str = ""


class FieldInfo(msgspec.Struct, kw_only=True, frozen=True):
    """The console metadata of one field (all texts are msgids of the plugin)."""

    title: str = ""
    help: str = ""
    #: Labels of the values of a Literal/Enum field, or of the variants of a list of
    #: tagged Structs (by tag).
    choices: dict[str, str] = msgspec.field(default_factory=dict)
    kind: str = ""
    #: The name of one element of a list ("Mission"), for "Add a mission" and headings.
    item: str = ""
    #: A button beside the field that runs the plugin's code (:class:`FieldAction`).
    action: FieldAction | None = None


def Field(
    *,
    title: str = "",
    help: str = "",
    choices: dict[str, str] | None = None,
    kind: Kind = "",
    item: str = "",
    action: FieldAction | None = None,
) -> msgspec.Meta:
    """Metadata for ``Annotated[type, Field(...)]`` of a config field: its form label
    (``title``), a help line, labels for its choices, how it is edited (``kind``) and,
    for a list, the name of one element (``item``), and a button beside it (``action``).
    Texts are English msgids of the plugin's catalog."""
    info = FieldInfo(
        title=title, help=help, choices=dict(choices or {}), kind=kind, item=item, action=action
    )
    return msgspec.Meta(extra={META_KEY: info})


def field_info(t: mi.Type) -> FieldInfo:
    """The merged :class:`FieldInfo` found on ``t`` and its wrappers (an Optional's
    member included), outermost winning."""
    found: list[FieldInfo] = []

    def collect(x: mi.Type) -> None:
        while isinstance(x, mi.Metadata):
            value = (x.extra or {}).get(META_KEY)
            if isinstance(value, FieldInfo):
                found.append(value)
            x = x.type
        if isinstance(x, mi.UnionType):
            others = [m for m in x.types if not isinstance(m, mi.NoneType)]
            if len(others) == 1:
                collect(others[0])

    collect(t)
    merged: dict[str, Any] = {}
    for info in reversed(found):  # inner first, outer overrides
        merged.update({k: v for k, v in msgspec.structs.asdict(info).items() if v})
    return FieldInfo(**merged)
