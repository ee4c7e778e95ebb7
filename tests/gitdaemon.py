"""A real ``git daemon`` on 127.0.0.1 serving bare repositories, for the cluster tests.

The daemon listens on loopback only, on a port free when it starts, and lives in a
process group of its own that is killed whole when the test ends (a connection's
upload-pack or receive-pack included). ``stop()`` and ``start()`` take the repository
off the network and back, on the same port, for the offline tests. Where git is not
installed the tests skip with the reason, except under ``CI=true``, where the machine
has git and a skip would hide a test that did not run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

LOOPBACK = "127.0.0.1"
START_SECONDS = 10.0  # the most a daemon is waited for to accept connections
COMMAND_SECONDS = 30.0


def unavailable(reason: str) -> NoReturn:
    """Skip with *reason*; under ``CI=true``, where the machine can, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the cluster tests against a real git daemon: {reason}")
    pytest.skip(reason)


def require_git() -> str:
    found = shutil.which("git")
    if found is None:
        unavailable("git is not installed")
    return found


def isolated_environment() -> dict[str, str]:
    """The environment of the daemon and of the tests' own git: no system or user
    configuration (a test may give the code under test a configuration of its own,
    hooks and all, which must not reach the server side), a fixed identity."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GIT_") and name not in ("EMAIL", "XDG_CONFIG_HOME")
    }
    environment.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        GIT_AUTHOR_NAME="Test Setup",
        GIT_AUTHOR_EMAIL="setup@example.test",
        GIT_COMMITTER_NAME="Test Setup",
        GIT_COMMITTER_EMAIL="setup@example.test",
    )
    return environment


def git(*arguments: str, cwd: Path | None = None, data: bytes | None = None) -> str:
    """Run git for a test's own setting up and looking (not the code under test)."""
    done = subprocess.run(
        ["git", *arguments],
        cwd=cwd,
        input=data,
        capture_output=True,
        timeout=COMMAND_SECONDS,
        check=False,
        env=isolated_environment(),
    )
    assert done.returncode == 0, (arguments, done.stderr.decode("utf-8", "replace"))
    return done.stdout.decode("utf-8", "surrogateescape")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class Daemon:
    """``git daemon`` serving the bare repositories under *base* at git://127.0.0.1:PORT/."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.log = base.parent / f"{base.name}-daemon.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False  # once started, a restart keeps the port

    def url(self, name: str) -> str:
        return f"git://{LOOPBACK}:{self.port}/{name}.git"

    def repo(self, name: str) -> Path:
        return self.base / f"{name}.git"

    def new_repo(self, name: str, *, initial_branch: str = "main") -> str:
        """A new empty bare repository *name* that takes pushes; its URL."""
        path = self.repo(name)
        git("init", "--quiet", "--bare", f"--initial-branch={initial_branch}", str(path))
        git("--git-dir", str(path), "config", "daemon.receivepack", "true")
        return self.url(name)

    def git(self, name: str, *arguments: str) -> str:
        """git in served repository *name* (to look at what the tests pushed)."""
        return git("--git-dir", str(self.repo(name)), *arguments)

    def start(self) -> None:
        """The daemon listening (again, on the same port), once it accepts connections."""
        assert self._process is None, "the daemon is already running"
        for _attempt in range(3):
            with self.log.open("ab") as log:
                self._process = subprocess.Popen(
                    [
                        "git",
                        "daemon",
                        "--reuseaddr",
                        f"--listen={LOOPBACK}",
                        f"--port={self.port}",
                        f"--base-path={self.base}",
                        "--export-all",
                        "--enable=receive-pack",
                        str(self.base),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=isolated_environment(),
                    start_new_session=True,  # its group is killed whole, connections and all
                )
            if self._accepting():
                self._started = True
                return
            self.stop()
            if self._started:
                pytest.fail(f"git daemon did not start again on port {self.port}: {self._tail()}")
            self.port = free_port()  # taken between the probe and the daemon's bind
        unavailable(f"git daemon did not start: {self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-500:]

    def _accepting(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                socket.create_connection((LOOPBACK, self.port), timeout=1.0).close()
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        """The daemon and every connection it serves gone (killed, waited for)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def git_daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A running daemon serving *tmp_path* (made if missing); stopped at exit, whatever
    happened."""
    require_git()
    tmp_path.mkdir(parents=True, exist_ok=True)
    daemon = Daemon(tmp_path)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
