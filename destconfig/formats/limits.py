"""How much a table file may hold, and how much of what is wrong with one is kept.

The store, the configuration directory and the transcript reader read files to the
same size, and the store commits no more entries than a reader accepts, so these
are shared beyond the formats. Readers look them up here when they run (not when
they are imported), so that a test can lower one.
"""

from __future__ import annotations

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 250_000  # the most entries a table may have (the store commits no more)
MAX_ERRORS = 10  # the shell shows this many
MAX_PROBLEMS = 100  # a format keeps at most this many, the first in line order
