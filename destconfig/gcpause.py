"""Building a whole table without the cyclic garbage collector.

Reading a table of 100,000 entries allocates several hundred thousand small
containers (parsed dictionaries, then one model instance each). Every 700
allocations CPython's cyclic collector runs, and its older generations walk
everything built so far, so a large read spends a third or more of its time in
collections that find nothing: parsed documents and frozen entries hold no
reference cycles. Pausing the collector for the read (and restoring it after,
also on error) removes that cost; reference counting still frees everything.

Once the collector runs again, its next collection would walk all of that once
more (about 0.1 s for 100,000 entries). A process that keeps what it read for
the rest of its life (the shell its committed table, a one-shot command its
table) calls :func:`keep` to move it out of the collector's way.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc(function: Callable[P, R]) -> Callable[P, R]:
    """*function* run with the cyclic collector paused, as it was before afterwards."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


def keep() -> None:
    """Leave everything built so far out of the cyclic collector's walks (``gc.freeze``).

    For what a process keeps until it exits. Reference counting still frees any
    of it that is let go; only a reference cycle among it would stay (tables hold
    none).
    """
    gc.freeze()
