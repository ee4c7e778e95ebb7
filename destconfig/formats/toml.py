"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, one inline table a line, and settings left at Default
are simply absent.

Reading goes through toml-rs (compiled, several times faster than tomllib, which
matters for tables of 100,000 entries), held to TOML 1.0 as tomllib is; a file
it refuses is read again by tomllib, whose message is the one shown.
"""

from __future__ import annotations

import json
import re
import tomllib
from enum import Enum
from typing import Any

import toml_rs
import tomli_w
from pydantic import ValidationError

from destconfig.console import escape
from destconfig.formats import MAX_FILE_BYTES, FormatError, Problem
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


def _text(data: bytes) -> str:
    """The file's text; :class:`FormatError` when it is too large or not UTF-8."""
    if len(data) > MAX_FILE_BYTES:
        raise FormatError([Problem(None, f"the file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError([Problem(line, "the line is not valid UTF-8 text")]) from None


def parse(data: bytes) -> dict[str, Any]:
    """TOML bytes as a document; syntax errors name their line."""
    return _parse_text(_text(data))


def _compiled(text: str) -> dict[str, Any]:
    """The document as the compiled parser reads it (TOML 1.0, as tomllib reads it)."""
    return toml_rs.loads(text, toml_version="1.0.0")


def _parse_text(text: str) -> dict[str, Any]:
    try:
        return _compiled(text)
    except toml_rs.TOMLDecodeError:
        pass  # tomllib says where
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormatError([_syntax_problem(str(error))]) from None


_AT_LINE = re.compile(r"(.*) \(at line (\d+), column \d+\)$")


def _syntax_problem(message: str) -> Problem:
    """tomllib says ``... (at line L, column C)``; keep the line apart."""
    found = _AT_LINE.fullmatch(message)
    if found is None:
        return Problem(None, escape(message))
    return Problem(int(found.group(2)), escape(found.group(1)))


@without_gc
def loads(data: bytes) -> Table:
    text = _text(data)
    fast = _in_chunks(text)
    return fast if fast is not None else from_document(_parse_text(text))


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
    try:
        document = _compiled(head)
    except toml_rs.TOMLDecodeError:
        return None
    if "entries" in document:
        return None
    lines = body.split("\n")
    del body
    # Each chunk is validated as a whole table (the settings and profiles of the file,
    # the chunk's entries): every rule is the model's, and only a key written in two
    # chunks needs checking here.
    entries: dict[str, Entry] = {}
    try:
        table = Table.model_validate(document)
        for start in range(0, len(lines), _CHUNK):
            document["entries"] = _compiled("\n".join(lines[start : start + _CHUNK]))
            part = Table.model_validate(document).entries
            if not entries.keys().isdisjoint(part):
                return None  # a key written twice
            entries.update(part)
    except (toml_rs.TOMLDecodeError, ValidationError):
        return None
    return table.model_copy(update={"entries": entries})
