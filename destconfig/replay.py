"""Transcript replay (spec §10): a recorded session is a regression test.

The shell runs on a fresh temporary home with a fixed clock. Each time it asks
for an answer, the output so far must equal the transcript so far; the answer is
the rest of the transcript's line after the prompt. When the transcript's last
line is a prompt with nothing typed, the replay gives end of input there. The
replay passes when the whole output equals the whole transcript.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from destconfig.console import Console, escape
from destconfig.dialogue.reader import StreamReader
from destconfig.env import Environment
from destconfig.store import CONFIGURATION_DIR, Store

if TYPE_CHECKING:
    from destconfig.tlsverify.probe import Network

FIXED_TIME = datetime(2026, 11, 27, 21, 6, 44, tzinfo=UTC)
TIMESTAMP = "TIMESTAMP"
_STAMPED = re.compile(r"(Changes (?:committed|cleared): )(.*)")
_TIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \d{4} \S+")
FILES_SUFFIX = ".files"


@dataclass(frozen=True)
class Difference:
    """The first line where the output and the transcript part (1-based line number)."""

    line: int
    expected: str | None  # None: the transcript has ended
    actual: str | None  # None: the output has ended

    def describe(self) -> str:
        def show(text: str | None) -> str:
            return "(nothing)" if text is None else repr(text)

        return (
            f"line {self.line}:\n  expected: {show(self.expected)}\n  actual:   {show(self.actual)}"
        )


class _Mismatch(Exception):
    def __init__(self, difference: Difference) -> None:
        super().__init__(difference.describe())
        self.difference = difference


def lines_match(expected: str, actual: str) -> bool:
    """Equal lines, or a ``TIMESTAMP`` line matching any commit/clear time."""
    if expected == actual:
        return True
    want = _STAMPED.fullmatch(expected)
    got = _STAMPED.fullmatch(actual)
    return (
        want is not None
        and got is not None
        and want.group(1) == got.group(1)
        and want.group(2) == TIMESTAMP
        and _TIME.fullmatch(got.group(2)) is not None
    )


def first_difference(expected: str, actual: str, *, partial: bool = False) -> Difference | None:
    """Compare line by line; with *partial*, *actual* may stop short inside its last line."""
    want = expected.split("\n")
    got = actual.split("\n")
    for number, line in enumerate(got, 1):
        if number > len(want):
            return Difference(number, None, line)
        last = number == len(got)
        if partial and last:
            if not want[number - 1].startswith(line):
                return Difference(number, want[number - 1], line)
        elif not lines_match(want[number - 1], line):
            return Difference(number, want[number - 1], line)
    if not partial and len(got) < len(want):
        return Difference(len(got) + 1, want[len(got)], None)
    return None


class _Answers:
    """Takes each answer from the transcript at the point where the shell asks."""

    def __init__(self, transcript: str, output: io.StringIO) -> None:
        self._lines = transcript.split("\n")
        self._output = output

    def __call__(self) -> str | None:
        printed = self._output.getvalue()
        difference = first_difference("\n".join(self._lines), printed, partial=True)
        if difference is not None:
            raise _Mismatch(difference)
        done = printed.split("\n")
        index = len(done) - 1
        answer = self._lines[index][len(done[-1]) :]
        rest = self._lines[index + 1 :]
        if answer == "" and all(line == "" for line in rest):
            return None  # a final prompt with nothing typed: end of input
        return answer


_VALUE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def substitute(transcript: str, values: Mapping[str, str]) -> str:
    """The transcript with each ``${NAME}`` of *values* replaced (others stay as written).

    Values that change from run to run (the port of a local test server) are
    written as ``${NAME}`` in a transcript and given to the replay.
    """
    return _VALUE.sub(lambda found: values.get(found.group(1), found.group(0)), transcript)


def replay_text(
    transcript: str,
    files: Path | None = None,
    *,
    values: Mapping[str, str] | None = None,
    ca_file: Path | None = None,
    network: Network | None = None,
) -> Difference | None:
    """Replay one transcript; ``None`` when it passes."""
    from destconfig.shell.host import Shell

    transcript = substitute(transcript, values or {})

    home = Path(tempfile.mkdtemp(prefix="destconfig-replay-"))
    try:
        store = Store(home)
        store.prepare()
        if files is not None and files.is_dir():
            shutil.copytree(files, home / CONFIGURATION_DIR, dirs_exist_ok=True)
        output = io.StringIO()
        env = Environment(
            stdin=io.BytesIO(),
            stdout=output,
            stderr=io.StringIO(),
            home=home,
            clock=lambda: FIXED_TIME,
            ca_file=ca_file,
            network=network,
        )
        console = Console(output)
        reader = StreamReader(_Answers(transcript, output), console)
        shell = Shell(env, store=store, committed=store.load(), console=console, reader=reader)
        try:
            shell.run()
        except _Mismatch as mismatch:
            return mismatch.difference
        return first_difference(transcript, output.getvalue())
    finally:
        shutil.rmtree(home, ignore_errors=True)


def files_for(transcript: Path) -> Path:
    """The directory of files placed in ``configuration/`` before a transcript's replay."""
    return transcript.with_name(transcript.name.removesuffix(".txt") + FILES_SUFFIX)


def replay_file(
    path: Path, *, values: Mapping[str, str] | None = None, ca_file: Path | None = None
) -> Difference | None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return replay_text(text, files_for(path), values=values, ca_file=ca_file)


def replay_files(
    paths: Iterable[Path],
    out: TextIO,
    *,
    values: Mapping[str, str] | None = None,
    ca_file: Path | None = None,
) -> int:
    """``destconfig replay``: PASS or FAIL per file; 0 when all pass, 1 otherwise."""
    status = 0
    for path in paths:
        name = escape(str(path))
        try:
            difference = replay_file(path, values=values, ca_file=ca_file)
        except OSError as error:
            out.write(f"FAIL {name}: {error.strerror}\n")
            status = 1
            continue
        if difference is None:
            out.write(f"PASS {name}\n")
        else:
            out.write(f"FAIL {name} {difference.describe()}\n")
            status = 1
    return status
