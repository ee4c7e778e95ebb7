"""What is wrong with a table file, in the words every format shares.

A reader reports each problem with its line, keeps the first few in line order
however many there are, and raises them together as one :class:`FormatError`.
The problems any file may have before its format reads it (too large, not
UTF-8) are found here, by :func:`decoded`.
"""

from __future__ import annotations

from dataclasses import dataclass

import destconfig.formats.limits as limits
from destconfig.console import escape

NESTED_TOO_DEEPLY = "the document is nested too deeply"  # deeper than a reader can follow
_QUOTE_MAX = 60


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file: where (1-based line, when known) and why."""

    line: int | None
    reason: str


class Problems:
    """Collects problems, keeping only the first :data:`~limits.MAX_PROBLEMS` in line order.

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
        most = limits.MAX_PROBLEMS
        if len(self._kept) >= 2 * most or (self._full_from is None and len(self._kept) >= most):
            self._prune()

    def _prune(self) -> None:
        most = limits.MAX_PROBLEMS
        self._kept.sort(key=_line_order)  # stable: same-line problems keep their order
        del self._kept[most:]
        if len(self._kept) == most:
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


def too_many_entries(line: int | None) -> Problem:
    """The problem of a table of more than :data:`~limits.MAX_ENTRIES` entries, on the
    line of the first entry beyond them where the reader knows it."""
    return Problem(line, f"the table has more than {limits.MAX_ENTRIES} entries")


_BOM = b"\xef\xbb\xbf"


def decoded(data: bytes) -> str:
    """A file's text (one leading byte order mark dropped); :class:`FormatError` when it
    is too large or not UTF-8, naming the line of the first bad byte."""
    most = limits.MAX_FILE_BYTES
    if len(data) > most:
        raise FormatError([Problem(None, f"the file is larger than {most} bytes")])
    text = data.removeprefix(_BOM)  # before decoding, so that error offsets are the text's
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as error:
        line = text.count(b"\n", 0, error.start) + 1
        raise FormatError([Problem(line, "the line is not valid UTF-8 text")]) from None


def quote(text: str) -> str:
    """Text from a file, for a message: escaped, cut when long, in double quotes."""
    shown = escape(text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "...")
    return f'"{shown}"'
