"""The home directory: the only code that reads or writes ``config.toml``.

A commit writes a temporary file beside ``config.toml``, flushes and fsyncs it,
then renames it over the old file (and fsyncs the directory), so a crash at any
moment leaves either the old or the new configuration, never a mix.

Commits take a lock on the home, and a commit is refused when the committed
file is no longer the one this store loaded: two sessions on one home never
overwrite each other's changes silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from destconfig.console import escape
from destconfig.formats import FormatError

if TYPE_CHECKING:
    from filelock import FileLock

    from destconfig.model import Table

CONFIG_NAME = "config.toml"
CONFIGURATION_DIR = "configuration"
ROLLBACK_DIR = "rollback"
HISTORY_NAME = "history"
LOG_NAME = "commits.log"
TIME_FORMAT = "%a %b %d %H:%M:%S %Y %Z"


LOCK_NAME = ".lock"
LOCK_TIMEOUT = 10.0


class StoreError(Exception):
    """The committed configuration cannot be read; the file is left as it is."""


class ConflictError(Exception):
    """Another session committed since this one loaded the configuration."""


class BusyError(Exception):
    """Another process held the home's lock for too long."""


def _digest(data: bytes | None) -> str | None:
    """What tells a file apart from the one loaded (BLAKE2b: the quickest of hashlib's here)."""
    return None if data is None else hashlib.blake2b(data).hexdigest()


def format_time(when: datetime) -> str:
    return when.strftime(TIME_FORMAT)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace *path* with *data* so that readers see the old or the new bytes only."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Store:
    """The committed configuration of one home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.config_path = home / CONFIG_NAME
        self.configuration_dir = home / CONFIGURATION_DIR
        self.rollback_dir = home / ROLLBACK_DIR
        self.history_path = home / HISTORY_NAME
        self.log_path = home / LOG_NAME
        self._file_lock: FileLock | None = None  # made on first use: filelock is slow to import
        self._base: str | None = None  # digest of the file as loaded (None: no file)
        self._loaded = False

    def prepare(self) -> None:
        """Create the home and its configuration directory (private to the user)."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.configuration_dir.mkdir(mode=0o700, exist_ok=True)

    def _lock(self) -> FileLock:
        if self._file_lock is None:
            from filelock import FileLock

            self._file_lock = FileLock(self.home / LOCK_NAME, timeout=LOCK_TIMEOUT, mode=0o600)
        return self._file_lock

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the home's lock (re-entrant), for a read-modify-commit."""
        from filelock import Timeout

        self.prepare()
        lock = self._lock()
        try:
            lock.acquire()
        except Timeout:
            raise BusyError(f"{self.home} is locked by another process") from None
        try:
            yield
        finally:
            lock.release()

    def _leftovers(self) -> list[Path]:
        """Temporary files of a commit killed half-way."""
        return [
            *self.home.glob(f".{CONFIG_NAME}.*.tmp"),
            *self.rollback_dir.glob(".config-*.toml.*.tmp"),
        ]

    def _sweep(self) -> None:
        """Remove what a commit killed half-way left (the lock held)."""
        for path in self._leftovers():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _sweep_if_free(self) -> None:
        """Sweep when no other process holds the lock (one that does may be mid-commit)."""
        if not self.home.is_dir() or not self._leftovers():
            return
        from filelock import Timeout

        lock = self._lock()
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError):
            return
        try:
            self._sweep()
        finally:
            lock.release()

    def _read(self) -> bytes | None:
        try:
            return self.config_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"{self.config_path}: {error.strerror}") from None

    def load(self) -> Table:
        """The committed table, or the factory configuration when none was committed.

        Remembers what it read, so that :meth:`commit` can tell whether another
        session committed in between.
        """
        committed = self.load_committed()
        if committed is None:
            from destconfig.model import FACTORY_TABLE

            return FACTORY_TABLE
        return committed

    def load_committed(self) -> Table | None:
        """The committed table, or ``None`` when none was committed (as :meth:`load`).

        A session on a new home starts from this: it builds the factory table (and
        the models behind it) only when a command needs the table.
        """
        self._sweep_if_free()
        data = self._read()
        self._base, self._loaded = _digest(data), True
        if data is None:
            return None
        from destconfig.formats import toml as toml_format

        try:
            return toml_format.loads(data)
        except FormatError as error:
            lines = "\n".join(
                f"  line {p.line}: {p.reason}" if p.line else f"  {p.reason}"
                for p in error.problems
            )
            raise StoreError(f"{self.config_path} is not a valid configuration:\n{lines}") from None

    def commit(self, table: Table, *, comment: str, when: datetime, keep_rollback: bool) -> None:
        """Save *table* as the committed configuration, and log the commit.

        Raises :class:`ConflictError` when the committed file changed since
        :meth:`load`, and :class:`BusyError` when the lock cannot be had.
        """
        from destconfig.formats import toml as toml_format

        with self.locked():
            self._sweep()
            if self._loaded and _digest(self._read()) != self._base:
                raise ConflictError(str(self.config_path))
            if keep_rollback:
                self._keep_rollback(when)
            data = toml_format.dumps(table)
            atomic_write(self.config_path, data)
            self._base, self._loaded = _digest(data), True
            self._log(when, comment)

    def _log(self, when: datetime, comment: str) -> None:
        """Append ``TIME<TAB>COMMENT`` to ``commits.log``, the history of commits."""
        line = f"{format_time(when)}\t{escape(comment)}\n".encode()
        descriptor = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _keep_rollback(self, when: datetime) -> None:
        """Copy the configuration as it is before this commit into ``rollback/``."""
        from destconfig.formats import toml as toml_format
        from destconfig.model import FACTORY_TABLE

        try:
            previous = self.config_path.read_bytes()
        except FileNotFoundError:
            previous = toml_format.dumps(FACTORY_TABLE)
        self.rollback_dir.mkdir(mode=0o700, exist_ok=True)
        stamp = when.strftime("%Y%m%dT%H%M%S")
        path = self.rollback_dir / f"config-{stamp}.toml"
        number = 1
        while path.exists():
            path = self.rollback_dir / f"config-{stamp}-{number}.toml"
            number += 1
        atomic_write(path, previous)
