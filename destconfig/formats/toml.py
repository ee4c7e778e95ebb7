"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, one inline table a line, and settings left at Default
are simply absent.

Reading goes through toml-rs (compiled, several times faster than tomllib, which
matters for tables of 100,000 entries), held to TOML 1.0 as tomllib is; a file
it refuses is read again by tomllib, whose message is the one shown.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import threading
import tomllib
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any, TypeVar

import toml_rs
import tomli_w
from pydantic import ValidationError

from destconfig import formats
from destconfig.console import escape
from destconfig.formats import (
    NESTED_TOO_DEEPLY,
    FormatError,
    Problem,
    decoded,
    long_digit_runs,
    number_too_long,
    too_many_entries,
    without_long_numbers,
)
from destconfig.gcpause import without_gc
from destconfig.model import Entry, Table


def to_document(table: Table) -> dict[str, Any]:
    """The table as plain data (strings, numbers, booleans, lists, dicts)."""
    document = table.model_dump(mode="json", exclude_none=True)
    entries = document["entries"]
    document["entries"] = {key: entries[key] for key in sorted(entries)}
    return document


def from_document(document: Any) -> Table:
    try:
        return Table.model_validate(document)
    except ValidationError as error:
        raise FormatError(validation_messages(error)) from None


def validation_messages(error: ValidationError) -> list[Problem]:
    """One problem per model error, naming where it is (``entries.example.com.tls``)."""
    found = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = escape(str(problem["msg"]).removeprefix("Value error, "))
        found.append(Problem(None, f"{escape(where)}: {message}" if where else message))
    return found


_PLAIN = re.compile(r"[A-Za-z0-9._:\[\]-]*")


def _string(text: str) -> str:
    """A TOML basic string: keys, words and names need no escape (the common case)."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    # A JSON string is a valid TOML basic string (the same escapes, \uXXXX included).
    return json.dumps(text, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Enum):
        return _string(value.value)
    return _string(value)


def dumps(table: Table) -> bytes:
    """Settings and the default entry as tomli-w writes them, then ``[entries]``.

    Each entry is an inline table of its settings that are not Default, in field
    order. Settings recur across entries, so each distinct ``key = value`` is
    written once and reused; stored keys are plain text (names, addresses), which
    is checked for all of them at once.
    """
    head = table.model_dump(mode="json", exclude_none=True, exclude={"entries"})
    lines = [tomli_w.dumps(head), "\n[entries]\n"]
    entries = table.entries
    keys = table.sorted_keys()
    plain = _PLAIN.fullmatch("".join(keys)) is not None
    pairs: dict[tuple[str, Any], str] = {}  # (field, value): a field has one type
    for key in keys:
        written = []
        for pair in entries[key].__dict__.items():
            if pair[1] is not None:
                text = pairs.get(pair)
                if text is None:
                    text = pairs[pair] = f"{pair[0]} = {_value(pair[1])}"
                written.append(text)
        name = f'"{key}"' if plain else _string(key)
        lines.append(f"{name} = {{ {', '.join(written)} }}\n" if written else f"{name} = {{}}\n")
    return "".join(lines).encode("utf-8")


def parse(data: bytes) -> dict[str, Any]:
    """TOML bytes as a document; syntax errors name their line."""
    return _parse_text(decoded(data))


# toml-rs recurses on the native stack, about 2 KiB for each array or inline table it
# enters, and a stack overflow ends the process. Each level is entered at a "[" or a
# "{", so a text cannot nest deeper than it has of them: toml-rs reads it on a thread
# whose stack holds that many levels twice over (reserved address space; only what is
# used is touched). A text that would need more than the largest such stack is left to
# tomllib (pure Python: slow, but its RecursionError is an exception, and reported).
R = TypeVar("R")
_STACK_BASE = 16 * 2**20
_STACK_PER_LEVEL = 4 * 2**10
_STACK_MOST = 2**30


def _read(text: str) -> dict[str, Any] | None:
    """The document as toml-rs reads it (TOML 1.0, as tomllib reads it); ``None`` when it
    refuses the text. Only on a stack that holds the text's nesting (:func:`_on_deep_stack`).

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


def _on_deep_stack(work: Callable[[], R], levels: int) -> R | None:
    """``work()`` on a thread whose stack holds *levels* of toml-rs twice over.

    ``None`` without running it when that stack would be larger than the largest
    allowed, or when no such thread can be made (address space limits). Ctrl-C is
    held while the thread works and raised when it is done: a thread left in compiled
    code when the interpreter exits can bring the process down.
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


def _compiled(text: str) -> dict[str, Any] | None:
    """:func:`_read` of *text*, on a stack deep enough; ``None`` for tomllib to decide."""
    return _on_deep_stack(lambda: _read(text), _levels(text))


def _parse_text(text: str) -> dict[str, Any]:
    document = _compiled(text)
    if document is not None:
        return document
    try:  # tomllib says where
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormatError([_syntax_problem(str(error))]) from None
    except RecursionError:
        raise FormatError([Problem(None, NESTED_TOO_DEEPLY)]) from None
    except ValueError:  # an integer Python will not convert: loads screens for them first
        raise FormatError([number_too_long(None)]) from None


_AT_LINE = re.compile(r"(.*) \(at line (\d+), column (\d+)\)$")


def _syntax_problem(message: str) -> Problem:
    """tomllib says ``... (at line L, column C)``; keep the line apart."""
    found = _AT_LINE.fullmatch(message)
    if found is None:
        return Problem(None, escape(message))
    return Problem(int(found.group(2)), escape(found.group(1)))


def _refuse_long_numbers(text: str, runs: list[tuple[int, int]]) -> None:
    """:class:`FormatError` when one of the long runs of digits in *text* is a number
    (naming the first), or when the text has a problem before it.

    Converting such a number fails (Python's limit) or takes time quadratic in its
    length (toml-rs converts on its thread without the limit), so no parser may
    see one: the text is read with each run made letters (where it is a number it
    no longer parses, and the parser says where); if that reads, every run is in a
    string, a comment or a key, and the text itself is safe to read. It is read a
    piece at a time (:func:`_in_pieces`), and whole only to say where it does not.
    """
    masked = without_long_numbers(text, runs)
    beyond, read = _in_pieces(masked)
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


def _line_start(text: str, line: int) -> int:
    """Where the 1-based *line* of *text* starts."""
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at


@without_gc
def loads(data: bytes) -> Table:
    text = decoded(data)
    runs = long_digit_runs(text)
    if runs:
        _refuse_long_numbers(text, runs)
    fast = _in_chunks(text)
    if fast is not None:
        return fast
    beyond = _entries_beyond(text)
    if beyond is not None:
        raise FormatError([beyond])
    document = _parse_text(text)
    entries = document.get("entries")
    if isinstance(entries, dict) and len(entries) > formats.MAX_ENTRIES:
        raise FormatError([too_many_entries(None)])  # (where the count in pieces could not)
    return from_document(document)


_TABLE_HEADER = re.compile(r"\n[ \t]*\[")  # a line that starts a table (or an array)
_CHUNK = 2000  # entries parsed and validated at a time


def _in_chunks(text: str) -> Table | None:
    """A file whose ``[entries]`` table comes last, read a few thousand entries at a time.

    Parsing a whole 100,000-entry document at once holds the parser's tree, the
    parsed document and the validated entries in memory together (about 350 MiB);
    in chunks, each chunk's document is freed once its entries are validated. The
    entries are cut at line ends: a value that spans lines and is cut leaves its
    first chunk unfinished, which the parser refuses. ``None`` when a table header
    follows ``[entries]``, and for any problem at all: the whole-file reading then
    reads the file, and words every problem.
    """
    head, marker, body = text.partition("\n[entries]\n")
    if not marker or _TABLE_HEADER.search("\n" + body):
        return None
    lines = body.split("\n")
    del body
    chunks = ["\n".join(lines[start : start + _CHUNK]) for start in range(0, len(lines), _CHUNK)]
    del lines
    levels = max(map(_levels, [head, *chunks]))
    return _on_deep_stack(lambda: _read_chunks(head, chunks), levels)


def _read_chunks(head: str, chunks: list[str]) -> Table | None:
    document = _read(head)
    if document is None or "entries" in document:
        return None
    # Each chunk is validated as a whole table (the settings and profiles of the file,
    # the chunk's entries): every rule is the model's, and only a key written in two
    # chunks needs checking here.
    entries: dict[str, Entry] = {}
    try:
        table = Table.model_validate(document)
        for chunk in chunks:
            part = _read(chunk)
            if part is None:
                return None
            document["entries"] = part
            validated = Table.model_validate(document).entries
            if not entries.keys().isdisjoint(validated):
                return None  # a key written twice
            entries.update(validated)
            if len(entries) > formats.MAX_ENTRIES:
                return None  # no more are built: the whole-file reading counts them
    except ValidationError:
        return None
    return table.model_copy(update={"entries": entries})


# The entries of a document too large to parse whole, counted a piece at a time.

_PROBE_KEY = "\x00\x00end"  # no table has such a key (TOML allows it, escaped)
_PROBE = '\n"\\u0000\\u0000end" = 0\n'
_PIECE = 1 << 16  # characters of a piece (about: it ends at a line end)
_PIECE_MOST = 64 * _PIECE  # a value longer than this leaves the count to the whole parse
_HEADER_LINE = re.compile(r"^[ \t]*\[[^\r\n]*", re.MULTILINE)  # maybe a header (or in an array)


def _entries_beyond(text: str) -> Problem | None:
    """The problem of the first entry beyond :data:`~destconfig.formats.MAX_ENTRIES`,
    counted a piece at a time (:func:`_in_pieces`); ``None`` when there are no more
    than that many, or when they cannot be counted so (the whole-file reading then
    decides, and holds no more entries than that)."""
    if text.count("=") + text.count("[") <= formats.MAX_ENTRIES:
        return None  # every entry takes a key (=) or a header ([) at least
    return _in_pieces(text)[0]


def _in_pieces(text: str) -> tuple[Problem | None, bool]:
    """Read *text* a piece at a time: the problem of the first entry beyond
    :data:`~destconfig.formats.MAX_ENTRIES` if any, and whether every piece read.

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
    most = formats.MAX_ENTRIES
    seen: set[str] = set()
    path: list[str] = []  # the table the next piece continues
    start, line = 0, 1  # where the next piece starts
    while start < len(text):
        header = _header_text(path)
        size = _PIECE
        while True:
            end = text.find("\n", start + size) + 1 or len(text)
            document = _piece(header, text[start:end] + _PROBE)
            if document is not None:
                break
            if end == len(text) or size >= _PIECE_MOST:
                return None, False
            size *= 2
        found_path = _probe_path(document, text[start:end], path)
        if found_path is None:
            return None, False
        path = found_path
        found = document.get("entries")
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


def _piece(header: str, piece: str) -> dict[str, Any] | None:
    """*piece* of a document parsed alone under *header*; ``None`` when it does not parse."""
    text = f"{header}\n{piece}" if header else piece
    return _on_deep_stack(lambda: _read(text), _levels(text))


def _probe_path(document: dict[str, Any], piece: str, before: list[str]) -> list[str] | None:
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


def _search_probe(document: dict[str, Any]) -> list[str] | None:
    found: list[list[str]] = []
    stack: list[tuple[list[str], dict[str, Any]]] = [([], document)]
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
        found = document.get("entries")
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
