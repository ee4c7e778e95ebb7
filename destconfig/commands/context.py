"""What a one-shot command works with: its environment, writers and store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from destconfig.console import Console, program_error
from destconfig.env import Environment
from destconfig.exitstatus import ExitStatus
from destconfig.formats import toml as toml_format
from destconfig.gcpause import keep
from destconfig.model import Table, effective
from destconfig.store import Store, StoreError


class CommandError(Exception):
    """A command that stops: *message* goes to standard error, *status* is the exit status."""

    def __init__(self, message: str, status: int = ExitStatus.REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Context:
    env: Environment
    out: Console
    err: Console
    store: Store

    @classmethod
    def of(cls, env: Environment, home: Path) -> Context:
        return cls(env, Console(env.stdout), Console(env.stderr), Store(home))

    def load(self) -> Table:
        """The committed table; a damaged configuration is a usage error (exit 2)."""
        try:
            table = self.store.load()
        except StoreError as error:
            raise CommandError(str(error), ExitStatus.USAGE) from None
        keep()  # a one-shot command keeps its table until it exits
        return table

    def error(self, message: str) -> None:
        program_error(self.env.stderr, message)

    def document(self, data: Any, fmt: str) -> None:
        """*data* as JSON or TOML on standard output."""
        if fmt == "json":
            self.out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            import tomli_w

            self.out.write(tomli_w.dumps(data))


def table_document(table: Table) -> dict[str, Any]:
    return toml_format.to_document(table)


def effective_values(table: Table, key: str | None) -> dict[str, Any]:
    """What applies to the destination of entry *key* (None: the default entry), as JSON
    values; ``None`` where nothing is set (no recipient limit, the system bounce profile)."""
    entry = None if key is None else table.entries[key]
    return {
        name: (value.value if isinstance(value, Enum) else value)
        for name, value in effective(entry, table.default).items()
    }
