"""Running a config field's action (:class:`promtour._fields.FieldAction`) as a job.

The action's button posts the whole form (``_op=action:<path>``), so what was typed
and not saved yet goes with it. The job runs as a task of this process; the POST waits
up to :data:`ANSWER_WITHIN` seconds and, for a quick answer (an empty script is
refused at once), shows the form again itself. A longer job gets a progress page that
refreshes itself every second (no JavaScript needed) until the job is done, then shows
the form with the values the action returned, unsaved, for the manager to check and
save. Nothing is saved by an action but the media files it stores.

Jobs live in the process that started them (a console behind several processes needs
sticky sessions for the progress page) and are forgotten :data:`KEEP_SECONDS` after
they end; only the person who started a job can see it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Response
from promtour._console.form_types import FormContext
from promtour._console.forms import build_form, find_node
from promtour._console.media import list_media, upload_media
from promtour._console.messages import FieldError, describe_problem
from promtour._console.ui import Console
from promtour._fields import ActionRequest, ActionResult, FieldAction
from promtour._models import Tour
from promtour._tours import TourState

__all__ = [
    "ANSWER_WITHIN",
    "ERROR_MESSAGE",
    "KEEP_SECONDS",
    "ActionJob",
    "ShowForm",
    "action_result",
    "find_action",
    "form_context",
    "get_job",
    "start_action",
    "start_job",
]

log = logging.getLogger(__name__)

#: How long the POST waits for the action before answering with a progress page.
ANSWER_WITHIN = 0.5
#: How long a finished job's result can still be opened.
KEEP_SECONDS = 15 * 60

ERROR_MESSAGE = "The action failed; nothing was changed. Try again, or tell the administrator."


class ActionJob(msgspec.Struct, kw_only=True):
    """One run of a field's action."""

    id: str
    #: Who may see it: the token id of the person who started it, and where.
    owner: str
    where: tuple[str, str, str]
    path: str
    label: str
    started: float
    #: The values as typed when the button was pressed.
    values: dict[str, Any]
    note: str = ""
    #: The action raised: the console says :data:`ERROR_MESSAGE` in its language.
    failed: bool = False
    ended: float | None = None
    result: ActionResult | None = None
    task: Any = None

    @property
    def done(self) -> bool:
        return self.ended is not None

    @property
    def seconds(self) -> int:
        return int((self.ended or time.monotonic()) - self.started)


_JOBS: dict[str, ActionJob] = {}

#: The console's config form page (``PluginPages._form``): values, status, errors,
#: unsaved, note.
ShowForm = Callable[..., Awaitable[Response[str]]]


async def form_context(c: Console, tour: Tour, plugin: str) -> FormContext:
    """The tour's languages, stations and media for a plugin's form, with the plugin's
    catalog for its labels and the console's for the rest."""
    items = await list_media(c.platform, tour)
    return FormContext(
        langs=list(tour.languages),
        stations=[(s.id, f"{s.number}. {c.text(s.name, s.id)}") for s in tour.stations],
        media=[i.name for i in items],
        label=c.platform.translations.translator(c.lang, plugin),
        console=c._,
    )


def find_action(
    config_type: type[Any], values: dict[str, Any], path: str, ctx: FormContext
) -> FieldAction | None:
    """The action of the field at ``path`` of the form, if it has one."""
    node = find_node(build_form(config_type, values, ctx), path)
    return node.action if node is not None and isinstance(node.action, FieldAction) else None


def _forget_old() -> None:
    now = time.monotonic()
    for job_id, job in list(_JOBS.items()):
        if job.ended is not None and now - job.ended > KEEP_SECONDS:
            del _JOBS[job_id]


async def start_job(
    action: FieldAction,
    request: ActionRequest,
    *,
    owner: str,
    where: tuple[str, str, str],
    label: str,
) -> ActionJob:
    """Start the action; returns once it is done or :data:`ANSWER_WITHIN` has passed."""
    _forget_old()
    job = ActionJob(
        id=secrets.token_urlsafe(16),
        owner=owner,
        where=where,
        path=request.path,
        label=label,
        started=time.monotonic(),
        values=request.values,
        note=request._(action.working) if action.working else "",
    )

    def report(text: str) -> None:
        job.note = text

    request._report = report

    async def run() -> None:
        try:
            result = await action.run(request)
        except Exception:
            # A plugin's failure is the plugin's: logged, shown as a sentence, and the
            # form comes back with what was typed.
            log.exception("field action %s of %s failed", request.path, request.plugin)
            result, job.failed = ActionResult(), True
        job.result = result
        job.ended = time.monotonic()

    job.task = asyncio.create_task(run())
    _JOBS[job.id] = job
    await asyncio.wait({job.task}, timeout=ANSWER_WITHIN)
    return job


def get_job(job_id: str, owner: str, where: tuple[str, str, str]) -> ActionJob | None:
    """The job, for the person who started it at that place only."""
    job = _JOBS.get(job_id)
    if job is None or job.owner != owner or job.where != where:
        return None
    return job


async def start_action(
    c: Console, state: TourState, plugin: str, raw: dict[str, Any], path: str, show: ShowForm
) -> Response[Any]:
    """A field's button (:class:`~promtour._fields.FieldAction`): run it as a job; a
    quick answer is shown at once, a slow one gets the progress page."""
    info = c.platform.plugins.infos[plugin]
    ctx = await form_context(c, state.tour, plugin)
    action = find_action(info.config, raw, path, ctx)
    if action is None:
        error = FieldError(path="", where="", text=c._("This button does nothing here."))
        return await show(c, state, plugin, raw, status=400, errors=[error])
    tour = state.tour

    async def save_media(name: str, data: bytes) -> str:
        return (await upload_media(c.platform, tour, name, data)).name

    request = ActionRequest(
        tour=tour,
        plugin=plugin,
        values=raw,
        path=path,
        lang=c.lang,
        translate=ctx.label,
        save_media=save_media,
        report=lambda text: None,
    )
    job = await start_job(
        action,
        request,
        owner=c.principal.token_id if c.principal else "",
        where=(tour.enterprise, tour.id, plugin),
        label=ctx.label(action.label),
    )
    if job.done:
        return await action_result(c, state, plugin, job, show)
    return c.redirect(f"{c.base()}/tours/{tour.id}/plugins/{plugin}/actions/{job.id}")


async def action_result(
    c: Console, state: TourState, plugin: str, job: ActionJob, show: ShowForm
) -> Response[str]:
    """The form again: with the action's values (unsaved) and its message, or as
    typed with its problems."""
    info = c.platform.plugins.infos[plugin]
    result = job.result
    if job.failed or result is None:
        error = FieldError(path="", where="", text=c._(ERROR_MESSAGE))
        return await show(c, state, plugin, job.values, status=500, errors=[error])
    ctx = await form_context(c, state.tour, plugin)
    if result.problems:
        errors = [describe_problem(info.config, job.values, p, ctx) for p in result.problems]
        return await show(c, state, plugin, job.values, status=400, errors=errors)
    note = ctx.label(result.message) if result.message else ""
    try:
        note = note.format(**result.message_values)
    except (KeyError, IndexError, ValueError):
        pass
    values = result.values if result.values is not None else job.values
    return await show(c, state, plugin, values, unsaved=True, note=note)
