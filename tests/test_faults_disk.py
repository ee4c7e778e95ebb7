"""Commits on a real full filesystem and a real read-only mount, in the shell and the commands.

A full disk fails the write of the new file, before anything changed: nothing
was committed and the changes stay pending. When only ``commits.log`` cannot be
appended to (its filesystem full, or mounted read-only) the new ``config.toml``
is already in place: the commit happened, and the log line's failure is a
warning. Each test mounts what it needs (root only) and unmounts it at its end.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest

from destconfig.store import Store
from tests.helpers import run_process
from tests.mounts import fill, read_only, tmpfs

TIME_LINE = "Changes committed: "
NEW_ANSWERS = "destconfig\nnew\nb.example\nN\nN\nN\nN\nN\nN\nN\n\ncommit\nsecond\nN\n"


destconfig = functools.partial(run_process, stdin="", text=True)
"""``destconfig --home HOME ARGS`` in a process of its own, text in and out."""


def _committed_home(home: Path) -> bytes:
    done = destconfig(home, "new", "a.example", "--comment", "first")
    assert done.returncode == 0, done.stderr
    return (home / "config.toml").read_bytes()


def _entries(home: Path) -> set[str]:
    return set(Store(home).load().entries)


def test_a_full_disk_refuses_the_commit_in_the_commands(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", "256k") as fs:
        home = fs / "home"
        before = _committed_home(home)
        fill(fs)
        done = destconfig(home, "new", "b.example")
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == "destconfig: nothing was committed: No space left on device\n"
        assert (home / "config.toml").read_bytes() == before
        assert list(home.rglob("*.tmp")) == []


def test_a_full_disk_refuses_the_commit_in_the_shell_and_keeps_the_changes(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "fs", "256k") as fs:
        home = fs / "home"
        before = _committed_home(home)
        fill(fs)
        done = destconfig(home, stdin=NEW_ANSWERS + "quit\nY\n")
        assert done.returncode == 0, done.stderr
        assert (
            "[Y]> N\n\nThe changes could not be committed: No space left on device\n\nESA> quit\n"
            "\nYou have uncommitted changes. Exit without committing them? [N]> Y\n"
        ) in done.stdout
        assert TIME_LINE not in done.stdout
        assert (home / "config.toml").read_bytes() == before
        assert list(home.rglob("*.tmp")) == []


def _bind(source: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", "--bind", str(source), str(target)], capture_output=True, text=True, timeout=30
    )


def _check_landed_with_warning(
    home: Path, done: subprocess.CompletedProcess[str], reason: str, log_before: bytes
) -> None:
    assert _entries(home) == {"a.example", "b.example"}
    assert (home / "commits.log").read_bytes() == log_before
    assert list(home.rglob("*.tmp")) == []
    assert done.stdout.count(TIME_LINE) == 1, done.stdout
    assert reason in done.stdout + done.stderr


def _with_unappendable_log(tmp_path: Path, full: bool, run: str) -> None:
    home = tmp_path / "home"
    _committed_home(home)
    log = home / "commits.log"
    log_before = log.read_bytes()
    reason = "No space left on device" if full else "Read-only file system"
    if full:
        # The log, a page long to the byte, on a filesystem with no page left.
        with tmpfs(tmp_path / "logfs", "64k") as fs:
            (fs / "commits.log").write_bytes(log_before + b"#" * (4096 - len(log_before)))
            log_before = (fs / "commits.log").read_bytes()
            fill(fs)
            done_bind = _bind(fs / "commits.log", log)
            assert done_bind.returncode == 0, done_bind.stderr
            try:
                done = _run(home, run)
                _check_landed_with_warning(home, done, reason, log_before)
            finally:
                subprocess.run(["umount", "-l", str(log)], check=True, timeout=30)
    else:
        with read_only(log):
            done = _run(home, run)
            _check_landed_with_warning(home, done, reason, log_before)
    if run == "command":
        assert done.returncode == 0, done.stderr
        assert done.stdout == "Changes committed: " + done.stdout.split(": ", 1)[1]
        assert done.stderr == (
            f"destconfig: warning: the commit was not recorded in commits.log: {reason}\n"
        )
    else:
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        text = done.stdout
        at = text.index(TIME_LINE)
        line_end = text.index("\n", at)
        assert text[line_end:].startswith(
            f"\nWarning: the commit was not recorded in commits.log: {reason}.\n\nESA> quit\n"
        ), text
        assert "uncommitted changes" not in text  # the commit happened: nothing is pending


def _run(home: Path, run: str) -> subprocess.CompletedProcess[str]:
    if run == "command":
        return destconfig(home, "new", "b.example", "--comment", "second")
    return destconfig(home, stdin=NEW_ANSWERS + "quit\n")


def test_a_full_log_is_a_warning_of_a_commit_that_landed_in_the_commands(
    tmp_path: Path,
) -> None:
    _with_unappendable_log(tmp_path, full=True, run="command")


def test_a_full_log_is_a_warning_of_a_commit_that_landed_in_the_shell(tmp_path: Path) -> None:
    _with_unappendable_log(tmp_path, full=True, run="shell")


def test_a_read_only_log_is_a_warning_of_a_commit_that_landed_in_the_commands(
    tmp_path: Path,
) -> None:
    _with_unappendable_log(tmp_path, full=False, run="command")


def test_a_read_only_log_is_a_warning_of_a_commit_that_landed_in_the_shell(
    tmp_path: Path,
) -> None:
    _with_unappendable_log(tmp_path, full=False, run="shell")


CHANGES = [
    ("new", "b.example"),
    ("edit", "a.example", "--tls", "required"),
    ("delete", "a.example"),
    ("default", "--tls", "required"),
    ("setup", "--tls-alert", "on"),
    ("clear", "--yes"),
]


@pytest.mark.slow
def test_a_read_only_home_refuses_every_change_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    before = _committed_home(home)
    with read_only(home):
        for change in CHANGES:
            done = destconfig(home, *change)
            assert (done.returncode, done.stdout) == (1, ""), change
            assert done.stderr == (
                f"destconfig: cannot lock the home {home}: Read-only file system\n"
            ), change
        listed = destconfig(home, "list")
        assert listed.returncode == 0, listed.stderr
        shell = destconfig(home, stdin=NEW_ANSWERS + "quit\nY\n")
        assert (
            f"\nThe changes could not be committed: cannot lock the home {home}: "
            "Read-only file system\n"
        ) in shell.stdout
        assert shell.stderr == ""
    assert (home / "config.toml").read_bytes() == before


@pytest.mark.slow
def test_a_lock_that_is_a_directory_refuses_every_change(tmp_path: Path) -> None:
    """No mount needed: ``.lock`` is a directory, so the lock file cannot be opened."""
    home = tmp_path / "home"
    before = _committed_home(home)
    (home / ".lock").unlink()
    (home / ".lock").mkdir()
    for change in CHANGES:
        done = destconfig(home, *change)
        assert (done.returncode, done.stdout) == (1, ""), change
        assert done.stderr == f"destconfig: cannot lock the home {home}: Is a directory\n"
    shell = destconfig(home, stdin=NEW_ANSWERS + "quit\nY\n")
    assert (
        f"\nThe changes could not be committed: cannot lock the home {home}: Is a directory\n"
        in shell.stdout
    )
    assert (home / "config.toml").read_bytes() == before
