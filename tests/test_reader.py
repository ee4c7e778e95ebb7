"""The readers (spec §2, §3.3): piped lines with their echo, and the terminal driver."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from destconfig.console import Console
from destconfig.dialogue.reader import (
    MAX_LINE_BYTES,
    Leave,
    PromptKind,
    StreamReader,
    binary_lines,
    decode_line,
)
from destconfig.dialogue.terminal import TerminalReader, _Words
from tests.helpers import run_session


def from_list(answers: list[str]) -> tuple[StreamReader, io.StringIO]:
    out = io.StringIO()
    pending = iter(answers)
    return StreamReader(lambda: next(pending, None), Console(out)), out


def from_bytes(data: bytes, *, echo: bool = True) -> tuple[StreamReader, io.StringIO]:
    out = io.StringIO()
    return StreamReader(binary_lines(io.BytesIO(data)), Console(out), echo=echo), out


def all_lines(data: bytes) -> list[str]:
    source = binary_lines(io.BytesIO(data))
    found = []
    while (line := source()) is not None:
        found.append(line)
    return found


# --- StreamReader -------------------------------------------------------------------------


def test_echo_on_writes_prompt_answer_and_newline() -> None:
    reader, out = from_list(["example.com"])
    assert reader.read("[]> ") == "example.com"
    assert out.getvalue() == "[]> example.com\n"


def test_echo_off_writes_only_the_prompt() -> None:
    reader, out = from_bytes(b"example.com\nY\n", echo=False)
    assert reader.read("[]> ") == "example.com"
    assert reader.read("Sure? [N]> ") == "Y"
    assert out.getvalue() == "[]> Sure? [N]> "


def test_echo_keeps_surrounding_spaces() -> None:
    reader, out = from_list(["  192.0.2.10  "])
    assert reader.read("[]> ") == "  192.0.2.10  "
    assert out.getvalue() == "[]>   192.0.2.10  \n"


def test_empty_answer_is_echoed_as_an_empty_line() -> None:
    reader, out = from_list([""])
    assert reader.read("[1]> ") == ""
    assert out.getvalue() == "[1]> \n"


@pytest.mark.parametrize(
    ("line", "echo"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\tb", "a\\tb"),
        ("exa\u200bmple.com", "exa\\u200bmple.com"),
        ("a\rb", "a\\rb"),
        ("\x00", "\\x00"),
        ("back\\slash \"quoted\" 'too'", "back\\slash \"quoted\" 'too'"),
    ],
)
def test_control_characters_are_escaped_in_the_echo(line: str, echo: str) -> None:
    reader, out = from_list([line])
    assert reader.read("[]> ") == line  # the answer itself is not changed
    assert out.getvalue() == "[]> " + echo + "\n"


def test_end_of_input_writes_one_newline_and_raises() -> None:
    reader, out = from_list([])
    with pytest.raises(EOFError):
        reader.read("ESA> ")
    assert out.getvalue() == "ESA> \n"


def test_end_of_input_after_answers() -> None:
    reader, out = from_bytes(b"help\n")
    assert reader.read("ESA> ") == "help"
    with pytest.raises(EOFError):
        reader.read("ESA> ")
    assert out.getvalue() == "ESA> help\nESA> \n"


def test_end_of_input_without_echo_still_ends_the_line() -> None:
    reader, out = from_bytes(b"", echo=False)
    with pytest.raises(EOFError):
        reader.read("[]> ")
    assert out.getvalue() == "[]> \n"


def test_crlf_endings_are_removed_and_not_echoed() -> None:
    reader, out = from_bytes(b"destconfig\r\nnew\r\n")
    assert reader.read("ESA> ") == "destconfig"
    assert reader.read("[]> ") == "new"
    assert out.getvalue() == "ESA> destconfig\n[]> new\n"


def test_invalid_utf8_reads_as_replacement_and_is_echoed() -> None:
    reader, out = from_bytes(b"caf\xe9\n\xff\xfe\n")
    assert reader.read("[]> ") == "caf\ufffd"
    assert reader.read("[]> ") == "\ufffd\ufffd"
    assert out.getvalue() == "[]> caf\ufffd\n[]> \ufffd\ufffd\n"


def test_utf8_is_read_as_utf8() -> None:
    reader, out = from_bytes("faß.de\n例え.jp\n".encode())
    assert reader.read("[]> ") == "faß.de"
    assert reader.read("[]> ") == "例え.jp"
    assert out.getvalue() == "[]> faß.de\n[]> 例え.jp\n"


# --- binary_lines / decode_line -----------------------------------------------------------


def test_lines_with_lf_crlf_and_a_last_line_without_newline() -> None:
    assert all_lines(b"one\ntwo\r\n\nthree") == ["one", "two", "", "three"]


def test_only_one_line_ending_is_removed() -> None:
    assert all_lines(b"a\r\r\nb\n\n") == ["a\r", "b", ""]
    assert all_lines(b"lone cr\r") == ["lone cr\r"]


def test_no_lines_in_an_empty_stream() -> None:
    assert all_lines(b"") == []


def test_decode_line() -> None:
    assert decode_line(b"x\r\n") == "x"
    assert decode_line(b"x\n") == "x"
    assert decode_line(b"x") == "x"
    assert decode_line(b"\xc3\n") == "\ufffd"
    assert decode_line(b" \xc3\xa9 \n") == " \u00e9 "


def test_a_line_longer_than_the_limit_is_cut_and_the_rest_dropped() -> None:
    data = b"a" * (MAX_LINE_BYTES + 10) + b"\nnext\n"
    assert all_lines(data) == ["a" * MAX_LINE_BYTES, "next"]


def test_a_line_several_times_the_limit() -> None:
    data = b"b" * (3 * MAX_LINE_BYTES + 1) + b"\r\nnext\r\nlast"
    assert all_lines(data) == ["b" * MAX_LINE_BYTES, "next", "last"]


def test_a_long_last_line_without_newline() -> None:
    assert all_lines(b"x\n" + b"c" * (MAX_LINE_BYTES + 5)) == ["x", "c" * MAX_LINE_BYTES]


def test_lines_at_the_limit_are_whole() -> None:
    exact = b"d" * MAX_LINE_BYTES
    assert all_lines(exact + b"\nnext\n") == ["d" * MAX_LINE_BYTES, "next"]
    under = b"e" * (MAX_LINE_BYTES - 1)
    assert all_lines(under + b"\nnext\n") == ["e" * (MAX_LINE_BYTES - 1), "next"]
    assert all_lines(exact + b"\r\nnext\n") == ["d" * MAX_LINE_BYTES, "next"]


def test_crlf_split_by_the_limit_is_still_a_line_ending() -> None:
    under = b"e" * (MAX_LINE_BYTES - 1)
    assert all_lines(under + b"\r\nnext\n") == ["e" * (MAX_LINE_BYTES - 1), "next"]


def test_a_cut_inside_a_character_reads_as_replacement() -> None:
    data = b"f" * (MAX_LINE_BYTES - 1) + "é".encode() + b"\nnext\n"
    assert all_lines(data) == ["f" * (MAX_LINE_BYTES - 1) + "\ufffd", "next"]


# --- whole sessions through the stream reader ---------------------------------------------


def test_crlf_session_prints_the_same_as_lf(tmp_path: Path) -> None:
    lf = run_session(tmp_path / "lf", b"help\nfrob\nquit\n")
    crlf = run_session(tmp_path / "crlf", b"help\r\nfrob\r\nquit")
    assert crlf.stdout == lf.stdout
    assert crlf.status == lf.status == 0


def test_session_echo_of_invalid_utf8_and_control_characters(tmp_path: Path) -> None:
    out = run_session(tmp_path, b"fr\xffob\n\x1b[1mx\n").stdout
    assert out == (
        "ESA> fr\ufffdob\n"
        "\nUnknown command or missing feature key: fr\ufffdob\n"
        "\nESA> \\x1b[1mx\n"
        "\nUnknown command or missing feature key: \\x1b[1mx\n"
        "\nESA> \n"
    )


def test_session_without_echo(tmp_path: Path) -> None:
    out = run_session(tmp_path, b"frob\n", echo=False).stdout
    assert out == "ESA> \nUnknown command or missing feature key: frob\n\nESA> \n"


# --- TerminalReader -----------------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def terminal(pipe: PipeInput, history: Path | None = None) -> TerminalReader:
    histories = {} if history is None else {PromptKind.HOST: history}
    return TerminalReader(
        Console(io.StringIO()), histories=histories, input=pipe, output=DummyOutput()
    )


def test_terminal_reads_a_line(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("example.com\r")
    assert reader.read("[]> ") == "example.com"


def test_terminal_keeps_surrounding_spaces(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("  spaced  \r")
    assert reader.read("[]> ") == "  spaced  "


def test_terminal_line_editing(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("exampel\x7f\x7fle.com\r")  # two backspaces
    assert reader.read("[]> ") == "example.com"


def test_terminal_reads_several_lines(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("destconfig\r")
    assert reader.read("ESA> ", kind=PromptKind.HOST) == "destconfig"
    pipe.send_text("new\r")
    assert reader.read("[]> ", ("NEW", "EDIT"), kind=PromptKind.MENU) == "new"


def test_terminal_ctrl_d_on_an_empty_line_is_leave_at_the_host_prompt_too(pipe: PipeInput) -> None:
    # The reader does not tell prompts apart: Ctrl-D while the input goes on is Leave
    # everywhere; the shell makes it quit at the host prompt.
    reader = terminal(pipe)
    pipe.send_text("\x04")
    with pytest.raises(EOFError) as raised:
        reader.read("ESA> ", kind=PromptKind.HOST)
    assert type(raised.value) is Leave


def test_terminal_ctrl_d_is_leave_while_the_input_goes_on(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("\x04")
    with pytest.raises(Leave):
        reader.read("[]> ")
    pipe.send_text("again\r")
    assert reader.read("[]> ") == "again"


def test_terminal_input_that_ends_is_end_of_input_not_leave(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.close()  # the writing end: the terminal's input has ended
    with pytest.raises(EOFError) as raised:
        reader.read("[]> ")
    assert not isinstance(raised.value, Leave)


UP = "\x1b[A"


def test_terminal_each_kind_of_prompt_recalls_its_own_history(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    for text, kind in (
        ("destconfig", PromptKind.HOST),
        ("clear", PromptKind.MENU),
        ("Y", PromptKind.ANSWER),
    ):
        pipe.send_text(text + "\r")
        assert reader.read("> ", kind=kind) == text
    pipe.send_text(UP + "\r")
    assert reader.read("ESA> ", kind=PromptKind.HOST) == "destconfig"
    pipe.send_text(UP + "\r")
    assert reader.read("[]> ", kind=PromptKind.MENU) == "clear"
    pipe.send_text(UP + "\r")
    assert reader.read("[]> ") == ""  # other answers are not kept


def test_terminal_ctrl_c_is_keyboard_interrupt(pipe: PipeInput) -> None:
    reader = terminal(pipe)
    pipe.send_text("half typed\x03")
    with pytest.raises(KeyboardInterrupt):
        reader.read("[]> ")
    # The reader is usable again afterwards.
    pipe.send_text("again\r")
    assert reader.read("[]> ") == "again"


def test_terminal_history_file_is_written_for_commands(pipe: PipeInput, tmp_path: Path) -> None:
    history = tmp_path / "history"
    reader = terminal(pipe, history)
    pipe.send_text("destconfig\r")
    assert reader.read("ESA> ", kind=PromptKind.HOST) == "destconfig"
    text = history.read_text(encoding="utf-8")
    assert "\n+destconfig\n" in text


def test_terminal_history_keeps_answers_out_of_the_file(pipe: PipeInput, tmp_path: Path) -> None:
    history = tmp_path / "history"
    reader = terminal(pipe, history)
    pipe.send_text("commit\r")
    reader.read("ESA> ", kind=PromptKind.HOST)
    pipe.send_text("my secret comment\r")
    assert reader.read("[]> ") == "my secret comment"
    assert "my secret comment" not in history.read_text(encoding="utf-8")


def test_terminal_history_is_recalled_in_a_later_session(tmp_path: Path) -> None:
    history = tmp_path / "history"
    with create_pipe_input() as first:
        reader = terminal(first, history)
        first.send_text("destconfig\r")
        reader.read("ESA> ", kind=PromptKind.HOST)
    with create_pipe_input() as second:
        reader = terminal(second, history)
        second.send_text("\x1b[A\r")  # Up, Enter
        assert reader.read("ESA> ", kind=PromptKind.HOST) == "destconfig"


def completions(words: tuple[str, ...], typed: str) -> list[tuple[str, int]]:
    completer = _Words()
    completer.words = words
    found = completer.get_completions(Document(typed), CompleteEvent(completion_requested=True))
    return [(completion.text, completion.start_position) for completion in found]


MENU_WORDS = ("SETUP", "NEW", "EDIT", "DELETE", "DEFAULT", "LIST", "DETAIL", "CLEAR")


def test_completion_offers_the_given_words() -> None:
    assert completions(MENU_WORDS, "de") == [("DEFAULT", -2), ("DELETE", -2), ("DETAIL", -2)]
    assert completions(MENU_WORDS, "NE") == [("NEW", -2)]
    assert completions(("example.com", "example.org", "other.net"), "exa") == [
        ("example.com", -3),
        ("example.org", -3),
    ]


def test_completion_of_nothing_typed_offers_every_word_sorted() -> None:
    assert [text for text, _ in completions(MENU_WORDS, "")] == sorted(MENU_WORDS)


def test_completion_ignores_leading_spaces() -> None:
    assert completions(MENU_WORDS, "  li") == [("LIST", -2)]


def test_completion_with_no_match_offers_nothing() -> None:
    assert completions(MENU_WORDS, "zz") == []
    assert completions((), "a") == []
