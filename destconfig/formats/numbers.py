"""Numbers too long to convert: how many digits a file's number may have, and where a
text has more.

Python refuses to convert a longer decimal integer, and where its limit is lifted
conversion takes time quadratic in the length; the TOML and JSON readers screen a
text for such runs before any parser converts one.
"""

from __future__ import annotations

import re
import sys

from destconfig.formats.problems import Problem

INT_DIGITS = 4300  # Python's default int-string conversion limit (sys.int_info)


def digits_most() -> int:
    """The most digits a number in a file may have in a row.

    Python refuses to convert a longer decimal integer (``ValueError``, its limit
    may be lowered), and where the limit is lifted conversion takes time quadratic
    in the length: so never more than the default limit either.
    """
    limit = sys.get_int_max_str_digits()
    return min(limit, INT_DIGITS) if limit else INT_DIGITS


def number_too_long(line: int | None) -> Problem:
    return Problem(line, f"a number has more than {digits_most()} digits")


_DIGIT_OR_NOT = bytes(ord("d") if chr(byte) in "0123456789_" else ord(".") for byte in range(256))
_DIGIT_RUN = re.compile(r"(?<![0-9_])[0-9_]+")


def long_digit_runs(text: str) -> list[tuple[int, int]]:
    """Where *text* has a run of digits (``_`` between them allowed, as TOML writes
    numbers) of more than :func:`digits_most` digits, wherever it is: in a number, a
    string, a comment or a key.

    Files almost never have one, so the text is screened first in bytes (a table
    translation and a substring search, both in C); only a text that may have one
    is searched for where.
    """
    most = digits_most()
    if text.encode("utf-8", "surrogatepass").translate(_DIGIT_OR_NOT).find(b"d" * (most + 1)) < 0:
        return []
    return [
        found.span()
        for found in _DIGIT_RUN.finditer(text)
        if found.end() - found.start() - found.group().count("_") > most
    ]
