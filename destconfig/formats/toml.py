"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, one inline table a line, and settings left at Default
are simply absent.

Reading goes through toml-rs (compiled, several times faster than tomllib, which
matters for tables of 100,000 entries), held to TOML 1.0 as tomllib is; a file
it refuses is read again by tomllib, whose message is the one shown.
"""

from __future__ import annotations

import itertools
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


# toml-rs recurses on the native stack, about 1 KiB a level of arrays and inline tables,
# and a stack overflow ends the process; tomllib recurses about twice a level and ends
# with RecursionError near 500. A text with at most this many "[" and "{" (a chunk of
# config.toml holds about 2,000) cannot nest deeper than an 8 MiB stack (the usual main
# thread's) holds; any other text is measured first.
_SURELY_SHALLOW = 4096
NESTING_LIMIT = 64  # our documents nest 3 deep
_NESTED_TOO_DEEPLY = Problem(None, "the document is nested too deeply")


def _compiled(text: str) -> dict[str, Any] | None:
    """The document as toml-rs reads it (TOML 1.0, as tomllib reads it); ``None`` when
    it refuses the text. The caller has bounded the text's nesting.

    Besides its own TOMLDecodeError, toml-rs raises a plain ValueError for a date or
    time that Python cannot hold; both are ValueErrors.
    """
    if text.startswith("\ufeff"):
        return None  # a byte order mark after the one decoding removed: tomllib refuses it
    try:
        return toml_rs.loads(text, toml_version="1.0.0")
    except ValueError:
        return None


def _parse_text(text: str) -> dict[str, Any]:
    if _opened(text) > NESTING_LIMIT and _depth(text) > NESTING_LIMIT:
        raise FormatError([_NESTED_TOO_DEEPLY])
    document = _compiled(text)
    if document is not None:
        return document
    try:  # tomllib says where
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormatError([_syntax_problem(str(error))]) from None


def _opened(text: str) -> int:
    return text.count("[") + text.count("{")


# Strings and comments, whose brackets do not nest. Escaped backslashes and quotes are
# gone first (see _depth); a multi-line string may hold one or two quotes in a row, and
# one or two more before its closing three.
_ML_BASIC = r'"""(?:[^"]|""?(?!"))*"{3,5}'
_ML_LITERAL = r"'''(?:[^']|''?(?!'))*'{3,5}"
_BASIC = r'"[^"\n]*"'
_LITERAL = r"'[^'\n]*'"
_COMMENT = r"#[^\n]*"
_STRINGS_AND_COMMENTS = re.compile("|".join((_ML_BASIC, _ML_LITERAL, _BASIC, _LITERAL, _COMMENT)))
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _depth(text: str) -> int:
    """How deep arrays and inline tables nest in *text*, outside strings and comments.

    Escaped backslashes and quotes go first (no other escape can end a string), then
    strings and comments; what is left is counted in compiled code.
    """
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside = _STRINGS_AND_COMMENTS.sub("", unescaped)
    brackets = outside.encode("utf-8").translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets), initial=0))


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
    if not marker or _TABLE_HEADER.search("\n" + body) or _opened(head) > _SURELY_SHALLOW:
        return None
    document = _compiled(head)
    if document is None or "entries" in document:
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
            chunk = "\n".join(lines[start : start + _CHUNK])
            part = _compiled(chunk) if _opened(chunk) <= _SURELY_SHALLOW else None
            if part is None:
                return None
            document["entries"] = part
            validated = Table.model_validate(document).entries
            if not entries.keys().isdisjoint(validated):
                return None  # a key written twice
            entries.update(validated)
    except ValidationError:
        return None
    return table.model_copy(update={"entries": entries})
