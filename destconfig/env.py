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
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from destconfig.tlsverify.probe import Network

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


TLS_TIMEOUT = 10.0
"""tlsverify's default time limit of each network step, in seconds (a host gets three)."""


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
    # tlsverify: the trusted authorities (None: the system's), the timeout of each
    # network step, and name lookups (None: DNS; tests point names at loopback).
    ca_file: Path | None = None
    tls_timeout: float = TLS_TIMEOUT
    network: Network | None = None

    @classmethod
    def from_process(
        cls,
        home: Path,
        hostname: str,
        echo: bool,
        *,
        ca_file: Path | None = None,
        tls_timeout: float = TLS_TIMEOUT,
    ) -> Environment:
        """The real process streams, with UTF-8 and ``\\n`` output whatever the locale."""
        # A closed standard stream (``0<&-``) is None in Python: read nothing, write nowhere.
        stdin = sys.stdin.buffer if sys.stdin is not None else io.BytesIO()
        stdout = _utf8(sys.stdout, line_buffering=False) if sys.stdout else io.StringIO()
        stderr = _utf8(sys.stderr, line_buffering=True) if sys.stderr else io.StringIO()
        return cls(
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            home=home,
            stdin_isatty=bool(
                sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty()
            ),
            hostname=hostname,
            echo=echo,
            ca_file=ca_file,
            tls_timeout=tls_timeout,
        )


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
