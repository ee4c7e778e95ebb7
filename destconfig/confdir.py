"""The configuration directory: the only files the shell's IMPORT and EXPORT touch.

A name is a plain file name inside the directory: no path separators, no leading
dot; a symbolic link may not lead outside the directory; and what it names must
be a regular file (not a device or a FIFO, which could block or flood a read).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from destconfig.formats import MAX_FILE_BYTES
from destconfig.store import atomic_write


class BadName(ValueError):
    """Not a plain file name in the configuration directory."""


class NotAFile(OSError):
    """The name exists but is not a regular file."""


class Outside(OSError):
    """The name is a symbolic link that leads outside the configuration directory."""


def check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise BadName(name)
    return name


class ConfigurationDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _file(self, name: str) -> Path:
        path = self.path / check_name(name)
        if path.is_symlink():
            inside = os.path.realpath(self.path)
            if os.path.commonpath([os.path.realpath(path), inside]) != inside:
                raise Outside(0, "it leads outside the configuration directory", str(path))
        return path

    def exists(self, name: str) -> bool:
        return os.path.lexists(self.path / check_name(name))

    def read(self, name: str) -> bytes:
        """The file's bytes, at most one byte past the size limit (so the format can refuse)."""
        path = self._file(name)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise NotAFile(0, "not a regular file", str(path))
            with os.fdopen(descriptor, "rb", closefd=False) as stream:
                return stream.read(MAX_FILE_BYTES + 1)
        finally:
            os.close(descriptor)

    def write(self, name: str, data: bytes) -> None:
        path = self._file(name)
        if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
            raise NotAFile(0, "not a regular file", str(path))
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, data)
