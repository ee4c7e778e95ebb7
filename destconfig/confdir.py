"""The configuration directory: the only files the shell's IMPORT and EXPORT touch.

A name is a plain file name inside the directory: no path separators, no leading
dot; a symbolic link may not lead outside the directory; and what it names must
be a regular file (not a device or a FIFO, which could block or flood a read).

A read is checked on the file it opened, not on the name before opening it:
another process may swap the name between a check and an open. The file is
opened relative to the directory's own descriptor; a symbolic link is followed
only when the kernel's name of the opened file (``/proc/self/fd``) lies inside
the directory.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from destconfig.formats.limits import MAX_FILE_BYTES
from destconfig.safeio import (
    IsALink,
    NotAFile,
    make_private_directory,
    open_regular,
    read_descriptor,
)
from destconfig.store import atomic_write

__all__ = ["BadName", "ConfigurationDirectory", "NotAFile", "Outside", "check_name"]

_OUTSIDE = "it leads outside the configuration directory"


class BadName(ValueError):
    """Not a plain file name in the configuration directory."""


class Outside(OSError):
    """The name is a symbolic link that leads outside the configuration directory."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EACCES, _OUTSIDE, str(path))


def check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise BadName(name)
    return name


def _opened_path(descriptor: int) -> str | None:
    """Where the kernel says *descriptor* lies (None where ``/proc`` cannot say)."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None


class ConfigurationDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _file(self, name: str) -> Path:
        path = self.path / check_name(name)
        if path.is_symlink():
            inside = os.path.realpath(self.path)
            if os.path.commonpath([os.path.realpath(path), inside]) != inside:
                raise Outside(path)
        return path

    def exists(self, name: str) -> bool:
        return os.path.lexists(self.path / check_name(name))

    def read(self, name: str) -> bytes:
        """The file's bytes, at most one byte past the size limit (so the format can refuse)."""
        path = self.path / check_name(name)
        directory = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                descriptor, _ = open_regular(name, dir_fd=directory)
            except IsALink:
                descriptor = self._open_link(name, directory, path)
            except NotAFile:
                raise NotAFile(path) from None
            try:
                return read_descriptor(descriptor, MAX_FILE_BYTES)
            finally:
                os.close(descriptor)
        finally:
            os.close(directory)

    def _open_link(self, name: str, directory: int, path: Path) -> int:
        """Follow the link *name*, and keep what it opened only when it lies inside."""
        descriptor, _ = open_regular(name, dir_fd=directory, follow=True)
        opened, inside = _opened_path(descriptor), _opened_path(directory)
        if opened is None or inside is None or os.path.commonpath([opened, inside]) != inside:
            os.close(descriptor)
            raise Outside(path)
        return descriptor

    def write(self, name: str, data: bytes) -> None:
        path = self._file(name)
        if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
            raise NotAFile(path)
        make_private_directory(self.path)
        atomic_write(path, data)
