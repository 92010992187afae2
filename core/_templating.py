"""Cheaper jinja2 plumbing for every page and every plugin panel, same output.

A station page renders five or more templates (the page, its includes, each plugin's
panel), and on each of them jinja2 spends more time in two helpers than in the
template's own code (bench/breakdown.py, docs/performance.md):

- ``escape``: every ``{{ value }}`` of an autoescaped template goes through
  markupsafe's ``escape``, which builds the result with ``Markup(...)`` and its
  Python-level ``__new__``. :func:`escape` builds the same ``Markup`` directly.
- ``Context.call``: every function called from a template (``_()``, ``text()``,
  ``page.text()``...) is checked for ``pass_context`` and friends with a
  ``hasattr`` that fails (an exception, caught) two times per call.
  :class:`FastContext` does that check with a dict lookup for plain Python functions
  and methods, and hands everything else to jinja2's own ``Context.call``.

Together they take about a third off the rendering time of the demo station page and
its three plugin panels. ``Platform`` installs both on its template environment.
"""

from __future__ import annotations

import types
from typing import Any

import jinja2
import markupsafe
from jinja2.runtime import Context
from jinja2.utils import internalcode
from markupsafe import Markup

__all__ = ["FastContext", "FastTemplate", "escape", "install"]

#: markupsafe's C escaper (markupsafe 3); without it, markupsafe's escape is kept.
_escape_inner: Any = getattr(markupsafe, "_escape_inner", None)
_new_str = str.__new__
_FUNCTION = types.FunctionType
_METHOD = types.MethodType
_BUILTIN = types.BuiltinFunctionType


def escape(value: Any, /) -> Markup:
    """markupsafe's ``escape``, without going through ``Markup.__new__``.

    Same result for every input: ``str`` is escaped, ``Markup`` is already safe,
    anything with ``__html__`` is asked for it, anything else is escaped as ``str``."""
    kind = type(value)
    if kind is str:
        return _new_str(Markup, _escape_inner(value))
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return _new_str(Markup, _escape_inner(str(value)))


class FastTemplate(jinja2.Template):
    """A template whose compiled code escapes with :func:`escape`."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: types.CodeType,
        globals: Any,
        uptodate: Any = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        # The compiled module's functions (root, blocks, macros) share these globals,
        # where ``from jinja2.runtime import escape`` put markupsafe's escape.
        template.root_render_func.__globals__["escape"] = escape
        return template


class FastContext(Context):
    """A context whose ``call`` skips jinja2's ``pass_context`` probing for plain
    functions and methods that carry no ``jinja_pass_arg`` (what that probing finds
    for them anyway)."""

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        kind = type(__obj)
        if kind is _FUNCTION:
            plain = "jinja_pass_arg" not in __obj.__dict__
        elif kind is _METHOD:
            func = __obj.__func__
            plain = type(func) is _FUNCTION and "jinja_pass_arg" not in func.__dict__
        else:
            plain = kind is _BUILTIN
        if not plain:
            return Context.call(__self, __obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


def install(environment: jinja2.Environment) -> jinja2.Environment:
    """Use the cheaper template and context classes on ``environment`` (before any
    template is loaded)."""
    if _escape_inner is not None:
        environment.template_class = FastTemplate
    environment.context_class = FastContext
    return environment
