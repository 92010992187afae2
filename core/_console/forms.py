"""A plugin's per-tour config form, generated from its msgspec config Struct.

Every field gets an input, at any depth, so that a tour manager never types TOML:

- bool: a checkbox; int/float: a number input; str: a text input; Literal/Enum: a select
  with the plugin's labels; ``dict[str, str]`` (a text per language): one input per
  tour language side by side; ``dict[str, list[str]]``: one box per language, a line
  per entry; ``list[str]``: a box with a line per entry; ``list[Literal]`` and a list of
  ints of a small range (weekdays 1–7): checkboxes; ``bool | Literal``: a select.
- date, time, datetime: the browser's date/time inputs; a list of them (or of numbers):
  repeatable one-input groups (``blackout = [dates]``).
- A Struct: a group of its fields; ``Struct | None``: a group with add/remove buttons;
  ``list[Struct]`` (or a list of tagged Structs): repeatable groups with add (per
  variant), remove, up and down.
- ``Field(kind="station")``: a station picker (a list of them: checkboxes; a dict keyed
  by station: one row per station); ``Field(kind="media")``: a picker of the tour's
  media; ``Field(kind="text")``: multi-line boxes.
- Anything else (rare, none in the built-in plugins): a JSON box for that one field, so
  a plugin can still declare it.

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

import msgspec.inspect as mi
from promtour._console.form_read import apply_op, form_tree, parse_form
from promtour._console.form_types import (
    FIELD_PREFIX,
    OP_FIELD,
    TEMPORAL,
    FormContext,
    FormError,
    Node,
    config_values,
    default_of,
    humanize,
    is_scalar,
    list_options,
    option_key,
    options_of,
    strip_type,
    struct_info,
    struct_types,
)
from promtour._fields import FieldInfo, field_info

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
    "find_node",
    "form_tree",
    "parse_form",
    "path_labels",
]

# --- building the form -----------------------------------------------------------------


def build_form(config_type: type[Any], values: dict[str, Any], ctx: FormContext) -> list[Node]:
    """The nodes of the whole form for ``values`` (plain values, possibly invalid)."""
    return _fields(struct_info(config_type), values, "", ctx)


def _fields(struct: mi.StructType, values: Any, path: str, ctx: FormContext) -> list[Node]:
    values = values if isinstance(values, dict) else {}
    nodes = []
    for field in struct.fields:
        if struct.tag_field and field.encode_name == struct.tag_field:
            continue
        value = values[field.encode_name] if field.encode_name in values else default_of(field)
        sub = f"{path}.{field.encode_name}" if path else field.encode_name
        nodes.append(_node(field.type, value, sub, field.encode_name, field.required, ctx))
    return nodes


def _node(t: mi.Type, value: Any, path: str, key: str, required: bool, ctx: FormContext) -> Node:
    info = field_info(t)
    inner, optional = strip_type(t)
    node = Node(
        kind="raw",
        path=path,
        label=ctx.label(info.title) if info.title else humanize(key),
        help=ctx.label(info.help) if info.help else "",
        value=value,
        required=required,
        optional=optional,
    )
    if info.action is not None:
        node.action = info.action
        node.action_label = ctx.label(info.action.label)
        node.action_help = ctx.label(info.action.help) if info.action.help else ""
    structs = struct_types(inner)
    if structs is not None and len(structs) == 1:
        node.kind = "group"
        node.present = value is not None or not optional
        node.item = ctx.label(info.item) if info.item else node.label
        if node.present:
            node.children = _fields(structs[0], value, path, ctx)
        return node
    if isinstance(inner, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return _list_node(node, inner.item_type, info, value, ctx)
    if isinstance(inner, mi.DictType) and isinstance(strip_type(inner.key_type)[0], mi.StrType):
        return _dict_node(node, inner.value_type, info, value, ctx)
    if is_scalar(inner):
        return _scalar_node(node, inner, info, value, ctx)
    node.value = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
    return node


def _choices(options: list[Any], info: FieldInfo, ctx: FormContext) -> list[tuple[str, str]]:
    """``(value, label)`` in the order the plugin lists its labels (msgspec sorts a
    Literal's values: the equipment would come alphabetically by key), then the rest."""
    keys = sorted((option_key(v) for v in options), key=_listed_first(info))
    return [(k, ctx.label(info.choices[k]) if k in info.choices else k) for k in keys]


def _listed_first(info: FieldInfo) -> Callable[[str], int]:
    """A sort key: the values the plugin labels, in its order, then the others."""
    listed = list(info.choices)
    return lambda key: listed.index(key) if key in listed else len(listed)


def _scalar_node(node: Node, t: mi.Type, info: FieldInfo, value: Any, ctx: FormContext) -> Node:
    options = options_of(t)
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
        value = "" if value is None else option_key(value)
    elif type(t) in TEMPORAL:
        node.kind = TEMPORAL[type(t)]
        value = _temporal_value(value, node.kind)
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


def _temporal_value(value: Any, kind: str) -> str:
    """An ISO value as the browser's input shows it (minutes, not seconds: ``10:00``)."""
    if not isinstance(value, str):
        return ""
    if kind == "time" and len(value) == 8 and value.endswith(":00"):
        return value[:5]
    if kind == "datetime":
        value = value[:19]
        return value[:16] if value.endswith(":00") and len(value) == 19 else value
    return value


def _langs(value: Any, ctx: FormContext) -> list[str]:
    stored = list(value) if isinstance(value, dict) else []
    return list(ctx.langs) + [x for x in stored if x not in ctx.langs]


def _dict_node(
    node: Node, value_type: mi.Type, info: FieldInfo, value: Any, ctx: FormContext
) -> Node:
    vt, _ = strip_type(value_type)
    if info.kind == "station":
        # One row per station of the tour (plus any stored for a station that is gone).
        node.kind = "station_map"
        rows = dict(ctx.stations)
        stored = value if isinstance(value, dict) else {}
        for sid in [*rows, *[k for k in stored if k not in rows]]:
            row = _node(value_type, stored.get(sid), f"{node.path}.{sid}", sid, False, ctx)
            row.label = rows.get(sid, sid)
            if info.choices:  # the map's labels name (and order) the values of every row
                order = _listed_first(info)
                row.choices = [
                    (v, ctx.label(info.choices[v]) if v in info.choices else label)
                    for v, label in sorted(row.choices, key=lambda c: order(c[0]))
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
    if isinstance(vt, mi.ListType) and isinstance(strip_type(vt.item_type)[0], mi.StrType):
        node.kind = "text_lines"
        stored = value if isinstance(value, dict) else {}
        node.value = {lang: "\n".join(map(str, v or [])) for lang, v in stored.items()}
        return node
    node.value = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
    return node


def _list_node(
    node: Node, item_type: mi.Type, info: FieldInfo, value: Any, ctx: FormContext
) -> Node:
    it, _ = strip_type(item_type)
    items = value if isinstance(value, list) else []
    structs = struct_types(it)
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
    options = list_options(it)
    if options is not None:
        node.kind = "multichoice"
        node.choices = _choices(options, info, ctx)
        node.value = [option_key(v) for v in items]
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
    if isinstance(it, mi.DictType) or is_scalar(it):
        # A list of texts (e.g. the steps of a process) or of dates or numbers (blackout
        # days): repeatable groups of one field.
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
        found = find_node(nodes, prefix)
        if found is None:
            if not labels:
                labels.append(humanize(part))
            continue
        labels.append(found.label)
        nodes = found.children or found.items
    return labels


def find_node(nodes: list[Node], path: str) -> Node | None:
    for node in nodes:
        if node.path == path:
            return node
        if path.startswith(node.path + "."):
            inner = find_node(node.children or node.items, path)
            if inner is not None:
                return inner
    return None
