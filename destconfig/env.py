"""The environment a process runs in: its streams, whether they are terminals, the
clock, the home and the network.

Like httpie's ``Environment``, everything the program touches in the outside world
comes through here, so tests build their own with in-memory streams and a fixed
clock instead of patching globals. How a session behaves (host name, echo,
tlsverify's limits) is no part of it: those are the shell's options.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from destconfig.tlsverify.options import Network

APP_NAME = "destconfig"


def local_now() -> datetime:
    """The local time, aware of its zone (its name is printed by commit)."""
    return datetime.now().astimezone()


def default_home() -> Path:
    """``$DESTCONFIG_HOME``, else the per-user data directory."""
    configured = os.environ.get("DESTCONFIG_HOME")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class Environment:
    """All I/O of one run of the program."""

    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    # The home when the command line names none; None: :func:`default_home`, looked
    # up only then (platformdirs is an import a session with --home does without).
    home: Path | None = None
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    # Plain text even at a terminal: NO_COLOR set to a non-empty value (no-color.org),
    # or TERM=dumb. Then a terminal gets exactly the bytes a pipe gets.
    plain: bool = False
    # The terminal's width in columns, for the tables and the progress bar drawn there.
    columns: int = 80
    clock: Callable[[], datetime] = local_now
    # tlsverify's name lookups; None: DNS (tests point names at loopback).
    network: Network | None = None

    @property
    def interactive(self) -> bool:
        """A person at a terminal: the shell reads lines with editing and history."""
        return self.stdin_isatty and self.stdout_isatty

    @property
    def color(self) -> bool:
        """Standard output is a terminal that takes colour and drawn tables (one-shot
        commands only: the shell's output is the appliance's, byte for byte)."""
        return self.stdout_isatty and not self.plain

    @property
    def stderr_color(self) -> bool:
        """Standard error is a terminal that takes highlighted errors and a progress bar."""
        return self.stderr_isatty and not self.plain

    @classmethod
    def from_process(cls) -> Environment:
        """The real process streams, with UTF-8 and ``\\n`` output whatever the locale.

        The only reader of :data:`sys.stdin`, :data:`sys.stdout` and :data:`sys.stderr`.
        """
        # A closed standard stream (``0<&-``) is None in Python: read nothing, write nowhere.
        stdin = sys.stdin.buffer if sys.stdin is not None else io.BytesIO()
        stdout = _utf8(sys.stdout, line_buffering=False) if sys.stdout else io.StringIO()
        stderr = _utf8(sys.stderr, line_buffering=True) if sys.stderr else io.StringIO()
        stdout_isatty = bool(sys.stdout and sys.stdout.isatty())
        stderr_isatty = bool(sys.stderr and sys.stderr.isatty())
        return cls(
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stdin_isatty=bool(sys.stdin and sys.stdin.isatty()),
            stdout_isatty=stdout_isatty,
            stderr_isatty=stderr_isatty,
            plain=bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb",
            columns=_columns(stdout if stdout_isatty else stderr)
            if stdout_isatty or stderr_isatty
            else 80,
        )


def _columns(terminal: TextIO) -> int:
    """``$COLUMNS`` when it is a number, else the width of the *terminal*, else 80."""
    configured = os.environ.get("COLUMNS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return os.get_terminal_size(terminal.fileno()).columns or 80
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80


def _utf8(stream: TextIO, *, line_buffering: bool) -> TextIO:
    """A UTF-8, ``\\n`` text stream on *stream*'s file descriptor, which it never closes."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return stream
    stream.flush()
    return open(  # lives as long as the process
        descriptor,
        "w",
        encoding="utf-8",
        errors="replace",
        newline="\n",
        closefd=False,
        buffering=1 if line_buffering else -1,
    )
