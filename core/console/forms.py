"""A plugin's per-tour config form, generated from its msgspec config Struct.

Every field gets an input, at any depth, so that a tour manager never types TOML:

- bool: a checkbox; int/float: a number input; str: a text input; Literal/Enum: a select
  with the plugin's labels; ``dict[str, str]`` (a text per language): one input per
  tour language side by side; ``dict[str, list[str]]``: one box per language, a line
  per entry; ``list[str]``: a box with a line per entry; ``list[Literal]``: checkboxes.
- A Struct: a group of its fields; ``Struct | None``: a group with add/remove buttons;
  ``list[Struct]`` (or a list of tagged Structs): repeatable groups with add (per
  variant), remove, up and down.
- ``Field(kind="station")``: a station picker (a list of them: checkboxes; a dict keyed
  by station: one row per station); ``Field(kind="media")``: a picker of the tour's
  media; ``Field(kind="text")``: multi-line boxes.
- Anything else (rare): a JSON box for that one field, so a plugin can still declare it.

Input names are paths (``cfg.missions.0.choices.1.text.ru``). The add/remove/move
buttons are plain submit buttons (``_op``): the server applies them to what was typed
and shows the form again without saving, so they work without JavaScript.

Titles, help texts and choice labels come from :func:`promtour.plugin.Field`, translated
with the plugin's catalog; a field without one is named after its key.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi
from promtour.fields import FieldInfo, field_info

__all__ = [
    "FIELD_PREFIX",
    "OP_FIELD",
    "FormContext",
    "FormError",
    "Node",
    "apply_op",
    "build_form",
    "config_values",
    "error_path",
    "parse_form",
    "path_labels",
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

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.path

    @property
    def id(self) -> str:
        return "cfg-" + self.path.replace(".", "-")


# --- types -----------------------------------------------------------------------------


def _strip(t: mi.Type) -> tuple[mi.Type, bool]:
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


def _structs(t: mi.Type) -> list[mi.StructType] | None:
    """The Structs of a Struct or of a union of tagged Structs; None otherwise."""
    if isinstance(t, mi.StructType):
        return [t]
    if isinstance(t, mi.UnionType):
        members = [_strip(x)[0] for x in t.types]
        if members and all(isinstance(m, mi.StructType) and m.tag_field for m in members):
            return [m for m in members if isinstance(m, mi.StructType)]
    return None


def _scalar(t: mi.Type) -> bool:
    return (
        isinstance(t, mi.BoolType | mi.IntType | mi.FloatType | mi.StrType)
        or _options(t) is not None
    )


def _options(t: mi.Type) -> list[Any] | None:
    if isinstance(t, mi.LiteralType) and all(isinstance(v, str | int) for v in t.values):
        return list(t.values)
    if isinstance(t, mi.EnumType) and all(isinstance(m.value, str | int) for m in t.cls):
        return [m.value for m in t.cls]
    return None


def _struct_info(config_type: type[Any]) -> mi.StructType:
    info = mi.type_info(config_type)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{config_type} is not a msgspec Struct")
    return info


def _default(field: mi.Field) -> Any:
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


# --- building the form -----------------------------------------------------------------


def build_form(config_type: type[Any], values: dict[str, Any], ctx: FormContext) -> list[Node]:
    """The nodes of the whole form for ``values`` (plain values, possibly invalid)."""
    return _fields(_struct_info(config_type), values, "", ctx)


def _fields(struct: mi.StructType, values: Any, path: str, ctx: FormContext) -> list[Node]:
    values = values if isinstance(values, dict) else {}
    nodes = []
    for field in struct.fields:
        if struct.tag_field and field.encode_name == struct.tag_field:
            continue
        value = values[field.encode_name] if field.encode_name in values else _default(field)
        sub = f"{path}.{field.encode_name}" if path else field.encode_name
        nodes.append(_node(field.type, value, sub, field.encode_name, field.required, ctx))
    return nodes


def _node(t: mi.Type, value: Any, path: str, key: str, required: bool, ctx: FormContext) -> Node:
    info = field_info(t)
    inner, optional = _strip(t)
    node = Node(
        kind="raw",
        path=path,
        label=ctx.label(info.title) if info.title else humanize(key),
        help=ctx.label(info.help) if info.help else "",
        value=value,
        required=required,
        optional=optional,
    )
    structs = _structs(inner)
    if structs is not None and len(structs) == 1:
        node.kind = "group"
        node.present = value is not None or not optional
        node.item = ctx.label(info.item) if info.item else node.label
        if node.present:
            node.children = _fields(structs[0], value, path, ctx)
        return node
    if isinstance(inner, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return _list_node(node, inner.item_type, info, value, ctx)
    if isinstance(inner, mi.DictType) and isinstance(_strip(inner.key_type)[0], mi.StrType):
        return _dict_node(node, inner.value_type, info, value, ctx)
    if _scalar(inner):
        return _scalar_node(node, inner, info, value, ctx)
    node.value = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
    return node


def _choices(options: list[Any], info: FieldInfo, ctx: FormContext) -> list[tuple[str, str]]:
    return [
        (str(v), ctx.label(info.choices[str(v)]) if str(v) in info.choices else str(v))
        for v in options
    ]


def _scalar_node(node: Node, t: mi.Type, info: FieldInfo, value: Any, ctx: FormContext) -> Node:
    options = _options(t)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(t, mi.BoolType):
        node.kind = "bool"
    elif isinstance(t, mi.IntType | mi.FloatType):
        node.kind = "int" if isinstance(t, mi.IntType) else "float"
        node.step = "1" if isinstance(t, mi.IntType) else "any"
        node.minimum = t.ge if t.ge is not None else t.gt
        node.maximum = t.le if t.le is not None else t.lt
    elif options is not None:
        node.kind = "choice"
        node.choices = _choices(options, info, ctx)
        value = "" if value is None else str(value)
    elif isinstance(t, mi.StrType):
        node.pattern = t.pattern or ""
        node.max_length = t.max_length
        node.kind = {"station": "station", "media": "media"}.get(info.kind, "str")
        node.multiline = info.kind == "text"
        if node.kind == "station":
            node.choices = list(ctx.stations)
        elif node.kind == "media":
            node.choices = [(m, m) for m in ctx.media]
        if node.kind != "str" and value and value not in [v for v, _ in node.choices]:
            node.choices.append((str(value), str(value)))  # never drop what is stored
    node.value = value
    return node


def _langs(value: Any, ctx: FormContext) -> list[str]:
    stored = list(value) if isinstance(value, dict) else []
    return list(ctx.langs) + [x for x in stored if x not in ctx.langs]


def _dict_node(
    node: Node, value_type: mi.Type, info: FieldInfo, value: Any, ctx: FormContext
) -> Node:
    vt, _ = _strip(value_type)
    if info.kind == "station":
        # One row per station of the tour (plus any stored for a station that is gone).
        node.kind = "station_map"
        rows = dict(ctx.stations)
        stored = value if isinstance(value, dict) else {}
        for sid in [*rows, *[k for k in stored if k not in rows]]:
            row = _node(value_type, stored.get(sid), f"{node.path}.{sid}", sid, False, ctx)
            row.label = rows.get(sid, sid)
            if info.choices:  # the map's labels name the values of every row
                row.choices = [
                    (v, ctx.label(info.choices[v]) if v in info.choices else label)
                    for v, label in row.choices
                ]
            node.items.append(row)
        return node
    node.langs = _langs(value, ctx)
    if isinstance(vt, mi.StrType):
        node.kind = "media_texts" if info.kind == "media" else "texts"
        node.multiline = info.kind == "text"
        node.value = value if isinstance(value, dict) else {}
        if node.kind == "media_texts":
            node.choices = [(m, m) for m in ctx.media]
            known = {m for m, _ in node.choices}
            node.choices += [(v, v) for v in node.value.values() if v and v not in known]
        return node
    if isinstance(vt, mi.ListType) and isinstance(_strip(vt.item_type)[0], mi.StrType):
        node.kind = "text_lines"
        stored = value if isinstance(value, dict) else {}
        node.value = {lang: "\n".join(map(str, v or [])) for lang, v in stored.items()}
        return node
    node.value = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
    return node


def _list_node(
    node: Node, item_type: mi.Type, info: FieldInfo, value: Any, ctx: FormContext
) -> Node:
    it, _ = _strip(item_type)
    items = value if isinstance(value, list) else []
    structs = _structs(it)
    if structs is not None:
        node.kind = "list"
        node.item = ctx.label(info.item) if info.item else node.label
        tags = {str(s.tag): s for s in structs if s.tag is not None}
        node.variants = [
            (tag, ctx.label(info.choices[tag]) if tag in info.choices else humanize(tag))
            for tag in tags
        ]
        labels = dict(node.variants)
        for index, element in enumerate(items):
            struct = structs[0]
            tag: tuple[str, str] | None = None
            if tags and isinstance(element, dict):
                chosen = str(element.get(structs[0].tag_field or "", ""))
                struct = tags.get(chosen, structs[0])
                tag = (str(struct.tag), labels.get(str(struct.tag), str(struct.tag)))
            sub = f"{node.path}.{index}"
            group = Node(
                kind="item",
                path=sub,
                label=f"{node.item} {index + 1}",
                help=_summary(element, ctx),
                index=index,
                count=len(items),
                tag=tag,
                children=_fields(struct, element, sub, ctx),
            )
            node.items.append(group)
        return node
    options = _options(it)
    if options is not None:
        node.kind = "multichoice"
        node.choices = _choices(options, info, ctx)
        node.value = [str(v) for v in items]
        return node
    if isinstance(it, mi.StrType):
        if info.kind == "station":
            node.kind = "stations"
            node.choices = list(ctx.stations)
            known = {v for v, _ in node.choices}
            node.choices += [(str(v), str(v)) for v in items if v not in known]
            node.value = [str(v) for v in items]
        else:
            node.kind = "lines"
            node.value = "\n".join(map(str, items))
        return node
    if isinstance(it, mi.DictType):
        # A list of texts (e.g. the steps of a process): repeatable groups of one field.
        node.kind = "list"
        node.item = ctx.label(info.item) if info.item else node.label
        for index, element in enumerate(items):
            sub = f"{node.path}.{index}"
            child = _node(item_type, element, sub, str(index + 1), False, ctx)
            child.label = f"{node.item} {index + 1}"
            node.items.append(
                Node(
                    kind="item",
                    path=sub,
                    label=child.label,
                    index=index,
                    count=len(items),
                    children=[child],
                )
            )
        return node
    node.value = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
    return node


def _summary(element: Any, ctx: FormContext) -> str:
    """A short reminder of which element this is: its id and first text."""
    if not isinstance(element, dict):
        return ""
    parts = [str(element["id"])] if element.get("id") else []
    for key in ("title", "question", "name", "text"):
        text = element.get(key)
        if isinstance(text, dict) and text:
            first = next((text[x] for x in ctx.langs if text.get(x)), None)
            if first:
                parts.append(first if len(first) <= 60 else first[:57] + "…")
                break
    return " · ".join(parts)


# --- reading the form back -------------------------------------------------------------

_MISSING = object()


def form_tree(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Submitted ``cfg.*`` inputs as a nested dict of strings (``x[]`` -> a list)."""
    tree: dict[str, Any] = {}
    for key, value in items:
        if not isinstance(value, str):
            continue
        if key.startswith(JSON_PREFIX):
            key, value = FIELD_PREFIX + key[len(JSON_PREFIX) :], _Json(value)
        if not key.startswith(FIELD_PREFIX):
            continue
        parts = key[len(FIELD_PREFIX) :].split(".")
        many = parts[-1].endswith("[]")
        if many:
            parts[-1] = parts[-1][:-2]
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if many:
            bucket = node.setdefault(parts[-1], [])
            if isinstance(bucket, list) and value:
                bucket.append(value)
        else:
            node[parts[-1]] = value
    return tree


class _Json(str):
    """The text of a JSON box (parsed when converted)."""


def parse_form(config_type: type[Any], items: list[tuple[str, Any]]) -> dict[str, Any]:
    """The raw config table from a submitted form (not yet validated): what msgspec
    then converts, so that its errors point at the form's paths."""
    result = _read_struct(_struct_info(config_type), form_tree(items), "")
    return result if isinstance(result, dict) else {}


def _read_struct(struct: mi.StructType, sent: Any, path: str) -> dict[str, Any]:
    sent = sent if isinstance(sent, dict) else {}
    raw: dict[str, Any] = {}
    if struct.tag_field and struct.tag is not None:
        raw[struct.tag_field] = struct.tag
    for field in struct.fields:
        if field.encode_name not in sent or field.encode_name == struct.tag_field:
            continue
        sub = f"{path}.{field.encode_name}" if path else field.encode_name
        value = _read(field.type, sent[field.encode_name], sub)
        if value is not _MISSING:
            raw[field.encode_name] = value
    return raw


def _read(t: mi.Type, sent: Any, path: str) -> Any:
    info = field_info(t)
    inner, optional = _strip(t)
    if isinstance(sent, _Json):
        if not sent.strip():
            return None if optional else _MISSING
        try:
            return json.loads(sent)
        except json.JSONDecodeError:
            raise FormError(path, "This is not valid JSON.") from None
    structs = _structs(inner)
    if structs is not None and len(structs) == 1:
        return _read_struct(structs[0], sent, path) if isinstance(sent, dict) else None
    if isinstance(inner, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return _read_list(inner.item_type, info, sent, path)
    if isinstance(inner, mi.DictType):
        vt = _strip(inner.value_type)[0]
        sent = sent if isinstance(sent, dict) else {}
        out: dict[str, Any] = {}
        for key, item in sent.items():
            if key == PRESENT:
                continue
            if isinstance(vt, mi.StrType):
                if isinstance(item, str) and item.strip():
                    out[key] = item.strip() if "\n" not in item else item.strip("\n")
            elif isinstance(vt, mi.ListType) and isinstance(item, str):
                lines = _lines(item)
                if lines:
                    out[key] = lines
            else:
                value = _read(inner.value_type, item, f"{path}.{key}")
                if value not in (_MISSING, None, [], {}, ""):
                    out[key] = value
        return out
    if not isinstance(sent, str):
        return _MISSING
    if isinstance(inner, mi.BoolType):
        return sent.strip().lower() in ("true", "on", "1", "yes")
    text = sent.strip()
    options = _options(inner)
    if text == "":
        if optional:
            return None
        if isinstance(inner, mi.StrType) and options is None:
            return ""
        return _MISSING  # an empty number or choice keeps the default (or is missing)
    if isinstance(inner, mi.IntType | mi.FloatType):
        try:
            return int(text) if isinstance(inner, mi.IntType) else float(text)
        except ValueError:
            return text  # msgspec reports the type, the form names the field
    if options is not None:
        return next((o for o in options if str(o) == text), text)
    return sent if "\n" in sent else text


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_list(item_type: mi.Type, info: FieldInfo, sent: Any, path: str) -> Any:
    it, _ = _strip(item_type)
    structs = _structs(it)
    if structs is not None:
        if not isinstance(sent, dict):
            return []
        keys = sorted((k for k in sent if k.isdigit()), key=int)
        out = []
        for n, key in enumerate(keys):
            element = sent[key]
            struct = structs[0]
            if len(structs) > 1 or struct.tag_field:
                tag = element.get(struct.tag_field or "", "") if isinstance(element, dict) else ""
                struct = next((s for s in structs if str(s.tag) == tag), struct)
            out.append(_read_struct(struct, element, f"{path}.{n}"))
        return out
    if isinstance(it, mi.DictType) and isinstance(sent, dict):
        keys = sorted((k for k in sent if k.isdigit()), key=int)
        return [_read(item_type, sent[k], f"{path}.{n}") for n, k in enumerate(keys)]
    if isinstance(sent, list):
        options = _options(it)
        if options is not None:
            return [next((o for o in options if str(o) == v), v) for v in sent]
        return list(sent)
    if isinstance(sent, str):
        return _lines(sent)
    return []


# --- add, remove, move -----------------------------------------------------------------


def apply_op(config_type: type[Any], raw: dict[str, Any], op: str) -> dict[str, Any]:
    """Apply one button of the form (``add:missions:single``, ``remove:missions.2``,
    ``up:missions.2``, ``down:…``, ``set:time_bonus``) to typed, unsaved values."""
    verb, _, rest = op.partition(":")
    path, _, tag = rest.partition(":")
    parts = [p for p in path.split(".") if p]
    if not parts:
        return raw
    parent: Any = raw
    struct: mi.Type | None = _struct_info(config_type)
    for part in parts[:-1]:
        parent, struct = _step(parent, struct, part)
        if parent is None:
            return raw
    last = parts[-1]
    if verb in ("add", "set"):
        field_type = _field_type(struct, last)
        target = parent.get(last) if isinstance(parent, dict) else None
        inner = _strip(field_type)[0] if field_type is not None else None
        element: dict[str, Any] = {}
        if inner is not None and isinstance(inner, mi.ListType):
            structs = _structs(_strip(inner.item_type)[0]) or []
            chosen = next(
                (s for s in structs if str(s.tag) == tag), structs[0] if structs else None
            )
            if chosen is not None and chosen.tag_field and chosen.tag is not None:
                element[chosen.tag_field] = chosen.tag
            if not isinstance(target, list):
                target = []
            target.append(element)
            parent[last] = target
        elif isinstance(parent, dict):
            parent[last] = element
    elif verb in ("remove", "up", "down") and last.isdigit() and isinstance(parent, list):
        index = int(last)
        if not 0 <= index < len(parent):
            return raw
        if verb == "remove":
            parent.pop(index)
        else:
            other = index - 1 if verb == "up" else index + 1
            if 0 <= other < len(parent):
                parent[index], parent[other] = parent[other], parent[index]
    elif verb == "remove" and isinstance(parent, dict):
        parent[last] = None
    return raw


def _field_type(struct: mi.Type | None, key: str) -> mi.Type | None:
    if isinstance(struct, mi.StructType):
        return next((f.type for f in struct.fields if f.encode_name == key), None)
    return None


def _step(value: Any, t: mi.Type | None, part: str) -> tuple[Any, mi.Type | None]:
    """One step down a path in plain values and in their type."""
    inner = _strip(t)[0] if t is not None else None
    if isinstance(value, list) and part.isdigit():
        element = value[int(part)] if int(part) < len(value) else None
        item_type = inner.item_type if isinstance(inner, mi.ListType) else None
        structs = _structs(_strip(item_type)[0]) if item_type is not None else None
        if structs and isinstance(element, dict):
            tag_field = structs[0].tag_field or ""
            chosen = next((s for s in structs if s.tag == element.get(tag_field)), structs[0])
            return element, chosen
        return element, item_type
    if isinstance(value, dict):
        if isinstance(inner, mi.StructType):
            return value.get(part), _field_type(inner, part)
        if isinstance(inner, mi.DictType):
            return value.get(part), inner.value_type
        return value.get(part), None
    return None, None


# --- naming a path as the form does ----------------------------------------------------

ERROR_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def error_path(message: str) -> tuple[str, str]:
    """msgspec's message split into what is wrong and the form path
    (``$.missions[0].max_attempts`` -> ``missions.0.max_attempts``); a missing field's
    path ends with the field."""
    match = ERROR_AT.match(message.strip())
    what = match.group("what") if match else message
    raw = (match.group("path") or "") if match else ""
    path = re.sub(r"\[(\d+)\]", r".\1", raw).strip(".")
    missing = re.match(r"Object missing required field `([^`]+)`", what)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return what, path


def path_labels(
    config_type: type[Any], values: dict[str, Any], path: str, ctx: FormContext
) -> list[str]:
    """The labels of the groups and the field a path leads to, as the form shows them
    (``["Missions", "Mission 1", "Attempts"]``)."""
    labels: list[str] = []
    nodes = build_form(config_type, values, ctx)
    parts = [p for p in path.split(".") if p]
    prefix = ""
    for part in parts:
        prefix = f"{prefix}.{part}" if prefix else part
        found = _find(nodes, prefix)
        if found is None:
            if not labels:
                labels.append(humanize(part))
            continue
        labels.append(found.label)
        nodes = found.children or found.items
    return labels


def _find(nodes: list[Node], path: str) -> Node | None:
    for node in nodes:
        if node.path == path:
            return node
        if path.startswith(node.path + "."):
            inner = _find(node.children or node.items, path)
            if inner is not None:
                return inner
    return None
