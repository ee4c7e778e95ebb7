"""File formats of a table: pure ``loads(bytes) -> Table`` / ``dumps(Table) -> bytes``.

The registry names each format and says which file names it claims, so that the
shell and the one-shot commands choose a format the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig.console import escape

if TYPE_CHECKING:
    from destconfig.model import Table

MAX_FILE_BYTES = 64 * 1024 * 1024
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
    collection stays small whatever the order problems are found in.
    """

    def __init__(self) -> None:
        self._kept: list[Problem] = []

    def append(self, problem: Problem) -> None:
        self._kept.append(problem)
        if len(self._kept) >= 2 * MAX_PROBLEMS:
            self._prune()

    def _prune(self) -> None:
        self._kept.sort(key=_line_order)  # stable: same-line problems keep their order
        del self._kept[MAX_PROBLEMS:]

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
