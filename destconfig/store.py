"""The home directory: the only code that reads or writes ``config.toml``.

A commit writes a temporary file beside ``config.toml``, flushes and fsyncs it,
then renames it over the old file (and fsyncs the directory), so a crash at any
moment leaves either the old or the new configuration, never a mix.

Commits take a lock on the home, and a commit is refused when the committed
file is no longer the one this store loaded: two sessions on one home never
overwrite each other's changes silently.

What a commit writes, the next start must read back: a table is refused before
anything is written when it has more entries, or its file more bytes, than the
reader takes. Once the new file is renamed into place the commit has happened;
what fails after that (the line in ``commits.log``) is a warning, never a
failed commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from destconfig.console import escape
from destconfig.formats.limits import MAX_ENTRIES, MAX_FILE_BYTES
from destconfig.formats.problems import FormatError
from destconfig.safeio import (
    append_regular,
    make_private_directory,
    open_regular,
    read_descriptor,
    temporary_prefix,
)

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


class LockError(Exception):
    """The home's lock file cannot be opened (a read-only home, ``.lock`` not a file)."""

    def __init__(self, home: Path, reason: str) -> None:
        super().__init__(f"cannot lock the home {escape(str(home))}: {reason}")
        self.reason = reason


class TooLarge(Exception):
    """A table larger than the store reads back; nothing was written."""


def too_large(table: Table, data: bytes | None) -> str | None:
    """Why *table* (written as *data*) cannot be committed, or ``None`` when it can.

    The same limits as the reader's: a table the store accepted always loads.
    """
    if len(table.entries) > MAX_ENTRIES:
        return f"the table has {len(table.entries)} entries; a table may have at most {MAX_ENTRIES}"
    if data is not None and len(data) > MAX_FILE_BYTES:
        return (
            f"the configuration would be {len(data)} bytes; {CONFIG_NAME} may have at "
            f"most {MAX_FILE_BYTES}"
        )
    return None


def _others_may_write(mode: int) -> bool:
    return bool(mode & stat.S_IWOTH)


def _digest(data: bytes | None) -> str | None:
    """What tells a file apart from the one loaded (BLAKE2b: the quickest of hashlib's here)."""
    return None if data is None else hashlib.blake2b(data).hexdigest()


def format_time(when: datetime) -> str:
    return when.strftime(TIME_FORMAT)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace *path* with *data* so that readers see the old or the new bytes only."""
    replace(path, data)
    sync_directory(path.parent)


def replace(path: Path, data: bytes) -> None:
    """Write *data* beside *path*, flushed to the disk, then rename it over *path*.

    When this raises, *path* is as it was and no temporary file is left.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path), suffix=".tmp")
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


def sync_directory(path: Path) -> None:
    """Flush a directory's entries (a rename in it) to the disk."""
    directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
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
        """Create the home and its configuration directory (private to the user).

        A home that others may write is refused (:class:`StoreError`): whoever can
        write it can replace the configuration.
        """
        make_private_directory(self.home)
        make_private_directory(self.configuration_dir)
        mode = os.stat(self.home).st_mode
        if _others_may_write(mode):
            raise StoreError(
                f"the home {escape(str(self.home))} is writable by others "
                f"(mode {stat.S_IMODE(mode):04o}); make it private: chmod 700"
            )

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
            raise BusyError(f"{escape(str(self.home))} is locked by another process") from None
        except OSError as error:
            raise LockError(self.home, error.strerror or str(error)) from None
        try:
            yield
        finally:
            lock.release()

    def _leftovers(self) -> list[Path]:
        """Temporary files of a commit killed half-way."""
        return [
            *self.home.glob(f".{CONFIG_NAME}.*.tmp"),
            *self.rollback_dir.glob(".config-*.toml.*.tmp"),
            # An export's: a name there never starts with a dot (confdir.check_name).
            *self.configuration_dir.glob(".*.tmp"),
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
        """The committed file's bytes (at most one past the limit), ``None`` when none.

        Not followed if a link, and refused unless a regular file: a FIFO would
        block, a device would flood the read. Refused too when others may write it.
        """
        shown = escape(str(self.config_path))
        try:
            descriptor, status = open_regular(self.config_path)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"{shown}: {error.strerror}") from None
        try:
            if _others_may_write(status.st_mode):
                raise StoreError(
                    f"{shown} is writable by others (mode {stat.S_IMODE(status.st_mode):04o}); "
                    "make it private: chmod 600"
                )
            return read_descriptor(descriptor, MAX_FILE_BYTES)
        except OSError as error:
            raise StoreError(f"{shown}: {error.strerror}") from None
        finally:
            os.close(descriptor)

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
        shown = escape(str(self.config_path))
        if not data.strip():  # a commit never writes an empty file: it is damage
            raise StoreError(f"{shown} is empty; a commit never leaves it so")
        from destconfig.formats import toml as toml_format

        try:
            return toml_format.loads(data)
        except FormatError as error:
            lines = "\n".join(
                f"  line {p.line}: {p.reason}" if p.line else f"  {p.reason}"
                for p in error.problems
            )
            raise StoreError(f"{shown} is not a valid configuration:\n{lines}") from None

    def commit(
        self, table: Table, *, comment: str, when: datetime, keep_rollback: bool
    ) -> list[str]:
        """Save *table* as the committed configuration, and log the commit.

        Raises, with nothing changed: :class:`ConflictError` when the committed
        file changed since :meth:`load`, :class:`BusyError` or :class:`LockError`
        when the lock cannot be had, :class:`TooLarge` for a table the store could
        not read back, :class:`StoreError` when the committed file cannot be read,
        ``OSError`` when the disk refuses the new file. Returns the warnings of a
        commit that happened: what failed after the new file took the old one's place.
        """
        from destconfig.formats import toml as toml_format

        problem = too_large(table, None)
        if problem is not None:
            raise TooLarge(problem)
        with self.locked():
            self._sweep()
            current = self._read()
            if self._loaded and _digest(current) != self._base:
                raise ConflictError(str(self.config_path))
            data = toml_format.dumps(table)
            problem = too_large(table, data)
            if problem is not None:
                raise TooLarge(problem)
            if keep_rollback:
                self._keep_rollback(when, current)
            replace(self.config_path, data)
            # From here on, the commit has happened.
            self._base, self._loaded = _digest(data), True
            warnings: list[str] = []
            try:
                sync_directory(self.home)
            except OSError as error:
                warnings.append(f"the commit may not survive a crash: {error.strerror}")
            try:
                self._log(when, comment)
            except OSError as error:
                warnings.append(f"the commit was not recorded in {LOG_NAME}: {error.strerror}")
            return warnings

    def _log(self, when: datetime, comment: str) -> None:
        """Append ``TIME<TAB>COMMENT`` to ``commits.log``, the history of commits."""
        line = f"{format_time(when)}\t{escape(comment)}\n".encode()
        append_regular(self.log_path, line)

    def _keep_rollback(self, when: datetime, previous: bytes | None) -> None:
        """Copy the configuration as it is before this commit into ``rollback/``."""
        from destconfig.formats import toml as toml_format
        from destconfig.model import FACTORY_TABLE

        if previous is None:
            previous = toml_format.dumps(FACTORY_TABLE)
        self.rollback_dir.mkdir(mode=0o700, exist_ok=True)
        stamp = when.strftime("%Y%m%dT%H%M%S")
        path = self.rollback_dir / f"config-{stamp}.toml"
        number = 1
        while path.exists():
            path = self.rollback_dir / f"config-{stamp}-{number}.toml"
            number += 1
        atomic_write(path, previous)
