"""A CA file for tlsverify that cannot be used: a message, never a traceback."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from destconfig.console import Console
from destconfig.dialogue.reader import StreamReader, binary_lines
from destconfig.env import Environment
from destconfig.shell import host
from destconfig.shell.options import ShellOptions
from destconfig.shell.session import Session
from destconfig.store import Store
from tests.helpers import run_process


def test_the_shell_refuses_a_missing_ca_file_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    run = run_process(tmp_path / "h", "--ca-file", str(missing), stdin=b"quit\n")
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr == f"destconfig: --ca-file {missing}: no such file\n".encode()


@pytest.mark.parametrize("command", [["audit"], ["tlsverify", "example.test", "127.0.0.1:1"]])
def test_a_fifo_as_ca_file_is_refused_unread(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    # Opening a FIFO for reading blocks until a writer comes: the timeout turns a hang
    # into a failure.
    run = run_process(tmp_path / "h", *command, "--ca-file", str(fifo), timeout=20)
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr == f"destconfig: {fifo}: not a regular file\n".encode()


def test_a_ca_file_gone_since_the_start_is_a_message(tmp_path: Path) -> None:
    gone = tmp_path / "gone.pem"
    store = Store(tmp_path / "home")
    store.prepare()
    out = io.StringIO()
    env = Environment(stdin=io.BytesIO(), stdout=out, stderr=io.StringIO())
    console = Console(out)
    answers = b"tlsverify\nexample.test\n127.0.0.1:1\nquit\n"
    reader = StreamReader(binary_lines(io.BytesIO(answers)), console)
    options = ShellOptions(ca_file=gone)
    session = Session(env, options, store=store, committed=None, console=console, reader=reader)
    status = host.run(session)
    assert status == 0
    assert out.getvalue() == (
        "ESA> tlsverify\n"
        "\n"
        "Enter the TLS domain to verify against:\n"
        "[]> example.test\n"
        "\n"
        "Enter the destination host to connect to. Append the port (example.com:26) if you "
        "are not connecting on port 25:\n"
        "[example.test]> 127.0.0.1:1\n"
        "\n"
        f"The CA file cannot be used: {gone}: no such file\n"
        "\n"
        "ESA> quit\n"
    )
