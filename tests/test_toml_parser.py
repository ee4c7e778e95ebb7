"""The compiled TOML parser reads what tomllib reads, and refuses what it refuses.

config.toml is read by a compiled parser for speed, and by tomllib only to word
the error of a file the compiled one refuses. If the two disagreed, a file could
be accepted that tomllib calls invalid (and the other way round, refused with no
message). These tests hold the fast one to tomllib, the reference reading of
TOML 1.0. The compiled parser recurses on the native stack, where a deep
nesting would end the process: the nesting of a text is measured first, and
these tests hold the measure to the structure that was written.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import FormatError
from destconfig.formats import toml as toml_format
from tests.strategies import tables


def tomllib_reading(text: str) -> Any:
    try:
        return repr(tomllib.loads(text))  # repr: nan is not equal to itself
    except tomllib.TOMLDecodeError:
        return "refused"


def compiled_reading(text: str) -> Any:
    document = toml_format._compiled(text)
    return "refused" if document is None else repr(document)


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
        # dates and times Python cannot hold (toml-rs raises a plain ValueError for these)
        "a = 1979-05-27T07:32:60",
        "a = 0000-01-01",
        "a = 24:00:00",
        # a byte order mark left after decoding removed the first
        "\ufeffa = 1",
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


@pytest.mark.parametrize(
    "text",
    [
        "a = 1979-05-27T07:32:60\n",
        "a = 0000-01-01\n",
        "\ufeffa = 1\n",
        'a = 1\n[entries]\n"x.example" = { t = 1979-05-27T07:32:60 }\n',
    ],
)
def test_a_text_both_parsers_refuse_is_a_format_error_with_its_line(text: str) -> None:
    with pytest.raises(FormatError) as raised:
        toml_format.loads(("\ufeff" + text).encode())
    assert [problem.line for problem in raised.value.problems] == [text.count("\n")]


# --- nesting ------------------------------------------------------------------------------


def _nested(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return "{ a = " * depth + "1" + " }" * depth


@pytest.mark.parametrize("kind", ["array", "inline table"])
@pytest.mark.parametrize("where", ["head", "entries"])
def test_a_document_nested_too_deeply_is_refused_with_a_message(kind: str, where: str) -> None:
    """20,000 levels: deep enough to overflow the native stack, were it parsed."""
    deep = f"x = {_nested(kind, 20000)}\n"
    data = deep + "[entries]\n" if where == "head" else f'[entries]\n"a.example" = {{ {deep} }}\n'
    with pytest.raises(FormatError) as raised:
        toml_format.loads(data.encode())
    assert [(p.line, p.reason) for p in raised.value.problems] == [
        (None, "the document is nested too deeply")
    ]


def test_the_nesting_limit_is_the_deepest_read() -> None:
    limit = toml_format.NESTING_LIMIT
    assert toml_format.parse(f"x = {_nested('array', limit)}".encode())["x"] is not None
    with pytest.raises(FormatError, match="nested too deeply"):
        toml_format.parse(f"x = {_nested('array', limit + 1)}".encode())


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('a = "[[[["', 0),
        ("a = '[[[['", 0),
        ('a = """\n[[[\n"""', 0),
        ("a = '''\n{{{\n'''", 0),
        ("a = 1 # [[[[", 0),
        ('a = "\\\\" # [[', 0),
        ('a = ["\\"[[[", "]]]"]', 1),
        ('a = ["#", [["it\'s"]]]', 3),
        ("[t]\na = [[1], {b = [2]}]\n[[u]]", 3),
        ('v = [0, { a = "", b = "" }, [{ a = "", b = "" }]]', 3),
        ('v = ["""a"b""", [[[1]]], "c"]', 4),
        ('v = ["""a"""", [[[1]]], "c"]', 4),
        ("v = ['''a'b''', [[[1]]], 'c']", 4),
        ("v = ['''a''''', [[[1]]], 'c']", 4),
    ],
)
def test_the_depth_counts_only_what_is_outside_strings_and_comments(text: str, depth: int) -> None:
    assert tomllib.loads(text) is not None  # each case is valid TOML
    assert toml_format._depth(text) == depth


_SCALARS = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(alphabet="ab[]{}\"'#\\\n\t", max_size=6),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("ab"), inner, max_size=2)
    ),
    max_leaves=12,
)


def _structure_depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_structure_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_structure_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(st.lists(_VALUES, max_size=3), st.booleans())
def test_the_depth_of_written_toml_is_the_depth_of_what_was_written(
    value: list[Any], multiline: bool
) -> None:
    """A list under a key with a number first is written inline (not as an array of
    tables), so every level is a bracket or a brace."""
    written = [0, *value]
    text = tomli_w.dumps({"v": written}, multiline_strings=multiline)
    assert toml_format._depth(text) == _structure_depth(written)


@settings(max_examples=30, deadline=None)
@given(tables())
def test_config_toml_nests_one_deep(table: Any) -> None:
    assert toml_format._depth(toml_format.dumps(table).decode()) <= 1
