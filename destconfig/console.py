"""The one writer, and the escaping of user-supplied text.

Every byte the shell prints goes through :class:`Console`, so the framing rules
(a block starts with an empty line, a rejection follows the answer line) live in
one place and the byte-exact output cannot drift between call sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def escape(text: str) -> str:
    """Make *text* safe to print: non-printable characters as ``repr()`` writes them.

    Printable characters (backslashes and quotes included) are kept, so that the
    common case reads exactly as typed while an escape sequence can never reach
    the terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def escape_lines(text: str) -> str:
    """:func:`escape` of each line, the line ends kept (for a block of several lines)."""
    return "\n".join(escape(line) for line in text.split("\n"))


# Select Graphic Rendition: bold red, then back to normal (written directly: an error
# is one line, and drawing it must not cost the import of a terminal library).
_HIGHLIGHT, _NORMAL = "\x1b[1;31m", "\x1b[0m"
_PREFIX = "destconfig:"


def program_error(stream: TextSink, message: str, *, highlight: bool = False) -> None:
    """``destconfig: MESSAGE`` on *stream*, a line each, escaped: how every error is written.

    Text that is already escaped stays as it is (escaped text is printable). With
    *highlight* (standard error is a terminal that takes colour) the prefix is in bold
    red; the message's characters are the same either way.
    """
    prefix = f"{_HIGHLIGHT}{_PREFIX}{_NORMAL}" if highlight else _PREFIX
    stream.write(_prefixed(prefix, message))


# What escape() keeps of ASCII text as it is, and the line end.
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _prefixed(prefix: str, message: str) -> str:
    """Each line of *message* after *prefix*, escaped, with its line end.

    A message of printable ASCII lines (an export's hundreds of thousands of losses)
    needs no escaping, so it is checked once and its lines joined whole;
    :func:`_prefixed_plainly` says the same a line at a time, and the tests hold the
    two equal."""
    if message.isascii() and not message.encode("ascii").translate(None, _PRINTABLE_ASCII):
        return f"{prefix} " + message.replace("\n", f"\n{prefix} ") + "\n"
    return _prefixed_plainly(prefix, message)


def _prefixed_plainly(prefix: str, message: str) -> str:
    return "".join(f"{prefix} {escape(line)}\n" for line in message.split("\n"))


def program_error_lines(
    stream: TextSink, lines: Sequence[str], *, lead: str = "", highlight: bool = False
) -> None:
    """:func:`program_error` of each of *lines* after *lead* (``warning: ``), in one write;
    nothing for no lines. For very many lines: each is joined once, not prefixed and
    then joined again."""
    if lines:
        prefix = f"{_HIGHLIGHT}{_PREFIX}{_NORMAL}" if highlight else _PREFIX
        stream.write(_lines_prefixed(prefix, lead, lines))


# Printable ASCII: a line of only these is written as it is.
_PRINTABLE_LINE = bytes(range(0x20, 0x7F))


def _lines_prefixed(prefix: str, lead: str, lines: Sequence[str]) -> str:
    """Each of *lines* after *prefix* and *lead*, with its line end, escaped: lines of
    printable ASCII (no line end within) are checked at once and joined whole; any other
    text as :func:`_prefixed_plainly` writes the lines joined, which the tests hold it to."""
    text = lead + "".join(lines)
    if text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_LINE):
        head = f"{prefix} {lead}"
        return head + f"\n{head}".join(lines) + "\n"
    return _prefixed_plainly(prefix, "\n".join(lead + line for line in lines))


class Console:
    """Writes the shell's output to one text stream."""

    def __init__(self, stream: TextSink) -> None:
        self._stream = stream

    def write(self, text: str, /) -> int:
        return self._stream.write(text)

    def block(self, text: str) -> None:
        """An output block: an empty line, then *text* and its line end."""
        self._stream.write("\n" + text + "\n")

    def reject(self, text: str) -> None:
        """A rejection, printed on the line right after the answer."""
        self._stream.write(text + "\n")

    def flush(self) -> None:
        self._stream.flush()
