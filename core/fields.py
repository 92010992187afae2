"""What a plugin says about its config fields so the console can build a form from them.

A plugin annotates a field of its config Struct with :func:`Field`::

    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=20), Field(title="Attempts")] = 3

The texts are msgids in English, translated by the core with the plugin's own gettext
catalog (domain = the plugin's name) in the console's language, so a plugin ships its
labels the same way it ships its page texts. The metadata rides in
``msgspec.Meta(extra=...)``: it changes nothing in how msgspec converts or validates.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import msgspec.inspect as mi

__all__ = ["META_KEY", "Field", "FieldInfo", "Problem", "field_info"]

#: The key of ``msgspec.Meta.extra`` that holds the console metadata.
META_KEY = "promtour_field"

#: How a value is edited when its type alone does not say it: ``station`` (a station
#: id: a station picker), ``media`` (a file of the tour's media: a media picker),
#: ``text`` (long text: a multi-line box per language).
Kind = Literal["", "station", "media", "text"]


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


def Field(
    *,
    title: str = "",
    help: str = "",
    choices: dict[str, str] | None = None,
    kind: Kind = "",
    item: str = "",
) -> msgspec.Meta:
    """Metadata for ``Annotated[type, Field(...)]`` of a config field: its form label
    (``title``), a help line, labels for its choices, how it is edited (``kind``) and,
    for a list, the name of one element (``item``). Texts are English msgids of the
    plugin's catalog."""
    info = FieldInfo(title=title, help=help, choices=dict(choices or {}), kind=kind, item=item)
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


class Problem(msgspec.Struct, kw_only=True, frozen=True):
    """One thing wrong with a plugin's config, for ``promtour_validate_config``.

    ``message`` is an English msgid with ``{name}`` placeholders filled from ``values``;
    ``path`` names the field as msgspec does (``missions[0].choices``). The console
    translates the message with the plugin's catalog and names the field as its form
    labels it; ``str(problem)`` is the English sentence (CLI, API, logs)."""

    path: str
    message: str
    values: dict[str, Any] = msgspec.field(default_factory=dict)

    def __str__(self) -> str:
        text = self.message.format(**self.values) if self.values else self.message
        return f"{self.path}: {text}" if self.path else text
