"""What a one-shot command works with: its environment, writers and store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from destconfig.console import Console, TextSink, program_error, program_error_lines
from destconfig.env import Environment
from destconfig.exitstatus import ExitStatus
from destconfig.formats import toml as toml_format
from destconfig.gcpause import keep
from destconfig.model import Table, effective
from destconfig.store import Store, StoreError

if TYPE_CHECKING:
    from destconfig.terminal_views import ProgressBar


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
    reader: Callable[[], Table] | None = None  # --level: the table of a cluster's level

    @classmethod
    def of(cls, env: Environment, home: Path) -> Context:
        return cls(env, Console(env.stdout), Console(env.stderr), Store(home))

    def load(self) -> Table:
        """The committed table; a damaged configuration is a usage error (exit 2).

        With ``--level`` in a cluster home, that level's table in the repository."""
        if self.reader is not None:
            return self.reader()
        try:
            table = self.store.load()
        except StoreError as error:
            raise CommandError(str(error), ExitStatus.USAGE) from None
        keep()  # a one-shot command keeps its table until it exits
        return table

    def error(self, message: str) -> None:
        """``destconfig: MESSAGE`` on standard error, the prefix highlighted at a terminal."""
        program_error(self.err, message, highlight=self.env.stderr_color)

    def error_lines(self, lines: Sequence[str], *, lead: str = "") -> None:
        """:meth:`error` of each of *lines* after *lead*, in one write (nothing for none)."""
        program_error_lines(self.err, lines, lead=lead, highlight=self.env.stderr_color)

    @contextmanager
    def steps(self, titles: Sequence[str]) -> Iterator[tuple[Context, Steps]]:
        """The steps of a long piece of work (:class:`Steps`), and this context with
        writers that take the progress bar away before they write."""
        steps = Steps(self.env, titles)
        try:
            yield self._first(steps.stop), steps
        finally:
            steps.stop()

    def _first(self, call: Callable[[], None]) -> Context:
        return replace(
            self,
            out=Console(_CallsFirst(self.out, call)),
            err=Console(_CallsFirst(self.err, call)),
        )

    def document(self, data: Any, fmt: str) -> None:
        """*data* as JSON or TOML on standard output."""
        if fmt == "json":
            self.out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            import tomli_w

            self.out.write(tomli_w.dumps(data))


class Steps:
    """The named steps of a piece of work that may take some seconds.

    Shown, from :meth:`show` on, as a progress bar on standard error when it is a
    terminal that takes one (:attr:`Environment.stderr_color`); elsewhere nothing is
    drawn and rich is never imported.
    """

    def __init__(self, env: Environment, titles: Sequence[str]) -> None:
        self._env = env
        self._titles = titles
        self._done = 0
        self._bar: ProgressBar | None = None
        self._stopped = False

    def show(self) -> None:
        """Draw the bar from now on (the work has turned out to be large)."""
        if self._bar is not None or self._stopped or not self._env.stderr_color:
            return
        from destconfig.terminal_views import ProgressBar

        self._bar = ProgressBar(self._env.stderr, self._env.columns, self._titles)
        for _ in range(self._done):
            self._bar.advance()
        self._bar.start()

    def next(self) -> None:
        """The step under way is done; the next begins."""
        self._done += 1
        if self._bar is not None:
            self._bar.advance()

    def stop(self) -> None:
        """Erase the bar (for good: a line is about to be written, or the work is over)."""
        self._stopped = True
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class _CallsFirst:
    """A stream that calls *call* before each write."""

    def __init__(self, sink: TextSink, call: Callable[[], None]) -> None:
        self._sink = sink
        self._call = call

    def write(self, text: str, /) -> int:
        self._call()
        return self._sink.write(text)

    def flush(self) -> None:
        self._sink.flush()


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
