"""A CA file for tlsverify that cannot be used: a message, never a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from destconfig.console import Console
from destconfig.dialogue.reader import StreamReader, binary_lines
from destconfig.env import Environment
from destconfig.shell.host import Shell
from destconfig.store import Store

ROOT = Path(__file__).parent.parent


def test_the_shell_refuses_a_missing_ca_file_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "destconfig",
            "--home",
            str(tmp_path / "h"),
            "--ca-file",
            str(missing),
        ],
        input=b"quit\n",
        capture_output=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=60,
    )
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr == f"destconfig: --ca-file {missing}: no such file\n".encode()


def test_a_ca_file_gone_since_the_start_is_a_message(tmp_path: Path) -> None:
    gone = tmp_path / "gone.pem"
    store = Store(tmp_path / "home")
    store.prepare()
    out = io.StringIO()
    env = Environment(
        stdin=io.BytesIO(), stdout=out, stderr=io.StringIO(), home=store.home, ca_file=gone
    )
    console = Console(out)
    answers = b"tlsverify\nexample.test\n127.0.0.1:1\nquit\n"
    reader = StreamReader(binary_lines(io.BytesIO(answers)), console)
    status = Shell(env, store=store, committed=None, console=console, reader=reader).run()
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
