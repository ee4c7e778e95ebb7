"""File formats of a table: pure ``loads(bytes) -> Table`` / ``dumps(Table) -> bytes``."""

from __future__ import annotations


class FormatError(ValueError):
    """A file that cannot be read as a table; ``errors`` are lines for a person."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
