"""Real filesystem faults for the tests: a full tmpfs and a read-only bind mount.

Mounting needs root (CI runs as root); elsewhere the tests that need it skip
with the reason. Every mount is undone when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

NEEDS_ROOT = "mounting a filesystem needs root"


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} failed: {done.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30, check=True)


def require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: the real filesystem fault tests must run there")
        pytest.skip(NEEDS_ROOT)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of *size* (mount's own words: ``64k``, ``2m``) on *path*, made for the block."""
    require_root()
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield path
    finally:
        _umount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """*path* (a directory or a file) bind-mounted read-only over itself, for the block."""
    require_root()
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        _umount(path)


def fill(directory: Path) -> None:
    """Write into *directory* until its filesystem has no byte left."""
    with (directory / "filler").open("ab", buffering=0) as stream:
        block = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                stream.write(block)
        with contextlib.suppress(OSError):
            while True:
                stream.write(b"\0")
