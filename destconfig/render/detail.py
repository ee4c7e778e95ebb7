"""DETAIL: one block per entry (spec §7), as pure functions of the table.

A block has a line for each setting of a DETAIL order (the catalogue's
:data:`~destconfig.settings.IN_DETAIL` unless a release's is given): the entry's own words, or
``Default (EFFECTIVE)`` with the default entry's. A setting the default entry has
no field for (the bounce profile) reads ``Default`` in an entry's block and
``(Default)`` in the default's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from destconfig import settings
from destconfig.model import DefaultEntry, Entry, Table
from destconfig.render.listing import DEFAULT_ROW

_LABEL_WIDTH = 32
_INDENT = "    "


@dataclass(frozen=True)
class _Line:
    start: str  # the indent and the label, up to the words
    value: Callable[[dict[str, Any]], Any]  # the line's value in an entry's fields
    unset: Any  # that value where the entry leaves the setting at Default
    words: Callable[[Any], str]
    in_default: bool  # the default entry has the setting


def _line(setting: settings.Setting) -> _Line:
    line = setting.line
    if line is None:
        raise ValueError(f"{setting.name} has no DETAIL line")
    names = (setting.name, *line.also)
    show = line.show or setting.values.show
    return _Line(
        f"{_INDENT}{(line.label + ':').ljust(_LABEL_WIDTH)} ",
        itemgetter(*names),
        None if len(names) == 1 else (None,) * len(names),
        show if len(names) == 1 else lambda values: show(*values),
        setting.name in DefaultEntry.model_fields,
    )


Order = tuple[settings.Setting, ...]


@cache
def _lines(order: Order) -> tuple[_Line, ...]:
    return tuple(map(_line, order))


class _Blocks:
    """The blocks of a table with this default entry: its words are worked out once,
    and each distinct line once."""

    def __init__(self, default: DefaultEntry, order: Order = settings.IN_DETAIL) -> None:
        self._lines = _lines(order)
        values = default.__dict__
        # The default entry's words on each line (None where it has no such setting), and
        # the lines made so far by value, starting with the line of a setting left at Default.
        self._effective = [
            line.words(line.value(values)) if line.in_default else None for line in self._lines
        ]
        self._made: list[dict[Any, str]] = [
            {line.unset: line.start + (f"Default ({word})" if word is not None else "Default")}
            for line, word in zip(self._lines, self._effective, strict=True)
        ]

    def entry(self, key: str, entry: Entry) -> str:
        values = entry.__dict__
        texts = [key]
        for line, made in zip(self._lines, self._made, strict=True):
            value = line.value(values)
            text = made.get(value)
            if text is None:
                text = made[value] = line.start + line.words(value)
            texts.append(text)
        return "\n".join(texts)

    def default(self) -> str:
        texts = [DEFAULT_ROW]
        for line, word in zip(self._lines, self._effective, strict=True):
            texts.append(line.start + (DEFAULT_ROW if word is None else word))
        return "\n".join(texts)


def render_entry(key: str, entry: Entry, default: DefaultEntry) -> str:
    """An entry's block: its own values, or ``Default (EFFECTIVE)``."""
    return _Blocks(default).entry(key, entry)


def render_default(default: DefaultEntry) -> str:
    return _Blocks(default).default()


def render_all(table: Table) -> str:
    """Every entry in LIST order, then the default; blocks separated by an empty line."""
    blocks = _Blocks(table.default)
    entries = table.entries
    texts = [blocks.entry(key, entries[key]) for key in table.sorted_keys()]
    texts.append(blocks.default())
    return "\n\n".join(texts)


def render_detail(table: Table, keys: Sequence[str | None], order: Order) -> str:
    """The blocks of *keys* (``None``: the default entry) with *order*'s lines, separated
    by an empty line: a release's DETAIL."""
    blocks = _Blocks(table.default, order)
    entries = table.entries
    return "\n\n".join(
        blocks.default() if key is None else blocks.entry(key, entries[key]) for key in keys
    )
