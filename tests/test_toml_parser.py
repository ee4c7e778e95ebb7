"""The compiled TOML parser reads what tomllib reads, and refuses what it refuses.

config.toml is read by a compiled parser for speed, and by tomllib only to word
the error of a file the compiled one refuses. If the two disagreed, a file could
be accepted that tomllib calls invalid (and the other way round, refused with no
message). These tests hold the fast one to tomllib, the reference reading of
TOML 1.0.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import toml as toml_format


def tomllib_reading(text: str) -> Any:
    try:
        return repr(tomllib.loads(text))  # repr: nan is not equal to itself
    except tomllib.TOMLDecodeError:
        return "refused"


def compiled_reading(text: str) -> Any:
    try:
        return repr(toml_format._compiled(text))
    except ValueError:  # the compiled parser's error class is a ValueError
        return "refused"


@pytest.mark.parametrize(
    "text",
    [
        "a = 1\na = 2",
        # TOML 1.1 forms that TOML 1.0 (and so tomllib) refuses
        "a = {b = 1,}",
        "a = {\nb = 1}",
        'a = "\\x41"',
        'a = "\\e"',
        "a = 00:00",
        # forms both accept
        "a = 1979-05-27",
        "a = 0x10",
        "a = 1_0",
        "a = nan",
        "a = 9223372036854775808",
        "a = '''x'''",
        '"a.example.com" = { tls = "NO", max_host_concurrency = 10 }',
        # forms both refuse
        "a = 01",
        'x = "a\x7fb"',
        "a.b = 1\n[a]\nc=2",
        '"a" = {}\n"a" = {}',
        "a = { b = 1, b = 2 }",
        "a = 1 # \x01",
        "[[a]]\n[a]",
    ],
)
def test_the_compiled_parser_reads_as_tomllib(text: str) -> None:
    assert compiled_reading(text) == tomllib_reading(text)


# fmt: off
FRAGMENTS = [
    "a", "b", '"a.example.com"', "'x'", " = ", "=", " ", "\n", "\r\n", "{", "}", "[", "]",
    ",", ".", "1", "01", "1_0", "-", "+", "1.5", "e3", "true", "false", "nan", "inf",
    '"', "'''", '"""', "\\", "\\n", "\\x41", "\\u00e9", "#", "\t", "1979-05-27", "T",
    "00:00:00", "Z", "é", "\x7f", "\x00", "[entries]", "[[t]]",
]
# fmt: on


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16).map("".join))
def test_any_text_of_toml_fragments_reads_as_tomllib(text: str) -> None:
    assert compiled_reading(text) == tomllib_reading(text)
