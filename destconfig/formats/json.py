"""The JSON form of a table: the same document as TOML, for tools.

``schema/table.schema.json`` in the package is generated from the model
(:func:`schema`); a test keeps the shipped file equal to it.

The standard parser reads the text. It keeps the last of a key written twice
and converts any number, and it builds the whole document before anything can
be counted; so a key written twice is refused, and a text that may hold a number
too long to convert or more entries than a table may have is first walked
without building anything (:func:`first_problem`), which also says where.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import destconfig.formats.limits as limits
from destconfig.formats.numbers import digits_most, long_digit_runs, number_too_long
from destconfig.formats.problems import (
    NESTED_TOO_DEEPLY,
    FormatError,
    Problem,
    decoded,
    quote,
    too_many_entries,
)
from destconfig.formats.toml import from_document, to_document
from destconfig.gcpause import without_gc
from destconfig.model import Table


def dumps(table: Table) -> bytes:
    return (json.dumps(to_document(table), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_FIXED_OBJECTS = 4  # the document, settings, default and entries; each entry is one more


@without_gc
def loads(data: bytes) -> Table:
    text = decoded(data)
    if long_digit_runs(text) or text.count("{") > limits.MAX_ENTRIES + _FIXED_OBJECTS:
        problem = first_problem(text)
        if problem is not None:
            raise FormatError([problem])
    try:
        document = json.loads(text, object_pairs_hook=_object)
    except _Duplicate as duplicate:
        problem = Problem(None, f"duplicate key {quote(duplicate.key)}")
    except json.JSONDecodeError as error:
        problem = Problem(error.lineno, error.msg)
    except RecursionError:
        problem = Problem(None, NESTED_TOO_DEEPLY)
    except ValueError:  # an integer Python will not convert: screened for above
        problem = number_too_long(None)
    else:
        problem = None
    if problem is not None:
        # A duplicate (or any of the walk's problems) earlier in the text comes first;
        # the walk also says where a duplicate is.
        raise FormatError([first_problem(text) or problem])
    entries = document.get("entries") if isinstance(document, dict) else None
    if isinstance(entries, dict) and len(entries) > limits.MAX_ENTRIES:
        raise FormatError([first_problem(text) or too_many_entries(None)])
    return from_document(document)


class _Duplicate(Exception):
    """A key written twice in an object, found when the object ends (the text says where)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) < len(pairs):
        keys: set[str] = set()
        for key, _ in pairs:
            if key in keys:
                raise _Duplicate(key)
            keys.add(key)
    return made


_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's white space, as the standard parser takes it
# The standard parser's own reading of a string: (the string, where it ends); JSONDecodeError.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_WORDS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")  # what json.loads takes


def first_problem(text: str) -> Problem | None:
    """The first in *text* of: a key written twice in one object, a number with more
    digits in a row than :func:`digits_most`, an entry beyond :data:`~limits.MAX_ENTRIES` and
    nesting deeper than the parser follows. ``None`` when there is none, and from
    where the text stops being JSON: ``json.loads`` then says what is wrong there.

    The text is walked as ``json.loads`` reads it, building nothing: the keys of
    the open objects (and where each is), and no value at all.
    """
    most = limits.MAX_ENTRIES
    digits = digits_most()
    deepest = sys.getrecursionlimit()
    # The open objects' keys (and where each is), None for an array.
    opened: list[dict[str, int] | None] = []
    object_keys: dict[str, int] = {}  # the keys of the object whose member comes next
    entries: dict[str, int] | None = None  # the keys of the document's "entries"
    is_entries = False  # the value that comes next is the document's "entries"
    at = _skip(text, 0)
    expect = _VALUE
    try:
        while True:
            if expect is _MEMBER:
                key, at, problem = _member(text, at, object_keys, object_keys is entries, most)
                if problem is not None:
                    return problem
                is_entries = len(opened) == 1 and key == "entries"
                expect = _VALUE
            elif expect is _VALUE:
                char = text[at]
                if char == "{" or char == "[":
                    if len(opened) >= deepest:
                        return Problem(None, NESTED_TOO_DEEPLY)
                    keys: dict[str, int] | None = None
                    if char == "{":
                        keys = object_keys = {}
                        if is_entries:
                            entries = keys
                    opened.append(keys)
                    at = _skip(text, at + 1)
                    if text[at] == ("]" if keys is None else "}"):
                        opened.pop()
                        at += 1
                        expect = _AFTER
                    else:
                        expect = _VALUE if keys is None else _MEMBER
                else:
                    at, problem = _scalar(text, at, digits)
                    if problem is not None:
                        return problem
                    expect = _AFTER
                is_entries = False
            else:
                at = _skip(text, at)
                if not opened:
                    return None  # the document ends here
                keys = opened[-1]
                char = text[at]
                if char == ",":
                    at = _skip(text, at + 1)
                    if keys is None:
                        expect = _VALUE
                    else:
                        object_keys, expect = keys, _MEMBER
                elif char == ("]" if keys is None else "}"):
                    opened.pop()
                    at += 1
                else:
                    return None
    except (IndexError, ValueError):  # the end of the text, or a bad string (JSONDecodeError)
        return None


_VALUE, _MEMBER, _AFTER = "value", "member", "after"  # what the walk expects next


def _skip(text: str, at: int) -> int:
    """Where the white space at *at* ends."""
    space = _SPACE.match(text, at)
    return space.end() if space else at


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _member(
    text: str, at: int, keys: dict[str, int], of_entries: bool, most: int
) -> tuple[str, int, Problem | None]:
    """The key of the object member at *at*, and where its value starts; or a problem
    with the key. :class:`ValueError` where the text is not a key and a colon."""
    if text[at] != '"':
        raise ValueError(at)
    key, end = _scanstring(text, at + 1, True)
    if key in keys:
        reason = f"duplicate key {quote(key)} (first at line {_line(text, keys[key])})"
        return key, at, Problem(_line(text, at), reason)
    keys[key] = at
    if of_entries and len(keys) > most:
        return key, at, too_many_entries(_line(text, at))
    end = _skip(text, end)
    if text[end] != ":":
        raise ValueError(end)
    return key, _skip(text, end + 1), None


def _scalar(text: str, at: int, digits: int) -> tuple[int, Problem | None]:
    """Where the string, number or word at *at* ends; a problem for a number too long.

    :class:`ValueError` where no such value starts.
    """
    char = text[at]
    if char == '"':
        return _scanstring(text, at + 1, True)[1], None
    for word in _WORDS:
        if text.startswith(word, at):
            return at + len(word), None
    number = _NUMBER.match(text, at)
    if number is None:
        raise ValueError(at)
    if max(map(len, _DIGITS.findall(number.group()))) > digits:
        return at, number_too_long(_line(text, at))
    return number.end(), None


def schema() -> dict[str, Any]:
    """The JSON Schema of the document, from the pydantic model."""
    document = Table.model_json_schema(mode="serialization")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "destconfig table"
    return document


def schema_text() -> str:
    """The shipped file's text: ``python -m destconfig.formats.json > destconfig/schema/...``."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
