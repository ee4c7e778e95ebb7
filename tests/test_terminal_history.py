"""At a terminal: a history per kind of prompt, Ctrl-D inside a command, international names.

The installed destconfig in a pseudo-terminal (pexpect), as in test_terminal.py;
every wait is on a prompt or a message, none on time.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pexpect
import pytest

from destconfig.formats import toml as toml_format
from destconfig.model import Entry, Table
from destconfig.store import Store
from tests.helpers import run_session
from tests.test_terminal import COMMAND, HOST, MENU_PROMPT, start_at_terminal

_installed = pytest.mark.skipif(COMMAND is None, reason="destconfig is not installed")
Test = TypeVar("Test", bound=Callable[..., None])


def _terminal(test: Test) -> Test:
    """Each test that drives the installed shell in a pseudo-terminal is slow."""
    marked: Test = pytest.mark.slow(_installed(test))
    return marked


# Keys other than text (Up, Tab, Ctrl-D) are sent once the prompt is drawn: before
# that the terminal is in its line mode, where Ctrl-D is no key press.
MENU = (MENU_PROMPT, "[]>")
UP = "\x1b[A"
LISTING = "Domain    Limiting TLS"
UNKNOWN_COMMAND = "Unknown command or missing feature key:"
UNKNOWN_OPTION = "Unknown option:"
ASK_QUIT = "You have uncommitted changes. Exit without committing them? [N]>"
DISCARDED = "destconfig: end of input: the uncommitted changes were discarded.\n"
# The seven questions a NEW entry asks when each of its gates is answered N.
GATES = 7


def _start(home: Path) -> pexpect.spawn:
    return start_at_terminal(home, timeout=30)


def _expect(child: pexpect.spawn, *texts: str) -> None:
    for text in texts:
        child.expect_exact(text)


def _answer(child: pexpect.spawn, text: str, *then: str) -> None:
    child.sendline(text)
    _expect(child, *then)


def _which(child: pexpect.spawn, *texts: str) -> str:
    """Which of *texts* comes first."""
    index: int = child.expect_exact(list(texts))
    return texts[index]


def _quit(child: pexpect.spawn) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _new_entry(child: pexpect.spawn, name: str) -> None:
    """At the menu: NEW *name*, every gate answered N, back at the menu."""
    _answer(child, "new", "Enter the domain you wish to configure.")
    _answer(child, name, f"configure a concurrency limit for {name}? [Y]>")
    for _ in range(GATES - 1):
        child.sendline("N")
    child.sendline("N")
    child.expect_exact("configured.")
    _expect(child, *MENU)


@_terminal
@pytest.mark.parametrize("operation", ["list", "clear"])
def test_up_at_the_host_prompt_recalls_the_host_command_not_the_menu_answer(
    tmp_path: Path, operation: str
) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _answer(child, operation, *MENU)
    _answer(child, "", HOST)
    child.send(UP + "\r")
    assert _which(child, MENU_PROMPT, UNKNOWN_COMMAND) == MENU_PROMPT
    _answer(child, "", HOST)
    _quit(child)


@_terminal
def test_up_at_the_menu_recalls_the_last_operation(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _answer(child, "list", *MENU)
    _answer(child, "", HOST)
    _answer(child, "destconfig", *MENU)
    child.send(UP + "\r")
    assert _which(child, LISTING, UNKNOWN_OPTION) == LISTING
    _expect(child, *MENU)
    _answer(child, "", HOST)
    _quit(child)


@_terminal
def test_up_at_a_number_question_does_not_recall_a_yes_no_answer(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _answer(child, "new", "Enter the domain you wish to configure.")
    _answer(child, "example.com", "configure a concurrency limit for example.com? [Y]>")
    _answer(child, "Y", 'Enter the max concurrency limit for "example.com".', "[500]>")
    # Nothing to recall: Enter takes the number in brackets.
    child.send(UP + "\r")
    assert _which(child, "messages-per-connection", "You must enter a value") == (
        "messages-per-connection"
    )
    child.sendcontrol("c")
    child.expect_exact(HOST)
    _quit(child)


def _private_lines(path: Path) -> list[str]:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return [line[1:] for line in path.read_text(encoding="utf-8").splitlines() if line[:1] == "+"]


@_terminal
def test_the_histories_persist_in_separate_private_files(tmp_path: Path) -> None:
    first = _start(tmp_path)
    _answer(first, "destconfig", *MENU)
    _answer(first, "list", *MENU)
    _answer(first, "", HOST)
    _quit(first)
    assert _private_lines(tmp_path / "history") == ["destconfig", "quit"]
    assert _private_lines(tmp_path / "menu-history") == ["list"]

    again = _start(tmp_path)
    again.send(UP + UP + "\r")  # quit, then destconfig
    _expect(again, *MENU)
    again.send(UP + "\r")  # list, from the first session
    assert _which(again, LISTING, UNKNOWN_OPTION) == LISTING
    _expect(again, *MENU)
    _answer(again, "", HOST)
    _quit(again)
    assert _private_lines(tmp_path / "history") == ["destconfig", "quit", "destconfig", "quit"]
    assert _private_lines(tmp_path / "menu-history") == ["list"]  # a repeat is not added


@_terminal
def test_the_history_file_of_an_earlier_version_is_the_host_commands(tmp_path: Path) -> None:
    (tmp_path / "history").write_text("\n# 2026-01-01 00:00:00.000000\n+help\n", encoding="utf-8")
    child = _start(tmp_path)
    child.send(UP + "\r")
    child.expect_exact("clearchanges - ")
    child.expect_exact(HOST)
    _quit(child)


@_terminal
def test_ctrl_d_inside_new_keeps_the_pending_changes_for_commit(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _new_entry(child, "kept.example")
    _answer(child, "new", "Enter the domain you wish to configure.")
    _answer(child, "left.example", "configure a concurrency limit for left.example? [Y]>")
    _answer(child, "Y", 'Enter the max concurrency limit for "left.example".', "[500]>")
    child.sendcontrol("d")
    child.expect_exact(HOST)
    _answer(child, "commit", "describing your changes:")
    _answer(child, "after ctrl-d", "for rollback? [Y]>")
    _answer(child, "", "Changes committed: ")
    child.expect_exact(HOST)
    _quit(child)
    assert list(Store(tmp_path).load().entries) == ["kept.example"]


@_terminal
def test_ctrl_d_inside_a_command_then_quit_asks_about_the_changes(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _new_entry(child, "kept.example")
    child.sendcontrol("d")  # at the menu itself
    child.expect_exact(HOST)
    _answer(child, "quit", ASK_QUIT)
    child.sendcontrol("d")  # at the question of quit: the session goes on
    child.expect_exact(HOST)
    _answer(child, "destconfig", *MENU)
    _answer(child, "list", "kept.example")
    _expect(child, *MENU)
    _answer(child, "", HOST)
    _answer(child, "quit", ASK_QUIT)
    child.sendline("Y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not (tmp_path / "config.toml").exists()


@_terminal
def test_ctrl_d_at_the_host_prompt_acts_as_quit(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _new_entry(child, "kept.example")
    _answer(child, "", HOST)
    child.sendcontrol("d")
    child.expect_exact(ASK_QUIT)
    child.sendcontrol("d")  # no answer given: nothing is thrown away
    child.expect_exact(HOST)
    _answer(child, "commit", "describing your changes:")
    _answer(child, "", "for rollback? [Y]>")
    _answer(child, "", "Changes committed: ")
    child.expect_exact(HOST)
    child.sendcontrol("d")  # nothing pending: the session ends
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert list(Store(tmp_path).load().entries) == ["kept.example"]


def _seed(home: Path) -> None:
    table = Table().with_entry("xn--bcher-kva.example", Entry()).with_entry("example.com", Entry())
    (home / "config.toml").write_bytes(toml_format.dumps(table))


@_terminal
def test_tab_at_edit_offers_the_unicode_form_and_it_selects_the_entry(tmp_path: Path) -> None:
    _seed(tmp_path)
    child = _start(tmp_path)
    _answer(child, "destconfig", *MENU)
    _answer(child, "edit", "Enter the domain you wish to edit.", "[]>")
    child.send("\t")  # everything: both forms of the international name
    child.expect_exact("bücher.example")
    child.expect_exact("xn--bcher-kva.example")
    child.sendcontrol("c")
    child.expect_exact(HOST)
    _answer(child, "destconfig", *MENU)
    _answer(child, "edit", "Enter the domain you wish to edit.", "[]>")
    child.send("bü\t")
    child.expect_exact("bücher.example")
    child.send("\r")
    found = _which(child, "concurrency limit for xn--bcher-kva.example?", "was not found")
    assert found == "concurrency limit for xn--bcher-kva.example?"
    child.sendcontrol("c")
    child.expect_exact(HOST)
    _quit(child)


def test_end_of_piped_input_inside_a_dialogue_still_ends_the_session(tmp_path: Path) -> None:
    answers = "destconfig\nnew\nkept.example\n" + "N\n" * GATES + "new\nleft.example\nY\n"
    outcome = run_session(tmp_path, answers)
    assert outcome.status == 1
    assert outcome.stderr == DISCARDED
    assert outcome.stdout.endswith('Enter the max concurrency limit for "left.example".\n[500]> \n')
    assert not (tmp_path / "config.toml").exists()
