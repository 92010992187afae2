"""Reading a submitted config form back into a raw config table, and its add/remove/move
buttons (split from :mod:`promtour._console.forms`)."""

from __future__ import annotations

import json
from typing import Any

import msgspec.inspect as mi
from promtour._console.form_types import (
    FIELD_PREFIX,
    JSON_PREFIX,
    PRESENT,
    TEMPORAL,
    FormError,
    is_scalar,
    list_options,
    option_key,
    options_of,
    strip_type,
    struct_info,
    struct_types,
)
from promtour._fields import FieldInfo, field_info

__all__ = ["apply_op", "form_tree", "parse_form"]

# --- reading the form back -------------------------------------------------------------

_MISSING = object()


#: The suffix of a checkbox list's hidden input that carries the stored order of its
#: ticked values (``riasec = ["R", "C"]`` is "strongest first": ticking boxes in page
#: order would save ``["C", "R"]``).
ORDER = "[order]"


def form_tree(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Submitted ``cfg.*`` inputs as a nested dict of strings (``x[]`` -> a list)."""
    tree: dict[str, Any] = {}
    orders: list[tuple[dict[str, Any], str, list[str]]] = []  # (parent, key, order)
    for key, value in items:
        if not isinstance(value, str):
            continue
        if key.startswith(JSON_PREFIX):
            key, value = FIELD_PREFIX + key[len(JSON_PREFIX) :], _Json(value)
        if not key.startswith(FIELD_PREFIX):
            continue
        parts = key[len(FIELD_PREFIX) :].split(".")
        ordered = parts[-1].endswith(ORDER)
        if ordered:
            parts[-1] = parts[-1][: -len(ORDER)]
        many = parts[-1].endswith("[]")
        if many:
            parts[-1] = parts[-1][:-2]
        node = tree
        # litestar hands the fields over in no fixed order: a one-input row's presence
        # marker (``blackout.0._``) may come after its value (``blackout.0``), and must
        # not replace it.
        if parts[-1] == PRESENT and len(parts) > 1:
            owner: Any = tree
            for part in parts[:-2]:
                owner = owner.get(part) if isinstance(owner, dict) else None
            if isinstance(owner, dict) and isinstance(owner.get(parts[-2]), str):
                continue
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if ordered:
            try:
                order = json.loads(value)
            except json.JSONDecodeError:
                order = []
            orders.append(
                (node, parts[-1], [str(v) for v in order] if isinstance(order, list) else [])
            )
        elif many:
            bucket = node.setdefault(parts[-1], [])
            if isinstance(bucket, list) and value:
                bucket.append(value)
        else:
            node[parts[-1]] = value
    for node, key, order in orders:
        ticked = node.get(key)
        if isinstance(ticked, list):  # kept ones in their order, newly ticked after them
            rank = {v: n for n, v in enumerate(order)}
            node[key] = sorted(ticked, key=lambda v: rank.get(v, len(rank)))
    return tree


class _Json(str):
    """The text of a JSON box (parsed when converted)."""


def parse_form(config_type: type[Any], items: list[tuple[str, Any]]) -> dict[str, Any]:
    """The raw config table from a submitted form (not yet validated): what msgspec
    then converts, so that its errors point at the form's paths."""
    result = _read_struct(struct_info(config_type), form_tree(items), "")
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
    inner, optional = strip_type(t)
    if isinstance(sent, _Json):
        if not sent.strip():
            return None if optional else _MISSING
        try:
            return json.loads(sent)
        except json.JSONDecodeError:
            raise FormError(path, "This is not valid JSON.") from None
    structs = struct_types(inner)
    if structs is not None and len(structs) == 1:
        return _read_struct(structs[0], sent, path) if isinstance(sent, dict) else None
    if isinstance(inner, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return _read_list(inner.item_type, info, sent, path)
    if isinstance(inner, mi.DictType):
        vt = strip_type(inner.value_type)[0]
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
    options = options_of(inner)
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
        return next((o for o in options if option_key(o) == text), text)
    if type(inner) in TEMPORAL:
        return _iso(text, TEMPORAL[type(inner)])
    return sent if "\n" in sent else text


def _iso(text: str, kind: str) -> str:
    """A browser's date/time value as msgspec reads it: ``10:00`` and
    ``2025-03-04T10:00`` gain their seconds (RFC 3339 requires them)."""
    clock = text.partition("T")[2] if kind == "datetime" else text
    if kind in ("time", "datetime") and clock.count(":") == 1:
        return text + ":00"
    return text


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_list(item_type: mi.Type, info: FieldInfo, sent: Any, path: str) -> Any:
    it, _ = strip_type(item_type)
    structs = struct_types(it)
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
    if (isinstance(it, mi.DictType) or is_scalar(it)) and isinstance(sent, dict):
        # Repeatable one-input groups; an element left empty is no element.
        keys = sorted((k for k in sent if k.isdigit()), key=int)
        read = [_read(item_type, sent[k], f"{path}.{n}") for n, k in enumerate(keys)]
        return [v for v in read if v is not _MISSING and v is not None]
    if isinstance(sent, list):
        options = list_options(it)
        if options is not None:
            return [next((o for o in options if option_key(o) == v), v) for v in sent]
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
    struct: mi.Type | None = struct_info(config_type)
    for part in parts[:-1]:
        parent, struct = _step(parent, struct, part)
        if parent is None:
            return raw
    last = parts[-1]
    if verb in ("add", "set"):
        field_type = _field_type(struct, last)
        target = parent.get(last) if isinstance(parent, dict) else None
        inner = strip_type(field_type)[0] if field_type is not None else None
        element: dict[str, Any] = {}
        if inner is not None and isinstance(inner, mi.ListType):
            structs = struct_types(strip_type(inner.item_type)[0]) or []
            chosen = next(
                (s for s in structs if str(s.tag) == tag), structs[0] if structs else None
            )
            if chosen is not None and chosen.tag_field and chosen.tag is not None:
                element[chosen.tag_field] = chosen.tag
            if not isinstance(target, list):
                target = []
            # A new date or number starts empty; a new group or text as an empty table.
            target.append(None if is_scalar(strip_type(inner.item_type)[0]) else element)
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
    inner = strip_type(t)[0] if t is not None else None
    if isinstance(value, list) and part.isdigit():
        element = value[int(part)] if int(part) < len(value) else None
        item_type = inner.item_type if isinstance(inner, mi.ListType) else None
        structs = struct_types(strip_type(item_type)[0]) if item_type is not None else None
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
