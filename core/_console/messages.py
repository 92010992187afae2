"""Config errors as sentences in the console's language, naming the field as the form
labels it.

msgspec says ``Expected `int` <= 20 - at `$.missions[0].max_attempts```; the manager
reads «Задания › Задание 1 › Попыток: Не больше 20». A plugin's own
:class:`~promtour.plugin.Problem` is translated with the plugin's catalog; a plain
English string from an older plugin is shown as it is (with the plugin's name).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from promtour._console.forms import FormContext, error_path, path_labels
from promtour._fields import Problem
from promtour._models import SLUG

__all__ = ["FieldError", "describe_problem", "describe_validation", "human_sentence"]


class FieldError(msgspec.Struct, kw_only=True):
    """One refused value: the form path (to mark the input) and the sentence."""

    path: str
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}" if self.where else self.text


_BOUND = re.compile(r"^Expected `(?:int|float|number)(?: \| null)?` (<=|>=|<|>) (\S+)$")
_LENGTH = re.compile(r"^Expected `(str|array|object)(?: \| null)?` of length (<=|>=) (\d+)$")
_TYPE = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_REGEX = re.compile(r"^Expected `str(?: \| null)?` matching regex '(.*)'$")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`$")


def human_sentence(what: str, _: Any) -> str:
    """msgspec's ``what`` (without the path) as a short sentence for a person."""
    if what.startswith("Object missing required field"):
        return str(_("Fill this in."))
    if m := _BOUND.match(what):
        op, n = m.group(1), m.group(2)
        n = n[:-2] if n.endswith(".0") else n
        msgid = {
            "<=": "No more than {n}.",
            ">=": "At least {n}.",
            "<": "Less than {n}.",
            ">": "More than {n}.",
        }[op]
        return str(_(msgid)).format(n=n)
    if m := _LENGTH.match(what):
        kind, op, n = m.groups()
        if kind == "str":
            msgid = "At most {n} characters." if op == "<=" else "At least {n} characters."
        else:
            msgid = "At most {n} entries." if op == "<=" else "Choose or add at least {n}."
        return str(_(msgid)).format(n=n)
    if m := _REGEX.match(what):
        if m.group(1) == SLUG:
            return str(_("Use lower-case Latin letters, digits, “-” and “_” (e.g. press-1)."))
        return str(_("This value does not have the expected form."))
    if what.startswith("Invalid enum value") or what.startswith("Invalid value"):
        return str(_("Choose one of the offered values."))
    if m := _UNKNOWN.match(what):
        return str(_("Unknown setting “{name}”.")).format(name=m.group(1))
    if m := _TYPE.match(what):
        expected = m.group(1)
        if expected.startswith("int"):
            return str(_("Enter a whole number."))
        if expected.startswith(("float", "number")):
            return str(_("Enter a number."))
        return str(_("This value is not accepted."))
    return str(_("This value is not accepted.")) + f" ({what})"


def _where(config_type: type[Any], values: dict[str, Any], path: str, ctx: FormContext) -> str:
    return " › ".join(path_labels(config_type, values, path, ctx)) if path else ""


def describe_validation(
    config_type: type[Any], values: dict[str, Any], exc: msgspec.ValidationError, ctx: FormContext
) -> FieldError:
    what, path = error_path(str(exc))
    return FieldError(
        path=path,
        where=_where(config_type, values, path, ctx),
        text=human_sentence(what, ctx.console),
    )


def describe_problem(
    config_type: type[Any], values: dict[str, Any], problem: object, ctx: FormContext
) -> FieldError:
    """A plugin's ``validate_config`` answer: a :class:`Problem` translated with the
    plugin's catalog; a plain string as it is."""
    if not isinstance(problem, Problem):
        return FieldError(path="", where="", text=str(problem))
    path = re.sub(r"\[(\d+)\]", r".\1", problem.path).strip(".")
    text = ctx.label(problem.message)
    try:
        text = text.format(**problem.values)
    except (KeyError, IndexError, ValueError):
        text = str(problem)  # a broken translation must not hide the problem
    return FieldError(path=path, where=_where(config_type, values, path, ctx), text=text)
