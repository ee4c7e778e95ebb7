"""DETAIL: one block per entry (spec §7), as pure functions of the table.

A block has a line for each setting of the catalogue's DETAIL order
(:data:`~destconfig.settings.IN_DETAIL`): the entry's own words, or
``Default (EFFECTIVE)`` with the default entry's. A setting the default entry has
no field for (the bounce profile) reads ``Default`` in an entry's block and
``(Default)`` in the default's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


_LINES = tuple(map(_line, settings.IN_DETAIL))


class _Blocks:
    """The blocks of a table with this default entry: its words are worked out once,
    and each distinct line once."""

    def __init__(self, default: DefaultEntry) -> None:
        values = default.__dict__
        # The default entry's words on each line (None where it has no such setting), and
        # the lines made so far by value, starting with the line of a setting left at Default.
        self._effective = [
            line.words(line.value(values)) if line.in_default else None for line in _LINES
        ]
        self._made: list[dict[Any, str]] = [
            {line.unset: line.start + (f"Default ({word})" if word is not None else "Default")}
            for line, word in zip(_LINES, self._effective, strict=True)
        ]

    def entry(self, key: str, entry: Entry) -> str:
        values = entry.__dict__
        texts = [key]
        for line, made in zip(_LINES, self._made, strict=True):
            value = line.value(values)
            text = made.get(value)
            if text is None:
                text = made[value] = line.start + line.words(value)
            texts.append(text)
        return "\n".join(texts)

    def default(self) -> str:
        texts = [DEFAULT_ROW]
        for line, word in zip(_LINES, self._effective, strict=True):
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
