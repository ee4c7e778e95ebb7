"""The one reader: every answer the shell takes comes through ``Reader.read``.

Two drivers implement it: :class:`StreamReader` for piped input (it writes the
prompt, reads a line and echoes it, so the output reads like a terminal session)
and ``TerminalReader`` (in :mod:`destconfig.dialogue.terminal`, which alone
imports prompt_toolkit) for an interactive terminal.

``read`` raises ``EOFError`` at end of input, :class:`Leave` (an ``EOFError``)
for Ctrl-D at a terminal and ``KeyboardInterrupt`` for Ctrl-C; the shell decides
what they mean.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import BinaryIO, Protocol

from destconfig.console import Console, escape

LineSource = Callable[[], "str | None"]

# A line longer than this is cut (the rest is read and dropped) so that a
# hostile input cannot exhaust memory; no answer is anywhere near it.
MAX_LINE_BYTES = 1 << 20


class PromptKind(enum.Enum):
    """What a prompt asks for, and so which history Up recalls there.

    Host commands and menu operations each have a history of their own, kept in
    the home; other answers (Y or N, numbers, names, comments) are not kept, so
    that Up never offers the answer to another question.
    """

    HOST = "host"  # a host command, at the host prompt
    MENU = "menu"  # an operation, at an operation menu
    ANSWER = "answer"  # any other answer


class Leave(EOFError):
    """Ctrl-D on an empty line at a terminal: the input has not ended.

    An ``EOFError``, so that where Ctrl-D and the end of input mean the same (the
    host prompt: quit) nothing tells them apart; inside a command it leaves what
    is being asked, as Ctrl-C does, where the end of piped input ends the session.
    """


class Reader(Protocol):
    def read(
        self, prompt: str, completions: Iterable[str] = (), *, kind: PromptKind = PromptKind.ANSWER
    ) -> str:
        """Show *prompt*, return the answer line without its line ending.

        *completions* are offered at a terminal, and *kind* chooses the history
        recalled there.
        """
        ...


def decode_line(raw: bytes) -> str:
    """A line as read: line ending removed, invalid UTF-8 as U+FFFD."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
    return raw.decode("utf-8", errors="replace")


def binary_lines(stream: BinaryIO) -> LineSource:
    """Lines of a binary stream, one per call, ``None`` at its end."""

    def next_line() -> str | None:
        raw = stream.readline(MAX_LINE_BYTES)
        if not raw:
            return None
        if not raw.endswith(b"\n"):
            rest = stream.readline(MAX_LINE_BYTES)
            if raw.endswith(b"\r") and rest.startswith(b"\n"):
                raw = raw[:-1]  # the cut fell inside a \r\n line ending
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(MAX_LINE_BYTES)
        return decode_line(raw)

    return next_line


class StreamReader:
    """Reads answers from a line source, writing prompts and echoes to the console."""

    def __init__(self, source: LineSource, console: Console, *, echo: bool = True) -> None:
        self._source = source
        self._console = console
        self._echo = echo

    def read(
        self, prompt: str, completions: Iterable[str] = (), *, kind: PromptKind = PromptKind.ANSWER
    ) -> str:
        self._console.write(prompt)
        self._console.flush()  # a program at the other end of a pipe waits for the prompt
        line = self._source()
        if line is None:
            self._console.write("\n")
            self._console.flush()
            raise EOFError
        if self._echo:
            self._console.write(escape(line) + "\n")
        return line
