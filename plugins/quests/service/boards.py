"""The daily leaderboards: a projection of visitor records, one board per local day.

An entry is replaced only by a newer version of the visitor's record, so applying the
projection again (the event consumer repairs a request that died half-way) or out of
order changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from promtour.plugin import PluginContext, utcnow
from promtour.plugins.quests.records import Board, BoardEntry, VisitorState, board_key
from promtour.plugins.quests.service.visitors import load

__all__ = ["get_board", "set_group", "update_board"]


async def get_board(ctx: PluginContext, day: str) -> Board | None:
    return await ctx.tour_store.get(board_key(day), Board)


async def _update(ctx: PluginContext, day: str, change: Callable[[Board], None]) -> None:
    def apply(current: Board | None) -> Board:
        board = current or Board(day=day)
        change(board)
        return board

    await ctx.tour_store.update(board_key(day), Board, apply)


def _entry_current(entry: BoardEntry | None, state: VisitorState, group: str | None) -> bool:
    return entry is not None and entry.version >= state.version and entry.group == group


async def update_board(ctx: PluginContext, state: VisitorState, group: str | None) -> None:
    """Put the visitor's score on their day's board (once they solved something)."""
    if state.solved == 0:
        return
    board = await get_board(ctx, state.day)
    if board is not None and _entry_current(board.entries.get(state.visitor), state, group):
        return

    def change(current: Board) -> None:
        entry = current.entries.get(state.visitor)
        if entry is not None and entry.version >= state.version:
            entry.group = group
            return
        reached = entry.reached if entry is not None and entry.score == state.score else utcnow()
        current.entries[state.visitor] = BoardEntry(
            nickname=state.nickname,
            score=state.score,
            solved=state.solved,
            group=group,
            team=state.team,
            reached=reached,
            version=state.version,
        )

    await _update(ctx, state.day, change)


async def set_group(ctx: PluginContext, visitor: str, group: str | None) -> None:
    """A visitor joined a group: move their board entry to it."""
    state = await load(ctx, visitor)
    if state is None or state.solved == 0:
        return
    board = await get_board(ctx, state.day)
    entry = board.entries.get(visitor) if board else None
    if entry is None or entry.group == group:
        return

    def change(current: Board) -> None:
        found = current.entries.get(visitor)
        if found is not None:
            found.group = group

    await _update(ctx, state.day, change)
