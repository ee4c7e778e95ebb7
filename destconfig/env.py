"""The environment a session runs in: streams, clock, home and host name.

Like httpie's ``Environment``, everything the shell touches in the outside world
comes through here, so tests build their own with in-memory streams and a fixed
clock instead of patching globals.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

APP_NAME = "destconfig"
DEFAULT_HOSTNAME = "ESA"


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
    """All I/O of one session."""

    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    home: Path
    stdin_isatty: bool = False
    clock: Callable[[], datetime] = local_now
    hostname: str = DEFAULT_HOSTNAME
    echo: bool = True

    @classmethod
    def from_process(cls, home: Path, hostname: str, echo: bool) -> Environment:
        """The real process streams, with UTF-8 and ``\\n`` output whatever the locale."""
        stdout = io.TextIOWrapper(
            sys.stdout.buffer,
            encoding="utf-8",
            errors="replace",
            newline="\n",
            line_buffering=False,
        )
        stderr = io.TextIOWrapper(
            sys.stderr.buffer,
            encoding="utf-8",
            errors="replace",
            newline="\n",
            line_buffering=True,
        )
        return cls(
            stdin=sys.stdin.buffer,
            stdout=stdout,
            stderr=stderr,
            home=home,
            stdin_isatty=sys.stdin.isatty() and sys.stdout.isatty(),
            hostname=hostname,
            echo=echo,
        )
