"""Running the program as the tests need it: in this process, or as a process of its own.

:func:`run_cli` calls ``destconfig.cli.main(argv, env)`` with in-memory streams
and the fixed clock of the replays, so that ``Changes committed: TIME`` and the
rollback file names are exact. :func:`run_process` runs ``python -m destconfig``
to see the bytes a user sees (encodings, closed pipes, memory limits).
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from destconfig.cli import main
from destconfig.env import Environment
from destconfig.replay import FIXED_TIME
from destconfig.tlsverify.options import Network

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str


def run_cli(
    home: Path | None, *args: str, stdin: bytes = b"", network: Network | None = None
) -> Result:
    """``destconfig [--home HOME] ARGS...`` in this process; names looked up by *network*
    (None: DNS). Without *home*, the home is ``$DESTCONFIG_HOME`` or the default."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.BytesIO(stdin),
        stdout=out,
        stderr=err,
        clock=lambda: FIXED_TIME,
        network=network,
    )
    argv = ["--home", str(home), *args] if home is not None else list(args)
    status = main(argv, env)
    return Result(int(status), out.getvalue(), err.getvalue())


def run_ok(home: Path | None, *args: str) -> Result:
    """:func:`run_cli` of a command that must succeed (its error shown when it does not)."""
    done = run_cli(home, *args)
    assert done.status == 0, (args, done.err)
    return done


def run_process(
    home: Path | str | None,
    *args: str,
    stdin: bytes | str = b"",
    text: bool = False,
    env: Mapping[str, str] | None = None,
    memory: int | None = None,
    umask: int | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[Any]:
    """``python -m destconfig [--home HOME] ARGS...`` as a process of its own, to the end.

    Output is bytes, or text with *text* (then *stdin* is text too). The process
    inherits this one's environment without ``DESTCONFIG_HOME`` and with 80 columns
    (argparse wraps its usage lines to the terminal), plus *env*; its address space
    is capped at *memory* bytes and its umask is *umask* when they are given.
    """

    def limits() -> None:
        if umask is not None:
            os.umask(umask)
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    inherited = {key: value for key, value in os.environ.items() if key != "DESTCONFIG_HOME"}
    where = ["--home", str(home)] if home is not None else []
    return subprocess.run(
        [sys.executable, "-m", "destconfig", *where, *args],
        input=stdin,
        capture_output=True,
        text=text,
        env={**inherited, "COLUMNS": "80", **(env or {})},
        cwd=ROOT,
        timeout=timeout,
        preexec_fn=limits if umask is not None or memory is not None else None,
    )


@dataclass
class Outcome:
    stdout: str
    stderr: str
    status: int


def run_session(home: Path, answers: str | bytes, *, echo: bool = True) -> Outcome:
    """Pipe *answers* into the shell on *home* (:func:`run_cli` without a command)."""
    data = answers.encode("utf-8") if isinstance(answers, str) else answers
    result = run_cli(home, *(() if echo else ("--no-echo",)), stdin=data)
    return Outcome(result.out, result.err, result.status)
