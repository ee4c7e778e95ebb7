"""Building a whole table without the cyclic garbage collector.

Reading a table of 100,000 entries allocates several hundred thousand small
containers (parsed dictionaries, then one model instance each). Every 700
allocations CPython's cyclic collector runs, and its older generations walk
everything built so far, so a large read spends a third or more of its time in
collections that find nothing: parsed documents and frozen entries hold no
reference cycles. Pausing the collector for the read (and restoring it after,
also on error) removes that cost; reference counting still frees everything.
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
