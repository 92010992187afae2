"""A plugin's per-tour config form, generated from its msgspec config Struct.

Simple fields get inputs: a bool a checkbox, an int or float a number input, a str a
text input, a Literal or Enum a select. Everything else (lists of missions, nested
tables, translated texts) is edited as TOML in one textarea for that plugin's table,
so any config a plugin can declare can be edited without code in the console.

Parsing never guesses: a value that is not a number stays a string, and msgspec's
error names the field (``Expected `int`, got `str` - at `$.points```).
"""

from __future__ import annotations

import enum
import re
import tomllib
from typing import Any

import msgspec
import msgspec.inspect as mi
import tomli_w
from promtour.errors import ConfigError

__all__ = ["FIELD_PREFIX", "FormField", "config_values", "error_field", "form_fields", "parse_form"]

FIELD_PREFIX = "cfg."
TOML_FIELD = "cfg_toml"


class FormField(msgspec.Struct, kw_only=True):
    name: str
    #: bool, int, float, str or choice
    kind: str
    value: Any = None
    choices: list[str] = msgspec.field(default_factory=list)
    required: bool = False
    optional: bool = False
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: str = ""
    pattern: str = ""
    max_length: int | None = None


def _unwrap(t: mi.Type) -> tuple[mi.Type, str]:
    help_text = ""
    while isinstance(t, mi.Metadata):
        extra = t.extra_json_schema or {}
        help_text = str(extra.get("description") or extra.get("title") or help_text)
        t = t.type
    return t, help_text


def _simple(t: mi.Type) -> tuple[mi.Type, bool] | None:
    """The scalar type of a field and whether it may be None; None if not simple."""
    optional = False
    if isinstance(t, mi.UnionType):
        others = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(others) != 1 or len(others) == len(t.types):
            return None
        optional, t = True, _unwrap(others[0])[0]
    if isinstance(t, mi.BoolType | mi.IntType | mi.FloatType | mi.StrType):
        return t, optional
    if isinstance(t, mi.LiteralType) and all(isinstance(v, str | int) for v in t.values):
        return t, optional
    if isinstance(t, mi.EnumType) and all(isinstance(m.value, str | int) for m in t.cls):
        return t, optional
    return None


def _struct_info(config_type: type[Any]) -> mi.StructType:
    info = mi.type_info(config_type)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{config_type} is not a msgspec Struct")
    return info


def config_values(config_type: type[Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """The config as plain values with defaults filled in (raw as is if it is invalid)."""
    try:
        return msgspec.to_builtins(msgspec.convert(raw or {}, config_type, str_keys=True))
    except msgspec.ValidationError:
        return dict(raw or {})


def form_fields(config_type: type[Any], values: dict[str, Any]) -> tuple[list[FormField], str]:
    """The inputs for the simple fields, and the TOML of the other fields."""
    fields: list[FormField] = []
    complex_values: dict[str, Any] = {}
    for field in _struct_info(config_type).fields:
        t, help_text = _unwrap(field.type)
        simple = _simple(t)
        value = values.get(field.encode_name)
        if simple is None:
            if value is not None:
                complex_values[field.encode_name] = value
            continue
        t, optional = simple
        form = FormField(
            name=field.encode_name,
            kind="str",
            value=value,
            required=field.required,
            optional=optional,
            help=help_text,
        )
        if isinstance(t, mi.BoolType):
            form.kind = "bool"
        elif isinstance(t, mi.IntType | mi.FloatType):
            form.kind = "int" if isinstance(t, mi.IntType) else "float"
            form.step = "1" if isinstance(t, mi.IntType) else "any"
            form.minimum = t.ge if t.ge is not None else t.gt
            form.maximum = t.le if t.le is not None else t.lt
        elif isinstance(t, mi.StrType):
            form.pattern = t.pattern or ""
            form.max_length = t.max_length
        elif isinstance(t, mi.LiteralType):
            form.kind = "choice"
            form.choices = [str(v) for v in t.values]
        elif isinstance(t, mi.EnumType):
            form.kind = "choice"
            form.choices = [str(m.value) for m in t.cls]
            if isinstance(value, enum.Enum):
                form.value = value.value
        if form.kind == "choice" and value is not None:
            form.value = str(form.value)
        fields.append(form)
    text = tomli_w.dumps(_toml_safe(complex_values)) if complex_values else ""
    return fields, text


def _toml_safe(value: Any) -> Any:
    """TOML has no null: drop None values."""
    if isinstance(value, dict):
        return {k: _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value if v is not None]
    return value


def _number(text: str, kind: str) -> Any:
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        return text  # msgspec names the field and the expected type


def parse_form(
    plugin: str, config_type: type[Any], form: dict[str, str], toml_text: str
) -> dict[str, Any]:
    """The raw config table from a submitted form (not yet validated).

    Keys in the TOML textarea win over the inputs above it."""
    raw: dict[str, Any] = {}
    values = config_values(config_type, {})
    fields, _ = form_fields(config_type, values)
    for field in fields:
        sent = form.get(FIELD_PREFIX + field.name)
        if field.kind == "bool":
            raw[field.name] = sent is not None and sent not in ("", "false", "0", "off")
            continue
        if sent is None:
            continue
        text = sent.strip()
        if text == "":
            if field.optional:
                raw[field.name] = None
            elif field.kind == "str":
                raw[field.name] = ""
            # An empty number or choice keeps the default (or is reported as missing).
            continue
        if field.kind in ("int", "float"):
            raw[field.name] = _number(text, field.kind)
        elif field.kind == "choice":
            raw[field.name] = _choice(config_type, field.name, text)
        else:
            raw[field.name] = sent
    if toml_text.strip():
        try:
            extra = tomllib.loads(toml_text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(plugin, f"the TOML settings are not valid TOML: {exc}") from None
        raw.update(extra)
    return raw


def _choice(config_type: type[Any], name: str, text: str) -> Any:
    for field in _struct_info(config_type).fields:
        if field.encode_name != name:
            continue
        t = _unwrap(field.type)[0]
        simple = _simple(t)
        if simple is None:
            break
        t = simple[0]
        if isinstance(t, mi.LiteralType):
            options: list[Any] = list(t.values)
        elif isinstance(t, mi.EnumType):
            options = [m.value for m in t.cls]
        else:
            break
        for option in options:
            if str(option) == text:
                return option
    return text


ERROR_AT = re.compile(r"at `\$\.([A-Za-z0-9_]+)")


def error_field(message: str) -> str | None:
    """The top-level field a msgspec error message points at (``$.points`` -> points)."""
    match = ERROR_AT.search(message)
    return match.group(1) if match else None
