"""Any answer stream is handled (hypothesis): no exception, the session ends, the model
stays valid, nothing uncontrolled reaches the terminal, and a dialogue abandoned half-way
(Ctrl-C or end of input) changes nothing."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from destconfig.console import Console
from destconfig.dialogue.reader import PromptKind, StreamReader
from destconfig.env import Environment
from destconfig.model import Table
from destconfig.replay import FIXED_TIME
from destconfig.shell import host
from destconfig.shell.session import Session
from destconfig.store import Store
from tests.helpers import run_cli, run_session

EXAMPLES = Path(__file__).parent.parent / "examples"

INTERRUPT = "<Ctrl-C>"

DESTS = [
    "example.com",
    ".example.com",
    "EXAMPLE.com",
    "192.0.2.1",
    "[2001:db8::1]",
    "bücher.example",
    "gmail.com",
    ".partner-bank.example",
    "192.0.2.300",
    "a..b",
]
PROFILES = ["bulk", "Bulk-1", "partners", "1bad", "default"]
# Answers no question accepts: a rejected answer is asked again, so the dialogue stays on track.
REJECTED = ["\x1b[31m", "\x1b]0;t\x07", "\x00", "\u200b", "\x9b", "9" * 40, "-1", "x" * 5000]


def _yes_no(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["y", "n", "Y", "N", "yes", "no", ""]))


def _number(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", "1", "5", "60", "500", "1000", "0", "61", "1001"]))


def _choice(draw: st.DrawFn, count: int) -> str:
    return draw(st.sampled_from(["", *map(str, range(1, count + 2))]))


@st.composite
def _entry_answers(draw: st.DrawFn) -> list[str]:
    lines = []
    limited = False
    for gate, follow in (("conc", [_number]), ("mpc", [_number]), ("rcpt", [_number, _number])):
        answer = _yes_no(draw)
        lines.append(answer)
        if answer.lower() in ("y", "yes") or (gate == "conc" and answer == ""):
            lines.extend(f(draw) for f in follow)
            limited = limited or gate != "mpc"
    if limited:
        lines += [_choice(draw, 2), _choice(draw, 2)]
    for count in (6, 0, -1, 4):  # TLS, bounce verification, profile, IP sort
        answer = _yes_no(draw)
        lines.append(answer)
        if answer.lower() not in ("y", "yes"):
            continue
        if count == 0:
            lines.append(_yes_no(draw))
        elif count == -1:
            lines.append(draw(st.sampled_from(["1", "2", "3", "New Profile", "bulk", ""])))
            lines.append(draw(st.sampled_from(PROFILES)))
        else:
            lines.append(_choice(draw, count))
    return lines


@st.composite
def _operation(draw: st.DrawFn) -> list[str]:
    kind = draw(
        st.sampled_from(
            [
                "new",
                "edit",
                "delete",
                "default",
                "list",
                "detail",
                "clear",
                "setup",
                "import",
                "export",
                "unknown",
                "leave",
            ]
        )
    )
    dest = draw(st.sampled_from(DESTS))
    if kind in ("new", "edit"):
        return [kind, dest, *draw(_entry_answers())]
    if kind == "delete":
        return [kind, dest]
    if kind == "default":
        lines = [kind, _number(draw), _number(draw), _yes_no(draw)]
        if lines[-1].lower() in ("y", "yes"):
            lines += [_number(draw), _number(draw)]
        return [
            *lines,
            _choice(draw, 2),
            _choice(draw, 2),
            _choice(draw, 6),
            _yes_no(draw),
            _choice(draw, 4),
        ]
    if kind == "detail":
        return [kind, draw(st.sampled_from([*DESTS, "all", "DEFAULT", ""]))]
    if kind == "setup":
        return [kind, _choice(draw, 1), _yes_no(draw)]
    if kind == "import":
        return [
            kind,
            draw(
                st.sampled_from(
                    [
                        "destinations.cfg",
                        "broken.cfg",
                        "missing.cfg",
                        "out.cfg",
                        "out.json",
                        "../x",
                        "",
                    ]
                )
            ),
        ]
    if kind == "export":
        return [
            kind,
            draw(st.sampled_from(["out.cfg", "out.json", "out.toml", ".hidden"])),
            _yes_no(draw),
        ]
    if kind == "unknown":
        return [draw(st.text(max_size=8))]
    return [kind.upper() if draw(st.booleans()) else kind, ""] if kind == "leave" else [kind]


@st.composite
def _host_command(draw: st.DrawFn) -> list[str]:
    kind = draw(
        st.sampled_from(
            [
                "destconfig",
                "destconfig",
                "destconfig",
                "commit",
                "clearchanges",
                "help",
                "quit",
                "exit",
                "",
                "frob",
            ]
        )
    )
    if kind == "destconfig":
        operations = draw(st.lists(_operation(), min_size=1, max_size=5))
        return [kind, *[line for operation in operations for line in operation], ""]
    if kind == "commit":
        return [kind, draw(st.sampled_from(["", "a comment"])), _yes_no(draw)]
    if kind in ("clearchanges", "quit", "exit"):
        return [kind, _yes_no(draw)]
    return [kind]


@st.composite
def answers(draw: st.DrawFn) -> list[str]:
    """Mostly well-formed sessions, with rejected answers, junk, Ctrl-C and early ends."""
    commands = draw(st.lists(_host_command(), min_size=1, max_size=6))
    lines = [line for command in commands for line in command]
    mutated: list[str] = []
    for line in lines:
        roll = draw(st.integers(0, 99))
        if roll < 6:
            mutated.append(draw(st.sampled_from(REJECTED)))
        elif roll < 8:
            mutated.append(INTERRUPT)
        elif roll < 10:
            mutated.append(draw(st.text(max_size=12)))
            continue
        mutated.append(line)
    if draw(st.integers(0, 3)) == 0:  # end of input anywhere
        return mutated[: draw(st.integers(0, len(mutated)))]
    return mutated


def _home(directory: str) -> Path:
    home = Path(directory)
    (home / "configuration").mkdir(parents=True)
    (home / "configuration" / "destinations.cfg").write_bytes(
        (EXAMPLES / "destinations.cfg").read_bytes()
    )
    (home / "configuration" / "broken.cfg").write_bytes(b"[DEFAULT]\ntls = 9\n[a..b]\n")
    return home


class _Script:
    """A reader that checks, at each command prompt, that abandoned dialogues left no trace."""

    def __init__(self, lines: list[str], console: Console) -> None:
        self._lines = iter(lines)
        self._reader = StreamReader(self._next, console)
        self.shell: Session | None = None
        self.safe: Table | None = None  # the table at the last command prompt
        self.interrupted: Table | None = None

    def _next(self) -> str | None:
        line = next(self._lines, None)
        if line == INTERRUPT:
            raise KeyboardInterrupt
        return line

    def read(
        self, prompt: str, completions: Iterable[str] = (), *, kind: PromptKind = PromptKind.ANSWER
    ) -> str:
        assert self.shell is not None
        command = kind is not PromptKind.ANSWER
        if self.interrupted is not None:
            # Ctrl-C abandoned a dialogue: the table is what it was before it.
            assert self.shell.table == self.interrupted
            self.interrupted = None
        if command:
            self.safe = self.shell.table
        try:
            return self._reader.read(prompt, completions, kind=kind)
        except KeyboardInterrupt:
            if not command:
                self.interrupted = self.safe
            raise


@pytest.mark.slow
@settings(max_examples=2500, deadline=None)
@given(answers())
def test_any_answers_are_handled(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = _home(directory)
        output, errors = io.StringIO(), io.StringIO()
        env = Environment(
            stdin=io.BytesIO(), stdout=output, stderr=errors, clock=lambda: FIXED_TIME
        )
        console = Console(output)
        script = _Script([line.replace("\n", " ") for line in lines], console)
        store = Store(home)
        shell = Session(env, store=store, committed=store.load(), console=console, reader=script)
        script.shell = shell
        status = host.run(shell)
        assert status in (0, 1)
        if status == 1:  # end of input, possibly in the middle of a dialogue
            assert script.safe is not None
            assert shell.table == script.safe
        # The model stays valid, and what was committed loads back.
        assert Table.model_validate(shell.table.model_dump()) == shell.table
        assert isinstance(Store(home).load(), Table)
        text = output.getvalue()
        assert all(ch == "\n" or ch.isprintable() for ch in text + errors.getvalue())
        event(f"completed operations: {min(text.count(' configured.'), 3)}")
        event(f"interrupted a dialogue: {script.interrupted is not None or INTERRUPT in lines}")


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_handled(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        outcome = run_session(_home(directory), b"destconfig\n" + data)
        assert outcome.status in (0, 1)
        assert all(ch == "\n" or ch.isprintable() for ch in outcome.stdout + outcome.stderr)


# Commands that only read, or write into the home: never a file named at random.
_COMMANDS = ("list", "detail", "resolve", "new", "edit", "delete", "default", "setup", "clear")
_OPTIONS = ("--tls", "--format", "--bounce-profile", "--max-concurrency", "--hostname", "-x")


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_COMMANDS),
    st.lists(
        st.one_of(st.sampled_from(_OPTIONS), st.text(st.characters(codec="utf-8"), max_size=12)),
        max_size=4,
    ),
)
def test_any_arguments_are_handled_and_echoed_escaped(command: str, words: list[str]) -> None:
    """argv reaches messages (argparse quotes it): nothing of it may drive the terminal."""
    with tempfile.TemporaryDirectory() as directory:
        argv = [command, *(word.replace("\0", "") for word in words)]
        result = run_cli(Path(directory), *argv)
        assert result.status in (0, 1, 2)
        assert all(ch == "\n" or ch.isprintable() for ch in result.out + result.err)
