"""How TOML text is read: fast where it can be, bounded where it must be, worded by tomllib.

:func:`parse` gives the document of a text and :func:`in_chunks` the document of
``config.toml``'s layout a few thousand entries at a time; both raise
:class:`FormatError` with the problems a person is shown. Behind them:

- toml-rs parses (compiled, several times faster than tomllib, which matters for
  tables of 100,000 entries), held to TOML 1.0 as tomllib is; a text it refuses is
  read again by tomllib, whose message is the one shown.
- toml-rs recurses on the native stack, where a deep nesting would end the process,
  so it runs on a thread whose stack holds the text's nesting (:func:`on_deep_stack`),
  with Ctrl-C held until it is done.
- No parser sees a number too long to convert (Python refuses it, or takes time
  quadratic in its length): the text is screened for long runs of digits first.
- No reading builds more entries than a table may have: a text that may have more
  is counted a piece at a time first (:func:`in_pieces`), and the problem names the
  line of the first entry beyond.

The document's ``entries`` table is the one that may be large; the pieces and the
chunks are cut in it.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import tomllib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import toml_rs

import destconfig.formats.limits as limits
from destconfig.console import escape
from destconfig.formats.numbers import long_digit_runs, number_too_long
from destconfig.formats.problems import (
    NESTED_TOO_DEEPLY,
    FormatError,
    Problem,
    too_many_entries,
)

R = TypeVar("R")
Document = dict[str, Any]
ENTRIES = "entries"  # the table of a document that may be large


def parse(text: str) -> Document:
    """The document of *text*; :class:`FormatError` with the problem found first."""
    _screen(text)
    beyond = entries_beyond(text)
    if beyond is not None:
        raise FormatError([beyond])
    document = compiled(text)
    if document is None:
        document = _tomllib(text)
    entries = document.get(ENTRIES)
    if isinstance(entries, dict) and len(entries) > limits.MAX_ENTRIES:
        raise FormatError([too_many_entries(None)])  # (where the count in pieces could not)
    return document


def _tomllib(text: str) -> Document:
    try:  # tomllib says where
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormatError([_syntax_problem(str(error))]) from None
    except RecursionError:
        raise FormatError([Problem(None, NESTED_TOO_DEEPLY)]) from None
    except ValueError:  # an integer Python will not convert: screened for first
        raise FormatError([number_too_long(None)]) from None


_AT_LINE = re.compile(r"(.*) \(at line (\d+), column (\d+)\)$")


def _syntax_problem(message: str) -> Problem:
    """tomllib says ``... (at line L, column C)``; keep the line apart."""
    found = _AT_LINE.fullmatch(message)
    if found is None:
        return Problem(None, escape(message))
    return Problem(int(found.group(2)), escape(found.group(1)))


# --- toml-rs, on a stack deep enough --------------------------------------------------
# toml-rs recurses on the native stack, about 2 KiB for each array or inline table it
# enters, and a stack overflow ends the process. Each level is entered at a "[" or a
# "{", so a text cannot nest deeper than it has of them: toml-rs reads it on a thread
# whose stack holds that many levels twice over (reserved address space; only what is
# used is touched). A text that would need more than the largest such stack is left to
# tomllib (pure Python: slow, but its RecursionError is an exception, and reported).
_STACK_BASE = 16 * 2**20
_STACK_PER_LEVEL = 4 * 2**10
_STACK_MOST = 2**30
MOST_LEVELS = (_STACK_MOST - _STACK_BASE) // _STACK_PER_LEVEL
"""The most levels a text may nest to be read by toml-rs."""


def compiled(text: str) -> Document | None:
    """The document as toml-rs reads *text* (as tomllib reads TOML 1.0); ``None`` where it
    refuses the text, or the text may nest too deeply for it: tomllib then decides."""
    return on_deep_stack(lambda: _read(text), _levels(text))


def _read(text: str) -> Document | None:
    """:func:`compiled`, on the stack of the caller: only one deep enough.

    Besides its own TOMLDecodeError, toml-rs raises a plain ValueError for a date or
    time that Python cannot hold; both are ValueErrors.
    """
    if text.startswith("\ufeff"):
        return None  # a byte order mark after the one decoding removed: tomllib refuses it
    try:
        return toml_rs.loads(text, toml_version="1.0.0")
    except ValueError:
        return None


def _levels(text: str) -> int:
    """How deep *text* could nest at most."""
    return text.count("[") + text.count("{")


def on_deep_stack(work: Callable[[], R], levels: int) -> R | None:
    """``work()`` on a thread whose stack holds *levels* of toml-rs twice over; what it
    returns, or what it raises, is handed back.

    ``None`` without running it when that stack would be larger than the largest
    allowed (more than :data:`MOST_LEVELS`), or when no such thread can be made
    (address space limits). Ctrl-C is held while the thread works and raised when it
    is done: a thread left in compiled code when the interpreter exits can bring the
    process down.
    """
    stack = _STACK_BASE + _STACK_PER_LEVEL * levels
    if stack > _STACK_MOST:
        return None
    outcome: list[tuple[bool, Any]] = []
    finished = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # handed to the caller's thread
            outcome.append((False, error))
        finally:
            finished.set()

    with _interrupts_held():
        try:
            previous = threading.stack_size(-(-stack // 2**20) * 2**20)  # whole MiB
        except ValueError:
            return None
        try:
            threading.Thread(target=run, name="toml-rs").start()
        except RuntimeError:
            return None
        finally:
            threading.stack_size(previous)
        finished.wait()
    done, value = outcome[0]
    if not done:
        raise value
    result: R = value
    return result


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) is held in the block and raised after it, where the platform
    can hold a signal and this is the main thread (the one that handles signals)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


# --- numbers too long to convert ------------------------------------------------------


def _screen(text: str) -> None:
    """:class:`FormatError` when a long run of digits in *text* is a number (naming the
    first), or when the text has a problem before it.

    Converting such a number fails (Python's limit) or takes time quadratic in its
    length (toml-rs converts on its thread without the limit), so no parser may
    see one: the text is read with each run made letters (where it is a number it
    no longer parses, and the parser says where); if that reads, every run is in a
    string, a comment or a key, and the text itself is safe to read. It is read a
    piece at a time (:func:`in_pieces`), and whole only to say where it does not.
    """
    runs = long_digit_runs(text)
    if not runs:
        return
    masked = _without_long_numbers(text, runs)
    beyond, read = in_pieces(masked)
    if beyond is not None:
        raise FormatError([beyond])
    if read:
        return
    try:
        tomllib.loads(masked)
    except tomllib.TOMLDecodeError as error:
        found = _AT_LINE.fullmatch(str(error))
        if found is not None:
            line, column = int(found.group(2)), int(found.group(3))
            at = _line_start(masked, line) + column - 1
            if any(start <= at < end for start, end in runs):
                raise FormatError([number_too_long(line)]) from None
        raise FormatError([_syntax_problem(str(error))]) from None
    except RecursionError:
        raise FormatError([Problem(None, NESTED_TOO_DEEPLY)]) from None


_LETTERS = str.maketrans("0123456789", "ghijklmnop")
_RUN_KEPT = 8  # the longest escape of hex digits (TOML's \UXXXXXXXX) stays whole


def _without_long_numbers(text: str, runs: list[tuple[int, int]]) -> str:
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


def _line_start(text: str, line: int) -> int:
    """Where the 1-based *line* of *text* starts."""
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at


# --- config.toml's layout, a chunk at a time ------------------------------------------

_TABLE_HEADER = re.compile(r"\n[ \t]*\[")  # a line that starts a table (or an array)
CHUNK = 2000  # entries parsed (and built) at a time

Build = Callable[[Document, Iterator[Document | None]], R | None]


def in_chunks(text: str, build: Build[R]) -> R | None:
    """What *build* makes of a text whose ``[entries]`` table comes last, read a few
    thousand entries at a time: ``build(head, chunks)`` is given the document before
    ``[entries]`` and an iterator of each chunk's entries as it is parsed (``None``
    for a chunk that does not parse alone).

    Parsing a whole 100,000-entry document at once holds the parser's tree, the
    parsed document and what is built of it in memory together (about 350 MiB); in
    chunks, each chunk's document can be freed once it is built on. The entries
    are cut at line ends: a value that spans lines and is cut leaves its first chunk
    unfinished, which the parser refuses. ``None`` when a table header follows
    ``[entries]``, when the head does not parse or holds entries itself, and when
    *build* gives ``None``: :func:`parse` then reads the text whole, and words every
    problem. A number too long to convert is refused first, as by :func:`parse`.
    """
    _screen(text)
    head, marker, body = text.partition(f"\n[{ENTRIES}]\n")
    if not marker or _TABLE_HEADER.search("\n" + body):
        return None
    lines = body.split("\n")
    del body
    chunks = ["\n".join(lines[start : start + CHUNK]) for start in range(0, len(lines), CHUNK)]
    del lines
    levels = max(map(_levels, [head, *chunks]))
    return on_deep_stack(lambda: _built(head, chunks, build), levels)


def _built(head: str, chunks: list[str], build: Build[R]) -> R | None:
    document = _read(head)
    if document is None or ENTRIES in document:
        return None
    return build(document, map(_read, chunks))


# --- entries counted a piece at a time ------------------------------------------------

_PROBE_KEY = "\x00\x00end"  # no table has such a key (TOML allows it, escaped)
_PROBE = '\n"\\u0000\\u0000end" = 0\n'
PIECE = 1 << 16  # characters of a piece (about: it ends at a line end)
PIECE_MOST = 64 * PIECE  # a value longer than this leaves the count to the whole parse
_HEADER_LINE = re.compile(r"^[ \t]*\[[^\r\n]*", re.MULTILINE)  # maybe a header (or in an array)


def entries_beyond(text: str) -> Problem | None:
    """The problem of the first entry beyond :data:`~limits.MAX_ENTRIES`, counted a
    piece at a time (:func:`in_pieces`); ``None`` when there are no more than that
    many, or when they cannot be counted so (the whole-text reading then decides, and
    holds no more entries than that)."""
    if text.count("=") + text.count("[") <= limits.MAX_ENTRIES:
        return None  # every entry takes a key (=) or a header ([) at least
    return in_pieces(text)[0]


def in_pieces(text: str) -> tuple[Problem | None, bool]:
    """Read *text* a piece at a time: the problem of the first entry beyond
    :data:`~limits.MAX_ENTRIES` if any, and whether every piece read.

    Parsing a document whole holds all of it at once (a file of millions of tiny
    entries, several GiB). Here it is read a piece of some thousand lines at a time
    instead, each under the header of the table it continues, and only the
    entries' keys are kept. A piece that does not parse alone (a value that goes
    on past its end, or an error) takes more lines, up to a limit, past which the
    reading stops (not read). The table a piece ends in is the one where a key
    added after it lands (a probe). When a file has more entries than any table
    may have, the count stops at the first entry beyond, and the problem names its
    line.
    """
    most = limits.MAX_ENTRIES
    seen: set[str] = set()
    path: list[str] = []  # the table the next piece continues
    start, line = 0, 1  # where the next piece starts
    while start < len(text):
        header = _header_text(path)
        size = PIECE
        while True:
            end = text.find("\n", start + size) + 1 or len(text)
            document = _piece(header, text[start:end] + _PROBE)
            if document is not None:
                break
            if end == len(text) or size >= PIECE_MOST:
                return None, False
            size *= 2
        found_path = _probe_path(document, text[start:end], path)
        if found_path is None:
            return None, False
        path = found_path
        found = document.get(ENTRIES)
        if isinstance(found, dict):
            for key in found:
                if key not in seen and key != _PROBE_KEY:
                    seen.add(key)
                    if len(seen) > most:
                        where = _line_of_entry(header, text[start:end], key, line)
                        return too_many_entries(where), False
        line += text.count("\n", start, end)
        start = end
    return None, True


def _piece(header: str, piece: str) -> Document | None:
    """*piece* of a document parsed alone under *header*; ``None`` when it does not parse."""
    return compiled(f"{header}\n{piece}" if header else piece)


def _probe_path(document: Document, piece: str, before: list[str]) -> list[str] | None:
    """The keys to the table of *document* that holds the probe key (through tables
    only; ``None`` when there is no one such table).

    It is that of the piece's last header, or where the piece started (*before*)
    when it has none: those are tried first, and the document searched only when
    neither holds it (the last line that looks like a header is in an array).
    """
    headers = _HEADER_LINE.findall(piece)
    last = _header_path(headers[-1]) if headers else None
    for path in (before,) if last is None else (last, before):
        table: Any = document
        for key in path:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and _PROBE_KEY in table:
            return path
    return _search_probe(document)


def _header_path(line: str) -> list[str] | None:
    """The keys a header line names; ``None`` for another line (or an array of tables)."""
    if _levels(line) > 8:  # (a header has few: read here, not on a deep stack)
        return None
    document = _read(line)
    path: list[str] = []
    while isinstance(document, dict) and len(document) == 1:
        key, document = next(iter(document.items()))
        path.append(key)
    return path if document == {} and path else None


def _search_probe(document: Document) -> list[str] | None:
    found: list[list[str]] = []
    stack: list[tuple[list[str], Document]] = [([], document)]
    while stack:
        path, table = stack.pop()
        for key, value in table.items():
            if key == _PROBE_KEY:
                found.append(path)
            elif isinstance(value, dict):
                stack.append(([*path, key], value))
            elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
                return None  # an array of tables: a table file has none
    return found[0] if len(found) == 1 else None


def _header_text(path: list[str]) -> str:
    """The TOML header of the table at *path* (``""`` for the top level)."""
    if not path:
        return ""
    return "[" + ".".join(_basic_string(key) for key in path) + "]"


def _basic_string(text: str) -> str:
    """*text* as a TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + "".join(map(_escaped, text)) + '"'


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char < " " or char == "\x7f":
        return f"\\u{ord(char):04x}"
    return char


def _line_of_entry(header: str, piece: str, key: str, first: int) -> int:
    """The line where the statement that makes *key* an entry starts, in *piece* (which
    starts on line *first*): after the longest start of the piece that reads alone
    without the key, found by halving (a start that does not read alone, cut inside
    a value, is passed over)."""
    lines = piece.split("\n")

    def holds(count: int) -> bool | None:
        document = _piece(header, "\n".join(lines[:count]) + "\n")  # (a \r ends no line)
        if document is None:
            return None
        found = document.get(ENTRIES)
        return isinstance(found, dict) and key in found

    low, high = 0, len(lines)  # the first *low* lines read without it, the first *high* with it
    while high - low > 1:
        middle = (low + high) // 2
        for count in (*range(middle, low, -1), *range(middle + 1, high)):
            held = holds(count)
            if held is not None:
                break
        else:
            break  # no start between reads alone: the statement starts after *low*
        if held:
            high = count
        else:
            low = count
    return first + low
