"""How a shell session behaves, as the command line set it.

Apart from the :class:`~destconfig.env.Environment`: the environment is where
the session's input and output go, these are what the user chose for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from destconfig.tlsverify.options import TLS_TIMEOUT

DEFAULT_HOSTNAME = "ESA"


class ShellOptions(NamedTuple):
    """Immutable, and a named tuple rather than a frozen dataclass: every session
    builds the class, and a dataclass's generated methods cost ten times as much."""

    hostname: str = DEFAULT_HOSTNAME
    """Shown in the prompt and in EXPORT's message."""
    echo: bool = True
    """With piped input, the answers are written after the prompts (a transcript)."""
    ca_file: Path | None = None
    """tlsverify trusts the authorities in this PEM file (None: the system's)."""
    tls_timeout: float = TLS_TIMEOUT
    """tlsverify's time limit of each network step."""
    release: str | None = None
    """The appliance release whose dialogue the shell speaks, a name of
    :data:`destconfig.dialogue.release.NAMES`: ``--release``, else the home's setting;
    ``None``, neither says (the seed's)."""
