"""The program's exit statuses, one name for each reason a status is given.

Scripts tell outcomes apart by the status alone, so its values are part of the
interface: 0 when the session or command did what was asked, 1 when it ran but
the answer is "no" (a change refused, tables that differ, changes discarded at end
of input, a replay that failed), 2 when it could not run as asked (a usage error,
a configuration that cannot be read). Several names share 1 so that each call
site says which "no" it means.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    REFUSED = 1
    """A change or import refused, an entry not found, delivery that would not go ahead."""
    DIFFERENT = 1
    """``diff``: the tables differ."""
    DISCARDED = 1
    """The shell: input ended with changes pending, which were dropped."""
    FAILED = 1
    """A replay that failed, or standard output whose reader went away."""
    USAGE = 2
    """A usage error, or a configuration or home that cannot be used."""
    INTERRUPTED = 130
    """Ctrl-C outside the shell's own handling (128 + SIGINT, as the shells report it)."""
