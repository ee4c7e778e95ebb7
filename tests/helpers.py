"""Running a whole session in memory, as the tests need it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from destconfig.env import Environment
from destconfig.replay import FIXED_TIME
from destconfig.shell.host import Shell
from destconfig.store import Store


@dataclass
class Outcome:
    stdout: str
    stderr: str
    status: int


def run_session(home: Path, answers: str | bytes, *, echo: bool = True) -> Outcome:
    """Pipe *answers* into a shell on *home* with the fixed clock."""
    data = answers.encode("utf-8") if isinstance(answers, str) else answers
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.BytesIO(data),
        stdout=stdout,
        stderr=stderr,
        home=home,
        clock=lambda: FIXED_TIME,
        echo=echo,
    )
    store = Store(home)
    store.prepare()
    status = Shell(env, store=store, committed=store.load()).run()
    return Outcome(stdout.getvalue(), stderr.getvalue(), status)
