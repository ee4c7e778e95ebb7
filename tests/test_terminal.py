"""The real terminal path: the installed destconfig in a pseudo-terminal (pexpect)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

from destconfig.store import Store

COMMAND = shutil.which("destconfig", path=str(Path(sys.executable).parent))
pytestmark = [
    pytest.mark.slow,  # each test drives the installed shell in a pseudo-terminal
    pytest.mark.skipif(COMMAND is None, reason="destconfig is not installed"),
]

MENU_PROMPT = "Export tables to a file."
HOST = "ESA>"  # the prompt's last space is drawn as a cursor move


def start_at_terminal(home: Path, timeout: float = 20) -> pexpect.spawn:
    """The installed shell on *home* in a real pseudo-terminal, at its first prompt."""
    assert COMMAND is not None
    env = {
        **os.environ,
        "TERM": "xterm",
        "DESTCONFIG_HOME": str(home),
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect does not answer cursor position requests
    }
    child = pexpect.spawn(COMMAND, env=env, encoding="utf-8", timeout=timeout, dimensions=(50, 160))
    child.expect_exact(HOST)
    return child


def _answer(child: pexpect.spawn, text: str, then: str) -> None:
    child.sendline(text)
    child.expect_exact(then)


def test_new_dialogue_and_commit(tmp_path: Path) -> None:
    child = start_at_terminal(tmp_path)
    _answer(child, "destconfig", MENU_PROMPT)
    _answer(child, "new", "Enter the domain you wish to configure.")
    _answer(child, "example.com", "configure a concurrency limit for example.com? [Y]>")
    for question in ("messages-per-connection", "recipient limit", "specific TLS setting"):
        _answer(child, "N", question)
    _answer(child, "Y", "Do you want to use TLS support?")
    _answer(child, "3", "ensure that there is a valid certificate configured.")
    for question in ("address tagging setting", "bounce profile", "IP sort preference"):
        child.expect_exact(question)
        child.sendline("N")
    child.expect_exact("There is currently 1 entry configured.")
    child.expect_exact(MENU_PROMPT)
    _answer(child, "", HOST)
    _answer(child, "commit", "describing your changes:")
    _answer(child, "from a terminal", "for rollback? [Y]>")
    _answer(child, "", "Changes committed: ")
    child.expect_exact(HOST)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert list(Store(tmp_path).load().entries) == ["example.com"]


def test_ctrl_c_inside_a_dialogue_changes_nothing(tmp_path: Path) -> None:
    child = start_at_terminal(tmp_path)
    _answer(child, "destconfig", MENU_PROMPT)
    _answer(child, "new", "Enter the domain you wish to configure.")
    _answer(child, "abandoned.example", "concurrency limit for abandoned.example? [Y]>")
    _answer(child, "N", "messages-per-connection")
    child.sendcontrol("c")
    child.expect_exact(HOST)
    _answer(child, "commit", "There are no changes to commit.")
    child.expect_exact(HOST)
    # Ctrl-D at the host prompt acts as quit: nothing pending, the session ends.
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_d_with_pending_changes_asks_first(tmp_path: Path) -> None:
    child = start_at_terminal(tmp_path)
    _answer(child, "destconfig", MENU_PROMPT)
    _answer(child, "clear", "There are currently 0 entries configured.")
    _answer(child, "default", "Enter the default maximum concurrency limit.")
    _answer(child, "20", "messages per connection.")
    for _ in range(7):
        child.sendline("")
    child.expect_exact("There are currently 0 entries configured.")
    _answer(child, "", HOST)
    child.sendcontrol("d")
    child.expect_exact("You have uncommitted changes. Exit without committing them? [N]>")
    _answer(child, "", HOST)
    child.sendcontrol("d")
    _answer(child, "Y", "\n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_completion_of_an_operation_name(tmp_path: Path) -> None:
    child = start_at_terminal(tmp_path)
    _answer(child, "destconfig", MENU_PROMPT)
    child.send("LI\t")
    child.expect_exact("LIST")
    _answer(child, "", "Domain    Limiting TLS")
    child.expect_exact(MENU_PROMPT)
    child.send("de")
    child.send("\t")
    child.expect_exact("DEFAULT")  # both DEFAULT and DELETE are offered
    child.expect_exact("DELETE")
    child.sendcontrol("c")
    child.expect_exact(HOST)
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_history_recall_across_sessions(tmp_path: Path) -> None:
    child = start_at_terminal(tmp_path)
    _answer(child, "help", "clearchanges - ")
    child.expect_exact(HOST)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    again = start_at_terminal(tmp_path)
    again.send("\x1b[A")  # Up: quit
    again.send("\x1b[A")  # Up: help
    again.send("\r")
    again.expect_exact("clearchanges - ")
    again.expect_exact(HOST)
    again.sendline("quit")
    again.expect(pexpect.EOF)
    assert "help" in (tmp_path / "history").read_text()


def test_tlsverify_at_a_terminal(tmp_path: Path) -> None:
    """Completion of the host command, the two questions, the log and the verdict."""
    from tests.tlsservers import Pki, quiet_aiosmtpd, smtp_server

    assert COMMAND is not None
    pki = Pki(tmp_path / "pki")
    context = pki.issue("mail.example.test", common_name="example.test")
    env = {
        **os.environ,
        "TERM": "xterm",
        "DESTCONFIG_HOME": str(tmp_path / "home"),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    with quiet_aiosmtpd(), smtp_server(context) as port:
        child = pexpect.spawn(
            COMMAND,
            ["--ca-file", str(pki.ca_file), "--tls-timeout", "5"],
            env=env,
            encoding="utf-8",
            timeout=20,
            dimensions=(50, 160),
        )
        child.expect_exact(HOST)
        child.send("tlsv\t")
        child.expect_exact("tlsverify")
        _answer(child, "", "Enter the TLS domain to verify against:")
        _answer(child, "example.test", "[example.test]>")
        _answer(child, f"127.0.0.1:{port}", f"Connecting to 127.0.0.1 on port {port}.")
        child.expect_exact("TLS certificate match example.test")
        child.expect_exact("TLS verification completed.")
        child.expect_exact("Destination controls entry: (Default) (TLS: No)")
        child.expect_exact("Delivery with this setting: in clear (this setting never tries TLS).")
        child.expect_exact(HOST)
        child.sendline("quit")
        child.expect(pexpect.EOF)


def test_ctrl_c_during_a_slow_probe_returns_to_the_prompt(tmp_path: Path) -> None:
    from tests.tlsservers import Script, scripted_server

    assert COMMAND is not None
    env = {
        **os.environ,
        "TERM": "xterm",
        "DESTCONFIG_HOME": str(tmp_path / "home"),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    with scripted_server(Script.SILENT_GREETING) as port:
        child = pexpect.spawn(
            COMMAND, ["--tls-timeout", "30"], env=env, encoding="utf-8", timeout=4
        )
        child.expect_exact(HOST)
        _answer(child, "tlsverify", "Enter the TLS domain to verify against:")
        _answer(child, "example.test", "[example.test]>")
        _answer(child, f"127.0.0.1:{port}", f"Connecting to 127.0.0.1 on port {port}.")
        child.sendcontrol("c")  # the server never greets: the probe waits on it
        child.expect_exact(HOST)  # within 4 s, not the 30 of the time limit
        child.sendline("quit")
        child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
