"""console.escape (spec §5.1) and the Console's framing."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from destconfig.console import (
    Console,
    _prefixed,
    _prefixed_plainly,
    escape,
    program_error,
    program_error_lines,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b", "\\x1b"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\t", "\\t"),
        ("a\tb", "a\\tb"),
        ("\u200b", "\\u200b"),
        ("exa\u200bmple.com", "exa\\u200bmple.com"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\x00", "\\x00"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\x9b"),
        ("\xa0", "\\xa0"),  # NO-BREAK SPACE is not printable for Python
        ("\u2028", "\\u2028"),
        ("\ufeff", "\\ufeff"),
        ("\U000e0001", "\\U000e0001"),
        ("\ud800", "\\ud800"),
    ],
)
def test_non_printable_characters_are_written_as_repr_writes_them(text: str, shown: str) -> None:
    assert escape(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "",
        "example.com",
        "Example.COM",
        " spaces around ",
        "back\\slash",
        "\\x1b",  # already an escape sequence as typed: kept as typed
        "\\",
        '"double"',
        "'single'",
        'it\'s "both"',
        "faß.de",
        "例え.jp",
        "\ufffd",
        "[2001:db8::1]",
        "~!@#$%^&*()_+{}|:<>?",
    ],
)
def test_printable_text_is_unchanged(text: str) -> None:
    assert escape(text) == text


def test_mixed_text_keeps_backslashes_and_quotes() -> None:
    assert escape("a\\b\"c'd\x1be") == "a\\b\"c'd\\x1be"


@given(st.text())
def test_escaped_text_is_printable(text: str) -> None:
    shown = escape(text)
    assert shown.isprintable()
    if text.isprintable():
        assert shown == text


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_escape_agrees_with_repr_character_by_character(text: str) -> None:
    expected = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    assert escape(text) == expected


def test_console_block_starts_with_an_empty_line() -> None:
    stream = io.StringIO()
    console = Console(stream)
    console.block("There are no changes to commit.")
    assert stream.getvalue() == "\nThere are no changes to commit.\n"


def test_console_reject_has_no_empty_line() -> None:
    stream = io.StringIO()
    console = Console(stream)
    console.write("[]> x\n")
    console.reject("Unknown option: x")
    assert stream.getvalue() == "[]> x\nUnknown option: x\n"


def test_console_write_is_verbatim() -> None:
    stream = io.StringIO()
    Console(stream).write("ESA> ")
    assert stream.getvalue() == "ESA> "


_MESSAGE_CHARS = st.sampled_from(["a", " ", "\n", "\t", "\x1b", "\x7f", "\x00", "é", "\\", "\r"])


@given(st.text(_MESSAGE_CHARS, max_size=40) | st.text(max_size=40))
def test_prefixed_whole_equals_line_at_a_time(message: str) -> None:
    for prefix in ("destconfig:", "\x1b[1;31mdestconfig:\x1b[0m"):
        assert _prefixed(prefix, message) == _prefixed_plainly(prefix, message)


def test_program_error_many_printable_lines_bytes() -> None:
    stream = io.StringIO()
    program_error(stream, "warning: a\nwarning: b\n")
    assert (
        stream.getvalue().encode()
        == b"destconfig: warning: a\ndestconfig: warning: b\ndestconfig: \n"
    )


@given(st.lists(st.text(_MESSAGE_CHARS, max_size=12) | st.text(max_size=12), max_size=6))
def test_lines_written_whole_equal_each_line_prefixed(lines: list[str]) -> None:
    for highlight in (False, True):
        stream = io.StringIO()
        program_error_lines(stream, lines, lead="warning: ", highlight=highlight)
        plain = io.StringIO()
        for line in lines:
            program_error(plain, f"warning: {line}", highlight=highlight)
        assert stream.getvalue().encode() == plain.getvalue().encode()
