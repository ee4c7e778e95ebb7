"""Opening the home's files so that no file can block, flood or redirect a read or write.

A path is checked on the open descriptor, never before the open: a check and an
open that are separate steps let another process swap the file in between. A
FIFO is opened without blocking and refused, a device or directory is refused,
and a read takes at most one byte past its limit whatever the file's size.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

NOT_A_REGULAR_FILE = "not a regular file"
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class NotAFile(OSError):
    """The name exists but is not a regular file (a FIFO, a device, a directory, a link)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(errno.EINVAL, NOT_A_REGULAR_FILE, str(path))


class IsALink(NotAFile):
    """The name was a symbolic link when it was opened without following links."""


def _regular(descriptor: int, path: str | Path) -> os.stat_result:
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise NotAFile(path)
    return status


def open_regular(
    path: str | Path, *, dir_fd: int | None = None, follow: bool = False
) -> tuple[int, os.stat_result]:
    """A descriptor open for reading on a regular file, and its status.

    Without *follow*, a symbolic link is refused as not a regular file.
    """
    flags = _READ if follow else _READ | os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP and not follow:
            raise IsALink(path) from None
        raise
    return descriptor, _regular(descriptor, path)


def read_descriptor(descriptor: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes from *descriptor* (one past: the caller can refuse)."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file *path* (not followed if a link), at most ``limit + 1``."""
    descriptor, _ = open_regular(path)
    try:
        return read_descriptor(descriptor, limit)
    finally:
        os.close(descriptor)


def append_regular(path: str | Path, data: bytes) -> None:
    """Append *data* to the regular file *path*, created private; flushed to the disk.

    Opened without blocking (a FIFO with no reader fails at once) and without
    following a link, then checked: a FIFO, a device or a link is refused.
    """
    try:
        descriptor = os.open(path, _APPEND | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO):
            raise NotAFile(path) from None
        raise
    _regular(descriptor, path)
    try:
        write_all(descriptor, data)
    finally:
        os.close(descriptor)


def write_all(descriptor: int, data: bytes) -> None:
    """Write the whole of *data* to *descriptor* (a write may take part of it), flushed
    to the disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]
    os.fsync(descriptor)


def regular_or_absent(path: str | Path) -> bool:
    """Whether *path* names nothing, or a regular file (not a link, FIFO or device)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return True
    return stat.S_ISREG(status.st_mode)


def make_private_directory(path: Path) -> None:
    """Create *path* and any missing parent with mode 0700, whatever the umask.

    ``Path.mkdir(parents=True)`` gives the parents the umask's mode: under
    ``umask 000`` a new parent of the home would be writable by everyone.
    """
    missing: list[Path] = []
    here = path
    while not os.path.isdir(here):
        if os.path.lexists(here):  # a file where a directory must be
            number = errno.EEXIST if here == path else errno.ENOTDIR
            raise OSError(number, os.strerror(number), str(here))
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
            continue
        os.chmod(directory, 0o700)  # the umask may have taken bits away, never added them


def write_file(path: Path, data: bytes, *, replace: bool, mode: int = 0o600) -> None:
    """Write *data* as the file *path* the user named, whole or not at all.

    A name that exists is refused (``FileExistsError``) unless *replace*; then only a
    regular file is replaced, never followed into (a link, a FIFO or a device is
    refused), and it keeps its permission bits. A new file has *mode* (private unless
    a reader of another user must read it: Postfix's maps). The
    bytes go to a temporary file beside it first: a new name is then linked, so that
    a file made meanwhile by someone else is not overwritten either.
    """
    try:
        status: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        status = None
    if status is not None:
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not replace:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
        if not stat.S_ISREG(status.st_mode):
            raise NotAFile(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=temporary_prefix(path), suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode if status is None else stat.S_IMODE(status.st_mode))
            os.fsync(stream.fileno())
        if status is None:
            _link_new(temporary, path, data, mode)
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def temporary_prefix(path: Path) -> str:
    """The start of a temporary file's name beside *path* (``.NAME.``, ending ``.tmp``):
    the name cut so that the temporary name stays within a file system's 255 bytes."""
    return f".{path.name[:200]}."


def _link_new(temporary: str, path: Path, data: bytes, mode: int) -> None:
    """Put the written *temporary* in place as the new name *path*, never over a file.

    Where a file system has no hard links, the file is created exclusively and written.
    """
    try:
        os.link(temporary, path)  # fails if the name was made meanwhile
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        descriptor = os.open(path, flags, 0o600)
        try:
            os.fchmod(descriptor, mode)
            write_all(descriptor, data)
        finally:
            os.close(descriptor)
