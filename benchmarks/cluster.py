"""A cluster of large tables: how long a one-entry change takes to be committed and pushed,
and to be applied on another host, and how many bytes cross the wire for each.

    .venv/bin/python benchmarks/cluster.py [--sizes 1000,100000] [--repeat 3]

A real ``git daemon`` serves a bare repository on 127.0.0.1; a small proxy in front of it
counts the bytes each way. Two homes are two hosts of one cluster whose cluster level holds
the generated table. Each round, host A runs ``destconfig new rN.example`` (a commit and a
push), then host B runs ``destconfig cluster apply`` (a fetch, a build of its table and a
commit into its home); each as a process of its own, timed from start to exit.
"""

from __future__ import annotations

import argparse
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
                try:
                    each.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self) -> tuple[int, int]:
        with self.lock:
            counted = (self.sent, self.received)
            self.sent = self.received = 0
        return counted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(argv: Sequence[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return seconds


def kib(count: int) -> str:
    return f"{count / 1024:,.1f} KiB"


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
        port = free_port()
        daemon = subprocess.Popen(
            [
                "git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
                f"--base-path={base}", "--export-all", "--enable=receive-pack", str(base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            proxy = Proxy(port)
            for size in [int(each) for each in args.sizes.split(",")]:
                name = f"t{size}"
                subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(base / f"{name}.git")], check=True)
                url = f"git://127.0.0.1:{proxy.port}/{name}.git"
                first, second = work / f"a{size}", work / f"b{size}"
                Store(first).commit(generate(size), comment="", when=datetime.now(UTC), keep_rollback=False)
                run([*DESTCONFIG, "--home", str(first), "cluster", "create", name, "--repo", url, "--machine", "a"])
                run([*DESTCONFIG, "--home", str(second), "cluster", "join", url, "--machine", "b"])
                proxy.take()
                pushes, applies, push_bytes, apply_bytes = [], [], [], []
                for round_number in range(args.repeat):
                    command = [*DESTCONFIG, "--home", str(first), "new", f"r{round_number}.example"]
                    pushes.append(run(command))
                    push_bytes.append(proxy.take())
                    applies.append(run([*DESTCONFIG, "--home", str(second), "cluster", "apply"]))
                    apply_bytes.append(proxy.take())
                rows.append(
                    (
                        f"{size:,}",
                        f"{statistics.median(pushes):.2f} s",
                        f"{kib(int(statistics.median(s for s, _ in push_bytes)))} / {kib(int(statistics.median(r for _, r in push_bytes)))}",
                        f"{statistics.median(applies):.2f} s",
                        f"{kib(int(statistics.median(s for s, _ in apply_bytes)))} / {kib(int(statistics.median(r for _, r in apply_bytes)))}",
                    )
                )
        finally:
            daemon.terminate()
            daemon.wait(10)
    headers = ("entries", "change (commit + push)", "its bytes sent / received", "apply on a host", "its bytes sent / received")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    sys.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "\n")
    for row in rows:
        sys.stdout.write("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
