"""What tlsverify is given: a time limit, the trusted authorities, and the network.

The command line (``--tls-timeout`` and ``--ca-file`` for the shell), the one-shot
``tlsverify`` command and the probe all take these from here, so none of them
imports another to share them. Nothing here imports ``ssl`` or the resolver until
it is used: the command line loads this module for every session.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Protocol

TLS_TIMEOUT = 10.0
"""tlsverify's default time limit of each network step, in seconds (a host gets three)."""


class Network(Protocol):
    """Name lookups: DNS by default; tests point names at servers on loopback."""

    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        """Host names in MX preference order; ``[]`` when the domain has no MX record."""
        ...

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for *host*, in order (``OSError`` when none)."""
        ...


def seconds(count: float) -> str:
    """*count* seconds in words: "1 second", "2.5 seconds"."""
    return "1 second" if count == 1 else f"{count:g} seconds"


def timed_out(limit: float) -> str:
    """What a step that outlived its *limit* says, after what timed out."""
    return f"timed out after {seconds(limit)}"


def timeout_seconds(value: str) -> float:
    """An argparse type: tlsverify's time limit of each network step."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("a number of seconds above 0, 3600 at most")
    return seconds


def check_ca_file(path: Path) -> str | None:
    """Why *path* cannot serve as the trusted authorities, or ``None`` when it can.

    Only a regular file is handed to ``ssl``: it opens the path with a blocking read,
    so a FIFO or a device would hang the command instead of being refused.
    """
    import ssl
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return f"{path}: is a directory"
    if not stat.S_ISREG(mode):
        return f"{path}: not a regular file"
    try:
        ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        return f"{path}: no such file"
    except IsADirectoryError:
        return f"{path}: is a directory"
    except OSError as error:
        if isinstance(error, ssl.SSLError):
            return f"{path}: not a PEM file of certificates"
        return f"{path}: {error.strerror or error}"
    return None
