"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, one inline table a line, and settings left at Default
are simply absent.

How TOML text is read (fast, bounded, worded by tomllib) is
:mod:`~destconfig.formats.tomlparse`'s; here a document becomes a table. A file
in the layout :func:`dumps` writes is built a chunk of entries at a time
(:func:`in_chunks`), any other from the whole document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from enum import Enum
from typing import Any

import tomli_w
from pydantic import ValidationError

import destconfig.formats.limits as limits
import destconfig.formats.tomlparse as tomlparse
from destconfig.console import escape
from destconfig.formats.problems import FormatError, Problem, decoded
from destconfig.gcpause import without_gc
from destconfig.model import Entry, Table


def to_document(table: Table) -> dict[str, Any]:
    """The table as plain data (strings, numbers, booleans, lists, dicts)."""
    document = table.model_dump(mode="json", exclude_none=True)
    entries = document["entries"]
    document["entries"] = {key: entries[key] for key in sorted(entries)}
    return document


INFORMATIONAL = "unicode"
"""A member ``list --format json`` adds (the keys' Unicode forms): read past, so that a
listed document imports as its table. The forms are the keys' own, worked out again."""


def from_document(document: Any) -> Table:
    if isinstance(document, dict) and isinstance(document.get(INFORMATIONAL), dict):
        document = {name: value for name, value in document.items() if name != INFORMATIONAL}
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


@without_gc
def loads(data: bytes) -> Table:
    text = decoded(data)
    table = in_chunks(text)
    if table is not None:
        return table
    return from_document(tomlparse.parse(text))


def in_chunks(text: str) -> Table | None:
    """The table of a text in the layout :func:`dumps` writes (``[entries]`` last), read
    and validated a chunk of entries at a time, so that only one chunk's document is
    held at once; ``None`` for any other layout and for any problem (but a number too
    long to convert, refused at once): the whole-document reading then decides, and
    words every problem."""
    return tomlparse.in_chunks(text, _from_chunks)


def _from_chunks(head: dict[str, Any], chunks: Iterator[dict[str, Any] | None]) -> Table | None:
    # Each chunk is validated as a whole table (the settings and profiles of the file,
    # the chunk's entries): every rule is the model's, and only a key written in two
    # chunks needs checking here.
    entries: dict[str, Entry] = {}
    try:
        table = Table.model_validate(head)
        for chunk in chunks:
            if chunk is None:
                return None
            head["entries"] = chunk
            validated = Table.model_validate(head).entries
            if not entries.keys().isdisjoint(validated):
                return None  # a key written twice
            entries.update(validated)
            if len(entries) > limits.MAX_ENTRIES:
                return None  # no more are built: the whole-document reading counts them
    except ValidationError:
        return None
    return table.model_copy(update={"entries": entries})
