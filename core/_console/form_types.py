"""The types of the generated config form: what a form needs (:class:`FormContext`),
what it shows (:class:`Node`) and the msgspec type helpers the building and the reading
of a form share (split from :mod:`promtour._console.forms`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi

__all__ = [
    "FIELD_PREFIX",
    "JSON_PREFIX",
    "OP_FIELD",
    "PRESENT",
    "FormContext",
    "FormError",
    "Node",
    "Translator",
    "config_values",
    "default_of",
    "humanize",
    "is_scalar",
    "list_options",
    "option_key",
    "options_of",
    "strip_type",
    "struct_info",
    "struct_types",
]

FIELD_PREFIX = "cfg."
JSON_PREFIX = "json."
OP_FIELD = "_op"
#: A hidden input that says "this group or list item is there" even with empty inputs.
PRESENT = "_"

Translator = Callable[[str], str]


class FormError(ValueError):
    """A value the form cannot even turn into config (e.g. a JSON box that is not JSON)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


class FormContext(msgspec.Struct, kw_only=True):
    """What a form needs besides the config: the tour's languages, stations and media,
    and the translators (the plugin's catalog for labels, the console's for the rest)."""

    langs: list[str]
    #: ``(id, label)`` of the tour's stations, in tour order.
    stations: list[tuple[str, str]] = msgspec.field(default_factory=list)
    media: list[str] = msgspec.field(default_factory=list)
    label: Translator = str
    console: Translator = str


class Node(msgspec.Struct, kw_only=True):
    """One input or group of the form, ready for the template."""

    kind: str
    path: str
    label: str
    help: str = ""
    value: Any = None
    required: bool = False
    optional: bool = False
    multiline: bool = False
    minimum: float | None = None
    maximum: float | None = None
    step: str = ""
    pattern: str = ""
    max_length: int | None = None
    #: ``(value, label)`` for selects and checkboxes.
    choices: list[tuple[str, str]] = msgspec.field(default_factory=list)
    #: Languages shown for per-language fields (the tour's, then any others stored).
    langs: list[str] = msgspec.field(default_factory=list)
    children: list[Node] = msgspec.field(default_factory=list)
    #: A list's elements (groups), or a station map's rows.
    items: list[Node] = msgspec.field(default_factory=list)
    #: ``(tag, label)`` of a list's variants; one "add" button each.
    variants: list[tuple[str, str]] = msgspec.field(default_factory=list)
    #: The name of one element ("Mission"), for "Add" buttons.
    item: str = ""
    #: A list item's or optional group's place: index (for up/down) and the tag.
    index: int = -1
    count: int = 0
    tag: tuple[str, str] | None = None
    present: bool = True
    #: A plugin's button beside the field (:class:`promtour._fields.FieldAction`) and
    #: its label and help, translated.
    action: Any = None
    action_label: str = ""
    action_help: str = ""

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.path

    @property
    def id(self) -> str:
        return "cfg-" + self.path.replace(".", "-")


# --- types -----------------------------------------------------------------------------


def strip_type(t: mi.Type) -> tuple[mi.Type, bool]:
    """The type without Metadata and without ``| None``, and whether None is allowed."""
    optional = False
    while True:
        if isinstance(t, mi.Metadata):
            t = t.type
            continue
        if isinstance(t, mi.UnionType):
            others = [x for x in t.types if not isinstance(x, mi.NoneType)]
            if len(others) < len(t.types) and len(others) == 1:
                optional, t = True, others[0]
                continue
        return t, optional


def struct_types(t: mi.Type) -> list[mi.StructType] | None:
    """The Structs of a Struct or of a union of tagged Structs; None otherwise."""
    if isinstance(t, mi.StructType):
        return [t]
    if isinstance(t, mi.UnionType):
        members = [strip_type(x)[0] for x in t.types]
        if members and all(isinstance(m, mi.StructType) and m.tag_field for m in members):
            return [m for m in members if isinstance(m, mi.StructType)]
    return None


#: Types typed into one input: the form's input type for each (dates and times get the
#: browser's own pickers, a phone's wheel included).
TEMPORAL = {mi.DateType: "date", mi.TimeType: "time", mi.DateTimeType: "datetime"}

#: A list of whole numbers from a range at most this long is a row of checkboxes
#: (weekdays 1–7, months 1–12, days of a month), not a box of numbers.
SMALL_RANGE = 31


def is_scalar(t: mi.Type) -> bool:
    return (
        isinstance(t, mi.BoolType | mi.IntType | mi.FloatType | mi.StrType)
        or type(t) in TEMPORAL
        or options_of(t) is not None
    )


def options_of(t: mi.Type) -> list[Any] | None:
    """The values of a choice: a Literal, an Enum, or ``bool | Literal[...]`` (a switch
    with a third way, e.g. ``briefing = true | false | "groups"``)."""
    if isinstance(t, mi.LiteralType) and all(isinstance(v, str | int) for v in t.values):
        return list(t.values)
    if isinstance(t, mi.EnumType) and all(isinstance(m.value, str | int) for m in t.cls):
        return [m.value for m in t.cls]
    if isinstance(t, mi.UnionType):
        members = [strip_type(x)[0] for x in t.types if not isinstance(x, mi.NoneType)]
        if any(isinstance(m, mi.BoolType) for m in members):
            rest = [options_of(m) for m in members if not isinstance(m, mi.BoolType)]
            if rest and all(r is not None for r in rest):
                return [False, True, *(v for r in rest if r is not None for v in r)]
    return None


def list_options(t: mi.Type) -> list[Any] | None:
    """The choices of one element of a list shown as checkboxes: a choice's values, or
    every number of a small bounded range of ints."""
    options = options_of(t)
    if options is not None:
        return options
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
        if low is not None and high is not None and 0 <= high - low < SMALL_RANGE:
            return list(range(low, high + 1))
    return None


def option_key(value: Any) -> str:
    """A choice's value as the form sends it and as ``Field(choices=...)`` keys it
    (``true``/``false`` as TOML writes them, not Python's ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def struct_info(config_type: type[Any]) -> mi.StructType:
    info = mi.type_info(config_type)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{config_type} is not a msgspec Struct")
    return info


def default_of(field: mi.Field) -> Any:
    if field.default is not msgspec.NODEFAULT:
        return msgspec.to_builtins(field.default)
    if field.default_factory is not msgspec.NODEFAULT:
        return msgspec.to_builtins(field.default_factory())
    return None


def humanize(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def config_values(config_type: type[Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """The config as plain values with defaults filled in (raw as is if it is invalid)."""
    try:
        return msgspec.to_builtins(msgspec.convert(raw or {}, config_type, str_keys=True))
    except msgspec.ValidationError:
        return dict(raw or {})
