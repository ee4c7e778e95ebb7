"""``cluster apply`` (``--watch``) interrupted by a real SIGINT in the middle of a round,
as Ctrl-C does: one line, no traceback, and the home's table untouched or applied whole."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from destconfig.commands.cluster import APPLY_INTERRUPTED
from destconfig.commands.levels import interrupts_deferred
from tests.gitdaemon import LOOPBACK, Daemon
from tests.helpers import ROOT, run_ok

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30.0


class SilentServer:
    """A TCP server on 127.0.0.1 that takes connections and never answers: a fetch from
    it blocks (until git's time limit) as from a repository that hangs."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _address = self.listener.accept()
                self.accepted.append(connection)
                self.connected.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def home(tmp_path: Path, daemon: Daemon) -> Path:
    """Machine core1 of cluster prod, and a change made at the cluster level since."""
    url = daemon.new_repo("prod")
    edge = tmp_path / "edge1"
    run_ok(edge, "new", "seed.example")
    run_ok(edge, "cluster", "create", "prod", "--repo", url, "--machine", "edge1")
    core = tmp_path / "core1"
    run_ok(core, "cluster", "join", url, "--machine", "core1")
    run_ok(edge, "new", "later.example")
    return core


def point_at(home: Path, url: str) -> None:
    """The membership's repository URL made *url* (the machine name kept)."""
    path = home / "cluster" / "member.toml"
    text = path.read_text()
    start = text.index('url = "') + len('url = "')
    path.write_text(text[:start] + url + text[text.index('"', start) :])


def spawn(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "destconfig", "--home", str(home), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("watch", [True, False])
def test_ctrl_c_while_a_fetch_hangs_ends_cleanly(
    home: Path, silent: SilentServer, watch: bool
) -> None:
    before = (home / "config.toml").read_bytes()
    log = (home / "commits.log").read_bytes()
    point_at(home, f"git://{LOOPBACK}:{silent.port}/prod.git")
    process = spawn(home, "cluster", "apply", *(["--watch", "1"] if watch else []))
    try:
        assert silent.connected.wait(WAIT_SECONDS), "the fetch never reached the server"
        time.sleep(0.2)  # git is waiting for the server's first words
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in err
    said = f"destconfig: {APPLY_INTERRUPTED}\n"
    assert (process.returncode, out, err) == (0 if watch else 1, "", said)
    assert (home / "config.toml").read_bytes() == before
    assert (home / "commits.log").read_bytes() == log


def test_ctrl_c_while_the_home_takes_the_table_waits_for_it() -> None:
    """A real SIGINT during the commit into the home is delivered once it is done."""
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # a signal not held back would be raised here
            steps.append("committed")
        steps.append("not reached")
    assert steps == ["committed"]
