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

A commit may keep the configuration it replaces in ``rollback/``, for a later
rollback. Each copy is named by a sequence number (so that name order is commit
order whatever the clock says) and has beside it the time and comment of the
commit that made it: the store records those of ``config.toml`` in
``config.commit`` with the file's digest, so that a file put in place by other
means is never taken for the commit's. Only the newest copies are kept
(``settings.toml``, which also keeps the shell's appliance release). What
``rollback/`` holds is read without trusting it: names that are not a copy's,
and files that are not regular, are passed over, and
every read is bounded. ``rollback/`` itself is never followed if a link: copies
kept through it would land wherever it points.

A copy is the replaced ``config.toml`` itself, linked into ``rollback/`` before
the new file is renamed over it, so the whole file is kept whatever its size
(a damaged one may be larger than the store reads); where it cannot be linked,
it is copied.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from destconfig.console import escape
from destconfig.dialogue import release as releases
from destconfig.formats.limits import MAX_ENTRIES, MAX_FILE_BYTES
from destconfig.formats.problems import FormatError
from destconfig.safeio import (
    append_regular,
    make_private_directory,
    open_regular,
    read_descriptor,
    read_regular,
    temporary_prefix,
    write_all,
)

if TYPE_CHECKING:
    from filelock import FileLock

    from destconfig.model import Table

CONFIG_NAME = "config.toml"
CONFIGURATION_DIR = "configuration"
ROLLBACK_DIR = "rollback"
HISTORY_NAME = "history"
MENU_HISTORY_NAME = "menu-history"  # the menu's operations; HISTORY_NAME keeps host commands
LOG_NAME = "commits.log"
RECORD_NAME = "config.commit"
SETTINGS_NAME = "settings.toml"
TIME_FORMAT = "%a %b %d %H:%M:%S %Y %Z"

ROLLBACK_KEEP = 10  # copies kept when settings.toml does not say
ROLLBACK_KEEP_MAX = 1000
MAX_SETTINGS_BYTES = 64 * 1024
MAX_RECORD_BYTES = 16 * 1024  # a record's comment is cut to fit (commits.log keeps it whole)
MAX_KEPT_COMMENT = 1000  # characters of a comment kept with a copy
SEQUENCE_DIGITS = 8
SEQUENCE_MAX = 10**SEQUENCE_DIGITS - 1  # the last number a copy's name can have
# At most this many bytes are copied into rollback/ where config.toml cannot be linked there.
MAX_COPIED_BYTES = 16 * MAX_FILE_BYTES
# config-SEQUENCE-STAMP.toml, and its record config-SEQUENCE-STAMP.commit, the sequence
# number of exactly SEQUENCE_DIGITS digits: a name of any other width is not the store's
# (it is neither listed, nor counted, nor removed). The copies of earlier versions were
# config-STAMP.toml and config-STAMP-N.toml.
_COPY = re.compile(rf"config-([0-9]{{{SEQUENCE_DIGITS}}})-([0-9]{{8}}T[0-9]{{6}})\.(toml|commit)")
_OLD_COPY = re.compile(r"config-([0-9]{8}T[0-9]{6})(?:-([0-9]{1,9}))?\.toml")
_FACTORY = "factory"
_COMMIT = "commit"


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


# Why os.link fails where a file system, or the file, takes no (more) hard links.
_NO_LINK = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV})
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class _Current:
    """``config.toml`` as a commit read it: its bytes (at most one past the limit) and
    which file it was (device and inode), how many names it has, and its size."""

    data: bytes
    identity: tuple[int, int]
    links: int
    size: int

    @classmethod
    def of(cls, data: bytes, status: os.stat_result) -> _Current:
        return cls(data, (status.st_dev, status.st_ino), status.st_nlink, status.st_size)


@dataclass(frozen=True)
class RollbackCopy:
    """A configuration kept in ``rollback/``, and the commit that made it.

    *committed* and *comment* are the time and comment of the commit that made the
    configuration (already escaped); *committed* is ``None`` when that is not
    recorded (a copy kept by an earlier version, a ``config.toml`` put in place by
    other means, a damaged record) or when the copy is the factory configuration
    (*factory*). *replaced* is when it was kept, from its name (``2026-11-27 21:06:44``).
    """

    name: str
    replaced: str
    factory: bool = False
    committed: str | None = None
    comment: str = ""


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


@dataclass(frozen=True)
class HomeSettings:
    """What ``settings.toml`` says; ``None`` where it says nothing."""

    keep: int | None = None  # rollback copies kept
    release: str | None = None  # the shell's appliance release


def settings_text(keep: int | None, release: str | None = None) -> bytes:
    """``settings.toml`` as the store writes it (a section only for what is set)."""
    sections = []
    if keep is not None:
        sections.append(f"[rollback]\nkeep = {keep}\n")
    if release is not None:
        sections.append(f'[shell]\nrelease = "{release}"\n')
    return "\n".join(sections).encode()


_SETTINGS_KEYS = {"rollback": {"keep"}, "shell": {"release"}}


def _parse_settings(data: bytes, shown: str) -> HomeSettings:
    """What ``settings.toml`` says; :class:`StoreError` when it is not a settings file (an
    unknown key too: a misspelt one must not go unnoticed)."""
    import tomllib

    def bad(reason: str) -> StoreError:
        return StoreError(f"{shown} is not a valid settings file: {reason}")

    if len(data) > MAX_SETTINGS_BYTES:
        raise bad(f"it is larger than {MAX_SETTINGS_BYTES} bytes")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad("it is not UTF-8 text") from None
    except RecursionError:
        raise bad("it is nested too deeply") from None
    except ValueError as error:  # TOMLDecodeError, or a number too long to convert
        raise bad(escape(str(error))) from None
    unknown = sorted(set(document) - set(_SETTINGS_KEYS))
    if unknown:
        raise bad(f"unknown setting {escape(unknown[0])}")
    for name, keys in _SETTINGS_KEYS.items():
        section = document.get(name, {})
        if not isinstance(section, dict):
            raise bad(f"{name} must be a table ([{name}])")
        unknown = sorted(set(section) - keys)
        if unknown:
            raise bad(f"unknown setting {name}.{escape(unknown[0])}")
    keep = document.get("rollback", {}).get("keep")
    if keep is not None and (type(keep) is not int or not 1 <= keep <= ROLLBACK_KEEP_MAX):
        raise bad(f"rollback.keep must be a whole number from 1 to {ROLLBACK_KEEP_MAX}")
    release = document.get("shell", {}).get("release")
    if release is not None and release not in releases.NAMES:
        names = " or ".join(f'"{name}"' for name in releases.NAMES)
        raise bad(f"shell.release must be {names}")
    return HomeSettings(keep, release)


def _copy_order(name: str) -> tuple[int, int, int] | None:
    """Where the copy *name* stands among the copies, oldest first; ``None``: not a copy's
    name. Copies of earlier versions are older than every numbered copy."""
    match = _COPY.fullmatch(name)
    if match is not None:
        return (1, int(match[1]), 0) if match[3] == "toml" else None
    old = _OLD_COPY.fullmatch(name)
    if old is not None:
        return (0, int(old[1].replace("T", "")), int(old[2] or 0))
    return None


def _shown_stamp(name: str) -> str:
    """When the copy *name* was kept, from its name: ``2026-11-27 21:06:44``."""
    match = _COPY.fullmatch(name) or _OLD_COPY.fullmatch(name)
    assert match is not None  # only copies' names come here
    stamp = match[2] if match.re is _COPY else match[1]
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"


def _copy_base(number: int, when: datetime) -> str:
    """The name of copy *number* kept at *when*, without its extension: written digit by
    digit (``strftime`` gives a year before 1000 fewer digits), and always one that
    :data:`_COPY` reads back."""
    stamp = (
        f"{when.year:04d}{when.month:02d}{when.day:02d}"
        f"T{when.hour:02d}{when.minute:02d}{when.second:02d}"
    )
    base = f"config-{number:0{SEQUENCE_DIGITS}d}-{stamp}"
    assert _COPY.fullmatch(f"{base}.toml"), base
    return base


def _write_new(directory: int, name: str, data: bytes) -> None:
    """*data* as the file *name* of *directory*, private, flushed: written beside it
    first, then renamed, so that the name never holds part of it."""

    def write(descriptor: int) -> None:
        write_all(descriptor, data)

    _put_in(directory, name, write)


def _put_in(directory: int, name: str, write: Callable[[int], None]) -> None:
    """What *write* writes (and flushes) to a new temporary file of *directory*, renamed
    to *name*; when this raises, no temporary file is left."""
    for _ in range(100):
        temporary = f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            descriptor = os.open(temporary, _NEW_FILE, 0o600, dir_fd=directory)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name)
    try:
        try:
            write(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=directory)
        raise


def _kept_comment(comment: str) -> str:
    """A comment as a record keeps it: cut to :data:`MAX_KEPT_COMMENT`, escaped (one line)."""
    if len(comment) > MAX_KEPT_COMMENT:
        comment = comment[:MAX_KEPT_COMMENT] + "..."
    return escape(comment)


def _fields(data: bytes) -> list[str] | None:
    """The fields of a one-line record (at most three, split at tabs); ``None`` when
    *data* is not one: too long, not UTF-8, not one whole line."""
    if len(data) > MAX_RECORD_BYTES or not data.endswith(b"\n"):
        return None
    try:
        text = data[:-1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\n" in text:
        return None
    return text.split("\t", 2)


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
        self.menu_history_path = home / MENU_HISTORY_NAME
        self.log_path = home / LOG_NAME
        self.record_path = home / RECORD_NAME
        self.settings_path = home / SETTINGS_NAME
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
            *self.home.glob(f".{RECORD_NAME}.*.tmp"),
            *self.home.glob(f".{SETTINGS_NAME}.*.tmp"),
            # A copy's or its record's, while rollback/ is a directory (never through a link).
            *(self.rollback_dir.glob(".config-*.tmp") if self._rollback_is_directory() else []),
            # An export's: a name there never starts with a dot (confdir.check_name).
            *self.configuration_dir.glob(".*.tmp"),
        ]

    def _rollback_is_directory(self) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(self.rollback_dir).st_mode)
        except OSError:
            return False

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
        current = self._read_current()
        return None if current is None else current.data

    def _read_current(self) -> _Current | None:
        """As :meth:`_read`, with which file was read."""
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
            return _Current.of(read_descriptor(descriptor, MAX_FILE_BYTES), status)
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
        return _parsed(data, escape(str(self.config_path)))

    def load_text(self) -> bytes | None:
        """The committed file's bytes (None: none), remembered as :meth:`load` remembers
        what a commit may replace, but not read as a table: a caller that holds a table's
        text (a cluster's level, written by the same writer) compares the two texts, and
        reads neither when they are the same."""
        self._sweep_if_free()
        data = self._read()
        self._base, self._loaded = _digest(data), True
        return data

    def commit(
        self,
        table: Table,
        *,
        comment: str,
        when: datetime,
        keep_rollback: bool,
        text: bytes | None = None,
    ) -> list[str]:
        """Save *table* as the committed configuration, and log the commit.

        Raises, with nothing changed: :class:`ConflictError` when the committed
        file changed since :meth:`load`, :class:`BusyError` or :class:`LockError`
        when the lock cannot be had, :class:`TooLarge` for a table the store could
        not read back, :class:`StoreError` when the committed file cannot be read,
        ``OSError`` when the disk refuses the new file. Returns the warnings of a
        commit that happened: what failed after the new file took the old one's place.
        *text* is the table as the TOML writer writes it, when the caller has it already.
        """
        from destconfig.formats import toml as toml_format

        problem = too_large(table, None)
        if problem is not None:
            raise TooLarge(problem)
        with self.locked():
            self._sweep()
            current = self._read_current()
            if self._loaded and _digest(None if current is None else current.data) != self._base:
                raise ConflictError(str(self.config_path))
            data = toml_format.dumps(table) if text is None else text
            problem = too_large(table, data)
            if problem is not None:
                raise TooLarge(problem)
            kept = self._keep_rollback(when, current) if keep_rollback else []
            try:
                replace(self.config_path, data)
            except BaseException:
                self._discard(kept)  # a commit refused leaves no copy of it behind
                raise
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
            try:
                self._record(data, when, comment)
            except OSError as error:
                warnings.append(
                    f"the commit's time and comment were not recorded in {RECORD_NAME}: "
                    f"{error.strerror}"
                )
            if keep_rollback:
                warnings.extend(self._prune_after_commit())
            return warnings

    def _log(self, when: datetime, comment: str) -> None:
        """Append ``TIME<TAB>COMMENT`` to ``commits.log``, the history of commits."""
        line = f"{format_time(when)}\t{escape(comment)}\n".encode()
        append_regular(self.log_path, line)

    def _record(self, data: bytes, when: datetime, comment: str) -> None:
        """Record the time and comment of the commit that wrote *data* (``config.commit``),
        with its digest: a copy of that configuration is then described by them."""
        line = f"{_digest(data)}\t{format_time(when)}\t{_kept_comment(comment)}\n"
        atomic_write(self.record_path, line.encode())

    def _origin_of(self, previous: bytes | None) -> bytes | None:
        """The record of the commit that made *previous* (``None``: none was committed, the
        factory configuration), or ``None`` when the store has none for those bytes."""
        if previous is None:
            return f"{_FACTORY}\n".encode()
        try:
            data = read_regular(self.record_path, MAX_RECORD_BYTES)
        except OSError:
            return None
        fields = _fields(data)
        if fields is None or len(fields) != 3 or fields[0] != _digest(previous):
            return None
        return f"{_COMMIT}\t{fields[1]}\t{fields[2]}\n".encode()

    def _keep_rollback(self, when: datetime, current: _Current | None) -> list[str]:
        """Keep the configuration as it is before this commit in ``rollback/``, with the
        record of the commit that made it when there is one; the names written.

        The record is written first, and removed if the copy fails: a copy never lacks
        the record the store had for it. ``rollback/`` is flushed before this returns, so
        that the copy survives a crash once the new ``config.toml`` is in place.
        """
        origin = self._origin_of(None if current is None else current.data)
        directory = self._rollback_directory(create=True)
        assert directory is not None  # made when missing
        try:
            base = _copy_base(self._next_number(directory), when)
            names = [f"{base}.commit"] if origin is not None else []
            if origin is not None:
                _write_new(directory, names[0], origin)
            try:
                self._keep_copy(directory, f"{base}.toml", current)
                names.append(f"{base}.toml")
                os.fsync(directory)
            except BaseException:
                _unlink_all(directory, names)
                raise
        finally:
            os.close(directory)
        return names

    def _next_number(self, directory: int) -> int:
        """One past the highest sequence number of a name the store writes; :class:`StoreError`
        when that is past :data:`SEQUENCE_MAX` (a name put in ``rollback/`` by other means:
        no run of commits comes near it)."""
        found = [
            (int(match[1]), match[0])
            for match in map(_COPY.fullmatch, os.listdir(directory))
            if match is not None
        ]
        highest, name = max(found, default=(0, ""))
        if highest >= SEQUENCE_MAX:
            raise StoreError(
                f"no rollback copy can be kept: {escape(str(self.rollback_dir / name))} has "
                f"the last sequence number there is ({SEQUENCE_MAX}); move it out of "
                f"{ROLLBACK_DIR}/, or commit without a rollback copy"
            )
        return highest + 1

    def _keep_copy(self, directory: int, name: str, current: _Current | None) -> None:
        """*current* as the copy *name*: ``config.toml`` itself, linked (the whole file,
        however large, and nothing read); copied where it cannot be linked, or has other
        names already (a copy is a file of its own). The factory table when there is none."""
        if current is None:
            from destconfig.formats import toml as toml_format
            from destconfig.model import FACTORY_TABLE

            _write_new(directory, name, toml_format.dumps(FACTORY_TABLE))
            return
        if current.links == 1:
            try:
                os.link(self.config_path, name, dst_dir_fd=directory, follow_symlinks=False)
            except OSError as error:
                if error.errno not in _NO_LINK:
                    raise
            else:
                try:
                    descriptor = self._open_same(name, current, directory)
                    try:
                        os.fsync(descriptor)  # a file put in place by hand may not be on the disk
                    finally:
                        os.close(descriptor)
                except BaseException:
                    _unlink_all(directory, [name])
                    raise
                return
        self._copy_current(directory, name, current)

    def _open_same(self, name: str, current: _Current, directory: int | None = None) -> int:
        """A descriptor on *name* (of *directory*), checked to be the file *current* was
        read from: :class:`ConflictError` when ``config.toml`` was replaced meanwhile."""
        descriptor, status = open_regular(name, dir_fd=directory)
        if (status.st_dev, status.st_ino) != current.identity:
            os.close(descriptor)
            raise ConflictError(str(self.config_path))
        return descriptor

    def _copy_current(self, directory: int, name: str, current: _Current) -> None:
        """``config.toml`` copied as *name*, a megabyte at a time; refused (:class:`StoreError`,
        nothing kept) when it is larger than :data:`MAX_COPIED_BYTES`."""
        shown = escape(str(self.config_path))
        source = self._open_same(str(self.config_path), current)
        try:
            if current.size > MAX_COPIED_BYTES:
                raise StoreError(
                    f"{shown} is {current.size} bytes; a rollback copy that cannot be linked "
                    f"is copied, and at most {MAX_COPIED_BYTES} bytes are: move the file "
                    "away, or commit without a rollback copy"
                )

            def write(target: int) -> None:
                left = MAX_COPIED_BYTES
                while chunk := os.read(source, min(left + 1, 1 << 20)):
                    if len(chunk) > left:
                        raise StoreError(f"{shown} grew past {MAX_COPIED_BYTES} bytes")
                    left -= len(chunk)
                    write_all(target, chunk)

            _put_in(directory, name, write)
        finally:
            os.close(source)

    def _discard(self, names: list[str]) -> None:
        """Remove the copy and record *names* kept for a commit that did not happen."""
        if not names:
            return
        with contextlib.suppress(StoreError):
            directory = self._rollback_directory(create=False)
            if directory is not None:
                try:
                    _unlink_all(directory, names)
                finally:
                    os.close(directory)

    # --- the copies, read back -----------------------------------------------------------

    def _rollback_directory(self, *, create: bool) -> int | None:
        """A descriptor on ``rollback/``, made (private) when missing if *create*, else
        ``None`` then. Every name in it is opened relative to this descriptor.

        Never followed if a symbolic link (:class:`StoreError`): the copies would be
        written, listed and removed wherever it points, as a linked ``config.toml``
        would be replaced.
        """
        shown = escape(str(self.rollback_dir))
        if create:
            try:
                os.mkdir(self.rollback_dir, 0o700)
            except FileExistsError:
                pass
            else:
                sync_directory(self.home)  # its name, before a copy in it counts on it
        try:
            return os.open(self.rollback_dir, _DIRECTORY)
        except FileNotFoundError:
            if create:
                raise
            return None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR) and self.rollback_dir.is_symlink():
                raise StoreError(
                    f"{shown} is a symbolic link; rollback copies are kept only in a "
                    "directory of the home itself"
                ) from None
            raise StoreError(f"{shown}: {error.strerror}") from None

    @staticmethod
    def _regular_copies(directory: int, names: list[str]) -> list[tuple[tuple[int, int, int], str]]:
        """The copies among *names* that are regular files, each with its order."""
        found = []
        for name in names:
            order = _copy_order(name)
            if order is None:
                continue
            try:
                status = os.stat(name, dir_fd=directory, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(status.st_mode):
                found.append((order, name))
        return found

    def rollback_copies(self) -> list[RollbackCopy]:
        """The configurations kept in ``rollback/``, newest first.

        Names that are not a copy's, and copies that are not regular files (a link, a
        FIFO, a directory), are passed over; a record that cannot be read leaves its
        copy's commit unrecorded. Raises :class:`StoreError` when ``rollback/`` cannot be
        read. The copies themselves are read only when one is chosen (:meth:`load_rollback`).
        """
        directory = self._rollback_directory(create=False)
        if directory is None:
            return []
        try:
            found = sorted(self._regular_copies(directory, os.listdir(directory)), reverse=True)
            return [self._described(directory, name) for _, name in found]
        except OSError as error:
            raise StoreError(f"{escape(str(self.rollback_dir))}: {error.strerror}") from None
        finally:
            os.close(directory)

    @staticmethod
    def _described(directory: int, name: str) -> RollbackCopy:
        replaced = _shown_stamp(name)
        if not _COPY.fullmatch(name):
            return RollbackCopy(name, replaced)  # an earlier version kept no record
        try:
            descriptor, _ = open_regular(f"{name.removesuffix('.toml')}.commit", dir_fd=directory)
        except OSError:
            return RollbackCopy(name, replaced)
        try:
            fields = _fields(read_descriptor(descriptor, MAX_RECORD_BYTES))
        except OSError:
            fields = None
        finally:
            os.close(descriptor)
        if fields == [_FACTORY]:
            return RollbackCopy(name, replaced, factory=True)
        if fields is not None and len(fields) == 3 and fields[0] == _COMMIT and fields[1]:
            return RollbackCopy(
                name, replaced, committed=escape(fields[1]), comment=escape(fields[2])
            )
        return RollbackCopy(name, replaced)

    def load_rollback(self, copy: RollbackCopy) -> Table:
        """The table kept in *copy*; :class:`StoreError` when it cannot be read or is damaged."""
        shown = escape(str(self.rollback_dir / copy.name))
        directory = self._rollback_directory(create=False)
        if directory is None:
            raise StoreError(f"{shown}: {os.strerror(errno.ENOENT)}")
        try:
            descriptor, _ = open_regular(copy.name, dir_fd=directory)
            try:
                data = read_descriptor(descriptor, MAX_FILE_BYTES)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise StoreError(f"{shown}: {error.strerror}") from None
        finally:
            os.close(directory)
        if len(data) > MAX_FILE_BYTES:
            raise StoreError(f"{shown} is larger than {MAX_FILE_BYTES} bytes")
        return _parsed(data, shown)

    # --- how many are kept ---------------------------------------------------------------

    def _settings(self) -> HomeSettings:
        """What ``settings.toml`` says (nothing when there is none); :class:`StoreError`
        when it cannot be read."""
        shown = escape(str(self.settings_path))
        try:
            data = read_regular(self.settings_path, MAX_SETTINGS_BYTES)
        except FileNotFoundError:
            return HomeSettings()
        except OSError as error:
            raise StoreError(f"{shown}: {error.strerror}") from None
        return _parse_settings(data, shown)

    def rollback_keep(self) -> int:
        """How many copies are kept (``settings.toml``, else :data:`ROLLBACK_KEEP`);
        :class:`StoreError` when the settings file cannot be read."""
        keep = self._settings().keep
        return ROLLBACK_KEEP if keep is None else keep

    def set_rollback_keep(self, keep: int) -> int:
        """Keep at most *keep* copies from now on: written to ``settings.toml`` (replacing
        one that cannot be read) and the older copies removed at once; how many were.

        Raises :class:`StoreError`, :class:`BusyError`, :class:`LockError` or ``OSError``.
        """
        if not 1 <= keep <= ROLLBACK_KEEP_MAX:
            raise ValueError(keep)
        with self.locked():
            directory = self._rollback_directory(create=False)  # refused before any write
            if directory is not None:
                os.close(directory)
            try:
                release = self._settings().release
            except StoreError:
                release = None  # the file is replaced: what it said cannot be read
            atomic_write(self.settings_path, settings_text(keep, release))
            return self._prune(keep)

    def release(self) -> str | None:
        """The shell's appliance release the home keeps (``None``: not set, the seed's);
        :class:`StoreError` when the settings file cannot be read."""
        return self._settings().release

    def set_release(self, release: str) -> None:
        """Keep *release* as the home's appliance release (``settings.toml``, its other
        settings kept). Raises :class:`StoreError` (a settings file that cannot be read
        is not replaced), :class:`BusyError`, :class:`LockError` or ``OSError``."""
        if release not in releases.NAMES:
            raise ValueError(release)
        with self.locked():
            keep = self._settings().keep
            atomic_write(self.settings_path, settings_text(keep, release))

    def _prune_after_commit(self) -> list[str]:
        """Remove the copies beyond the setting; the warnings of what could not be done.
        A setting that cannot be read removes nothing: it may have said to keep more."""
        try:
            self._prune(self.rollback_keep())
        except StoreError as error:
            return [f"{error}; no rollback copy was removed"]
        except OSError as error:
            return [f"the older rollback copies could not be removed: {error.strerror}"]
        return []

    def _prune(self, keep: int) -> int:
        """Remove all but the newest *keep* copies, and the records of copies that are
        gone; how many copies were removed. Only copies' names are ever removed."""
        directory = self._rollback_directory(create=False)
        if directory is None:
            return 0
        try:
            names = os.listdir(directory)
            copies = sorted(self._regular_copies(directory, names), reverse=True)
            removed = 0
            for _, name in copies[keep:]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=directory)
                    removed += 1
            kept = {name.removesuffix(".toml") for _, name in copies[:keep]}
            for name in names:
                match = _COPY.fullmatch(name)
                if match and match[3] == "commit" and name.removesuffix(".commit") not in kept:
                    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                        os.unlink(name, dir_fd=directory)
            os.fsync(directory)
            return removed
        finally:
            os.close(directory)


def _unlink_all(directory: int, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=directory)


def _parsed(data: bytes, shown: str) -> Table:
    """The table in a configuration file's *data* (*shown*: its name, escaped);
    :class:`StoreError` listing the problems when it is damaged."""
    if not data.strip():  # a commit never writes an empty file: it is damage
        raise StoreError(f"{shown} is empty; a commit never leaves it so")
    from destconfig.formats import toml as toml_format

    try:
        return toml_format.loads(data)
    except FormatError as error:
        lines = "\n".join(
            f"  line {p.line}: {p.reason}" if p.line else f"  {p.reason}" for p in error.problems
        )
        raise StoreError(f"{shown} is not a valid configuration:\n{lines}") from None
