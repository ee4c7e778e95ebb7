"""A cluster of large tables: how long a one-entry change takes to be committed and pushed,
and to be applied on another host, and how many bytes cross the wire for each.

    .venv/bin/python benchmarks/cluster.py [--sizes 1000,100000] [--repeat 3]

A real ``git daemon`` serves a bare repository on 127.0.0.1; a small proxy in front of it
counts the bytes each way, and a ``git`` on the commands' PATH before the real one counts
the git programs each command runs. Two homes are two hosts of one cluster whose cluster level holds
the generated table. Each round, host A runs ``destconfig new rN.example`` (a commit and a
push), then host B runs ``destconfig cluster apply`` (a fetch, a build of its table and a
commit into its home); each as a process of its own, timed from start to exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tables import generate  # noqa: E402

from destconfig.store import Store  # noqa: E402

DESTCONFIG = [sys.executable, "-m", "destconfig"]


class Proxy:
    """Forwards 127.0.0.1:port to the daemon, counting bytes sent and received."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.sent = 0  # client to server
        self.received = 0  # server to client
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                with self.lock:
                    if upstream:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)

    def take(self) -> tuple[int, int]:
        with self.lock:
            counted = (self.sent, self.received)
            self.sent = self.received = 0
        return counted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GitCounter:
    """A ``git`` that notes each run in a file, then runs the real one; on the PATH of
    the commands timed (the daemon runs the real git)."""

    def __init__(self, directory: Path) -> None:
        real = shutil.which("git")
        if real is None:
            raise SystemExit("git is not installed")
        directory.mkdir()
        self.log = directory / "runs"
        wrapper = directory / "git"
        wrapper.write_text(f'#!/bin/sh\necho >> "{self.log}"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
        self.environment = {**os.environ, "PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}

    def take(self) -> int:
        runs = self.log.read_bytes().count(b"\n") if self.log.exists() else 0
        self.log.unlink(missing_ok=True)
        return runs


def run(argv: Sequence[str], environment: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False, env=environment)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return seconds


def kib(count: int) -> str:
    return f"{count / 1024:,.1f} KiB"


def median_kib(pairs: list[tuple[int, int]]) -> str:
    sent = int(statistics.median(each for each, _ in pairs))
    received = int(statistics.median(each for _, each in pairs))
    return f"{kib(sent)} / {kib(received)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        base = work / "served"
        base.mkdir()
        counter = GitCounter(work / "bin")
        port = free_port()
        daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={port}",
                f"--base-path={base}",
                "--export-all",
                "--enable=receive-pack",
                str(base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            proxy = Proxy(port)
            for size in [int(each) for each in args.sizes.split(",")]:
                name = f"t{size}"
                bare = base / f"{name}.git"
                subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
                url = f"git://127.0.0.1:{proxy.port}/{name}.git"
                first, second = work / f"a{size}", work / f"b{size}"
                when = datetime.now(UTC)
                Store(first).commit(generate(size), comment="", when=when, keep_rollback=False)
                home = [*DESTCONFIG, "--home"]
                run([*home, str(first), "cluster", "create", name, "--repo", url, "--machine", "a"])
                run([*home, str(second), "cluster", "join", url, "--machine", "b"])
                proxy.take()
                counter.take()
                pushes, applies, push_bytes, apply_bytes = [], [], [], []
                push_calls, apply_calls = [], []
                for round_number in range(args.repeat):
                    command = [*home, str(first), "new", f"r{round_number}.example"]
                    pushes.append(run(command, counter.environment))
                    push_bytes.append(proxy.take())
                    push_calls.append(counter.take())
                    applying = [*home, str(second), "cluster", "apply"]
                    applies.append(run(applying, counter.environment))
                    apply_bytes.append(proxy.take())
                    apply_calls.append(counter.take())
                rows.append(
                    (
                        f"{size:,}",
                        f"{statistics.median(pushes):.2f} s",
                        median_kib(push_bytes),
                        f"{statistics.median(push_calls):.0f}",
                        f"{statistics.median(applies):.2f} s",
                        median_kib(apply_bytes),
                        f"{statistics.median(apply_calls):.0f}",
                    )
                )
        finally:
            daemon.terminate()
            daemon.wait(10)
    headers = (
        "entries",
        "change (commit + push)",
        "its bytes sent / received",
        "its git runs",
        "apply on a host",
        "its bytes sent / received",
        "its git runs",
    )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    sys.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "\n")
    for row in rows:
        sys.stdout.write("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
