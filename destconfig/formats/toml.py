"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, and settings left at Default are simply absent.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import tomli_w
from pydantic import ValidationError

from destconfig.console import escape
from destconfig.formats import MAX_FILE_BYTES, FormatError, Problem
from destconfig.model import Table


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


def dumps(table: Table) -> bytes:
    return tomli_w.dumps(to_document(table)).encode("utf-8")


def parse(data: bytes) -> dict[str, Any]:
    """TOML bytes as a document; syntax errors name their line."""
    if len(data) > MAX_FILE_BYTES:
        raise FormatError([Problem(None, f"the file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError([Problem(line, "the line is not valid UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as error:
        raise FormatError([_syntax_problem(str(error))]) from None


_AT_LINE = re.compile(r"(.*) \(at line (\d+), column \d+\)$")


def _syntax_problem(message: str) -> Problem:
    """tomllib says ``... (at line L, column C)``; keep the line apart."""
    found = _AT_LINE.fullmatch(message)
    if found is None:
        return Problem(None, escape(message))
    return Problem(int(found.group(2)), escape(found.group(1)))


def loads(data: bytes) -> Table:
    return from_document(parse(data))
