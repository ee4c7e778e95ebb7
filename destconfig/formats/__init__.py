"""File formats of a table: pure ``loads(bytes) -> Table`` / ``dumps(Table) -> bytes``.

The registry names each format and says which file names it claims, so that the
shell and the one-shot commands choose a format the same way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig.console import escape

if TYPE_CHECKING:
    from destconfig.model import Table

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 250_000  # the most entries a table may have (the store commits no more)
MAX_ERRORS = 10  # the shell shows this many
MAX_PROBLEMS = 100  # a format keeps at most this many, the first in line order
_QUOTE_MAX = 60
NESTED_TOO_DEEPLY = "the document is nested too deeply"  # deeper than a reader can follow


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file: where (1-based line, when known) and why."""

    line: int | None
    reason: str


class Problems:
    """Collects problems, keeping only the first :data:`MAX_PROBLEMS` in line order.

    A hostile file may have a problem on every one of millions of lines; the
    collection stays small whatever the order problems are found in. Once it is
    full, :meth:`wanted` says which lines can no longer add a kept problem, so that
    a reader stops working out messages (a suggestion, a quote) nobody will see.
    """

    def __init__(self) -> None:
        self._kept: list[Problem] = []
        self._full_from: int | None = None  # a problem on this line or after is not kept

    def wanted(self, line: int | None) -> bool:
        """Whether a problem on *line* could still be among the kept ones.

        Once ``False`` for a line, it stays so: more problems only push it further back.
        """
        return self._full_from is None or (line or 0) < self._full_from

    def append(self, problem: Problem) -> None:
        if not self.wanted(problem.line):
            return
        self._kept.append(problem)
        if len(self._kept) >= 2 * MAX_PROBLEMS or (
            self._full_from is None and len(self._kept) >= MAX_PROBLEMS
        ):
            self._prune()

    def _prune(self) -> None:
        self._kept.sort(key=_line_order)  # stable: same-line problems keep their order
        del self._kept[MAX_PROBLEMS:]
        if len(self._kept) == MAX_PROBLEMS:
            # A later problem on the last kept line comes after it (the sort is stable).
            self._full_from = _line_order(self._kept[-1])

    def __bool__(self) -> bool:
        return bool(self._kept)

    def in_order(self) -> list[Problem]:
        self._prune()
        return list(self._kept)


def _line_order(problem: Problem) -> int:
    return problem.line or 0


class FormatError(ValueError):
    """A file that cannot be read as a table."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.reason for p in problems))
        self.problems = problems


_BOM = b"\xef\xbb\xbf"


def decoded(data: bytes) -> str:
    """A file's text (one leading byte order mark dropped); :class:`FormatError` when it
    is too large or not UTF-8, naming the line of the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise FormatError([Problem(None, f"the file is larger than {MAX_FILE_BYTES} bytes")])
    text = data.removeprefix(_BOM)  # before decoding, so that error offsets are the text's
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as error:
        line = text.count(b"\n", 0, error.start) + 1
        raise FormatError([Problem(line, "the line is not valid UTF-8 text")]) from None


def too_many_entries(line: int | None) -> Problem:
    """The problem of a table of more than :data:`MAX_ENTRIES` entries, on the line of
    the first entry beyond them where the reader knows it."""
    return Problem(line, f"the table has more than {MAX_ENTRIES} entries")


INT_DIGITS = 4300  # Python's default int-string conversion limit (sys.int_info)


def digits_most() -> int:
    """The most digits a number in a file may have in a row.

    Python refuses to convert a longer decimal integer (``ValueError``, its limit
    may be lowered), and where the limit is lifted conversion takes time quadratic
    in the length: so never more than the default limit either.
    """
    limit = sys.get_int_max_str_digits()
    return min(limit, INT_DIGITS) if limit else INT_DIGITS


def number_too_long(line: int | None) -> Problem:
    return Problem(line, f"a number has more than {digits_most()} digits")


_DIGIT_OR_NOT = bytes(ord("d") if chr(byte) in "0123456789_" else ord(".") for byte in range(256))


def long_digit_runs(text: str) -> list[tuple[int, int]]:
    """Where *text* has a run of digits (``_`` between them allowed, as TOML writes
    numbers) of more than :func:`digits_most` digits, wherever it is: in a number, a
    string, a comment or a key.

    Files almost never have one, so the text is screened first in bytes (a table
    translation and a substring search, both in C); only a text that may have one
    is searched for where.
    """
    most = digits_most()
    if text.encode("utf-8", "surrogatepass").translate(_DIGIT_OR_NOT).find(b"d" * (most + 1)) < 0:
        return []
    return [
        found.span()
        for found in _DIGIT_RUN.finditer(text)
        if found.end() - found.start() - found.group().count("_") > most
    ]


_DIGIT_RUN = re.compile(r"(?<![0-9_])[0-9_]+")
_LETTERS = str.maketrans("0123456789", "ghijklmnop")
_RUN_KEPT = 8  # the longest escape of hex digits (TOML's \UXXXXXXXX) stays whole


def without_long_numbers(text: str, runs: list[tuple[int, int]]) -> str:
    """*text* with each run of :func:`long_digit_runs` made letters but its first few
    characters: a number of such a run no longer parses (a parser then says where),
    while a string, a comment or a key stays one, distinct keys stay distinct and
    escapes stay whole."""
    parts = []
    at = 0
    for start, end in runs:
        kept = start + _RUN_KEPT
        parts += [text[at:kept], text[kept:end].translate(_LETTERS)]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def quote(text: str) -> str:
    """Text from a file, for a message: escaped, cut when long, in double quotes."""
    shown = escape(text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "...")
    return f'"{shown}"'


@dataclass(frozen=True)
class Format:
    name: str
    loads: Callable[[bytes], Table]
    dumps: Callable[[Table], bytes]
    suffixes: tuple[str, ...]
    full: bool  # carries the whole configuration (settings, certificates), not just the table
    description: str


def formats() -> dict[str, Format]:
    """The registry, by name (built on call: it imports every format)."""
    from destconfig.formats import esa, json, toml

    return {
        fmt.name: fmt
        for fmt in (
            Format("esa", esa.loads, esa.dumps, (), False, "the appliance's table file"),
            Format("toml", toml.loads, toml.dumps, (".toml",), True, "TOML, as config.toml"),
            Format("json", json.loads, json.dumps, (".json",), True, "JSON, as config.toml"),
        )
    }


def for_name(file_name: str) -> Format:
    """The format a file name asks for: ``.toml`` and ``.json`` by suffix, else ``esa``."""
    lower = file_name.lower()
    registry = formats()
    for fmt in registry.values():
        if any(lower.endswith(suffix) for suffix in fmt.suffixes):
            return fmt
    return registry["esa"]


def imported(current: Table, loaded: Table, fmt: Format) -> Table:
    """The session's table after importing *loaded*.

    A full format replaces the whole configuration. The appliance's table file
    replaces the default entry and the entries; the global settings stay, and the
    profiles the file uses join the known ones.
    """
    if fmt.full:
        return loaded
    profiles = tuple(sorted(set(current.bounce_profiles) | set(loaded.bounce_profiles)))
    return current.model_copy(
        update={"default": loaded.default, "entries": loaded.entries, "bounce_profiles": profiles}
    )
