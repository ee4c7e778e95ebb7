"""Debian packages for tests, fetched and unpacked, never installed.

``apt-get download`` then ``dpkg -x`` into a cache directory: nothing of the
system changes (no install script runs, nothing is configured or started), and a
second run finds the packages unpacked. Where that cannot be done (no apt-get, no
network to the package lists), tests skip with the reason, except under
``CI=true``, where the machine can and a skip would hide a test that did not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("DESTCONFIG_TEST_CACHE", Path.home() / ".cache" / "destconfig-tests"))
DOWNLOAD_SECONDS = 300


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI can fetch Debian's packages: {reason}")
    pytest.skip(reason)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=DOWNLOAD_SECONDS, check=False
    )


def unpacked(name: str, packages: tuple[str, ...]) -> Path:
    """The root of *packages* unpacked together (cached under *name*)."""
    root = CACHE / name
    done = root / ".unpacked"
    if done.exists():
        return root
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        _unavailable(f"{name} comes from Debian's packages: this machine has no apt-get/dpkg")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        work = Path(scratch)
        os.chmod(work, 0o755)  # apt's sandbox user writes the downloads here
        fetched = _run(["apt-get", "download", *packages], work)
        if fetched.returncode != 0 and os.geteuid() == 0:
            _run(["apt-get", "update", "-q"], work)  # the package lists may be missing
            fetched = _run(["apt-get", "download", *packages], work)
        if fetched.returncode != 0:
            _unavailable(f"apt-get download {' '.join(packages)} failed: {fetched.stderr.strip()}")
        staged = work / "root"
        for deb in sorted(work.glob("*.deb")):
            unpack = _run(["dpkg", "-x", str(deb), str(staged)], work)
            if unpack.returncode != 0:
                _unavailable(f"dpkg -x {deb.name} failed: {unpack.stderr.strip()}")
        (staged / ".unpacked").touch()
        shutil.rmtree(root, ignore_errors=True)
        staged.rename(root)
    return root
