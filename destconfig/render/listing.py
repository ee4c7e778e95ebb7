"""LIST: the summary table (spec §7), as a pure function of the table.

Its columns after the destination are the catalogue's (:data:`~destconfig.settings.COLUMNS`):
each shows a setting's words, ``Default`` where an entry leaves it at Default and
``(Default)`` where the default entry has no such field, except Rate Limiting, which
shows whether any of its settings is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from destconfig import settings
from destconfig.model import Table
from destconfig.settings import Column

DEFAULT_ROW = "(Default)"
_UNSET = "Default"
_HEAD_UPPER = ("", *(column.upper for column in settings.COLUMNS))
_HEAD_LOWER = ("Domain", *(column.lower for column in settings.COLUMNS))


@dataclass(frozen=True)
class _Shown:
    """A column and the settings whose cells it shows, with the words of each."""

    column: Column
    names: tuple[str, ...]
    shows: tuple[Callable[[Any], str], ...]


def _shown(column: Column) -> _Shown:
    cells = [(setting, setting.cell) for setting in settings.SETTINGS if setting.cell]
    mine = [(setting, cell) for setting, cell in cells if cell.column is column]
    return _Shown(
        column,
        tuple(setting.name for setting, _ in mine),
        tuple(cell.show or setting.values.show for setting, cell in mine),
    )


_COLUMNS = tuple(map(_shown, settings.COLUMNS))
# An entry's row after its key depends only on the values of the columns of one setting
# and on whether any setting of the column that sums settings up is set: each such row
# is made once. (There is one such column, Rate Limiting.)
(_SUMMED,) = (shown.names for shown in _COLUMNS if shown.column.any_set is not None)
_SUMMED_VALUES = itemgetter(*_SUMMED)
_NONE_SUMMED = (None,) * len(_SUMMED)
_VALUES = itemgetter(*(shown.names[0] for shown in _COLUMNS if shown.column.any_set is None))


def _cells(values: dict[str, Any], unset: str) -> tuple[str, ...]:
    """The row's cells after its key; *unset* is the word for a setting not set."""
    cells = []
    for shown in _COLUMNS:
        summed = shown.column.any_set
        if summed is not None:
            is_set = any(values.get(name) is not None for name in shown.names)
            cells.append(summed if is_set else unset)
            continue
        value = values.get(shown.names[0])
        cells.append(unset if value is None else shown.shows[0](value))
    return tuple(cells)


def render_list(table: Table) -> str:
    """The LIST table, lines joined with ``\\n``, no trailing newline.

    One pass over the entries, in key order; the cells after the key are made and
    formatted once for each distinct row of them.
    """
    entries = table.entries
    keys = table.sorted_keys()
    key_width = max([len(_HEAD_LOWER[0]), len(DEFAULT_ROW), *map(len, keys)])
    widths = [_width(shown, table) for shown in _COLUMNS]
    row = _row_format([key_width, *widths]).format
    lines = [row(*_HEAD_UPPER).rstrip(), row(*_HEAD_LOWER).rstrip()]
    lines.append(" ".join("=" * width for width in [key_width, *widths]))
    tail = _row_format(widths).format
    made: dict[tuple[Any, bool], str] = {}  # each distinct row after the key
    for key in keys:
        values = entries[key].__dict__
        same = (_VALUES(values), _SUMMED_VALUES(values) != _NONE_SUMMED)
        text = made.get(same)
        if text is None:
            text = made[same] = tail(*_cells(values, _UNSET)).rstrip()
        lines.append(f"{key:<{key_width}} {text}")
    lines.append(row(DEFAULT_ROW, *_cells(table.default.__dict__, DEFAULT_ROW)).rstrip())
    return "\n".join(lines)


def _width(shown: _Shown, table: Table) -> int:
    """A column's width; a column of names is as wide as the longest name shown.

    The names an entry may show (bounce profiles) are known profiles: unless a known
    one is longer than the column, the entries need not be looked at.
    """
    least = shown.column.width
    if not shown.column.names or all(len(name) <= least for name in table.bounce_profiles):
        return least
    (name,) = shown.names
    names = {entry.__dict__[name] for entry in table.entries.values()}
    return max([least, *(len(value) for value in names if value is not None)])


def _row_format(widths: tuple[int, ...] | list[int]) -> str:
    """A format string of left-aligned columns one space apart (one per table: fast)."""
    return " ".join(f"{{:<{width}}}" for width in widths)


def aligned(cells: tuple[str, ...], widths: tuple[int, ...] | list[int]) -> str:
    """Left-aligned columns, one space apart, no trailing spaces."""
    if len(cells) != len(widths):
        raise ValueError("one width per cell")
    return _row_format(widths).format(*cells).rstrip()
