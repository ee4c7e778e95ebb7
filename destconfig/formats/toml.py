"""The TOML form of a table: the schema of ``config.toml``.

Field names and value words are the model's (and so the table file's), entries
are written in LIST order, and settings left at Default are simply absent.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from pydantic import ValidationError

from destconfig.formats import FormatError
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


def validation_messages(error: ValidationError) -> list[str]:
    """One line per problem, naming where it is (``entries.example.com.tls``)."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        lines.append(f"{where}: {problem['msg']}" if where else str(problem["msg"]))
    return lines


def dumps(table: Table) -> bytes:
    return tomli_w.dumps(to_document(table)).encode("utf-8")


def parse(data: bytes) -> dict[str, Any]:
    """TOML bytes as a document; syntax errors name their line."""
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FormatError([f"not UTF-8 text: {error.reason} at byte {error.start}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise FormatError([str(error)]) from None


def loads(data: bytes) -> Table:
    return from_document(parse(data))
