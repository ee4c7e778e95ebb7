"""The command line as a user meets it: real processes, exit statuses, stderr."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from destconfig import messages
from tests.helpers import ROOT, run_process

SEED = ROOT / "transcripts" / "seed-tls-required.txt"

destconfig = functools.partial(run_process, None)


NEW_ENTRY = b"destconfig\nnew\nexample.com\nN\nN\nN\nY\n3\nN\nN\nN\n\n"


def test_help_and_version() -> None:
    shown = destconfig("--help")
    assert shown.returncode == 0
    for option in (b"--home", b"--hostname", b"--no-echo", b"--version", b"replay"):
        assert option in shown.stdout
    version = destconfig("--version")
    assert version.returncode == 0
    assert version.stdout == b"destconfig 0.1.0\n"


@pytest.mark.parametrize(
    "args", [("--frobnicate",), ("--hostname", "two words"), ("--hostname", ""), ("replay",)]
)
def test_usage_errors_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    result = destconfig("--home", str(tmp_path), *args)
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.split(b"\n")
    assert len(lines) == 3 and lines[2] == b"", result.stderr
    assert lines[0].startswith(b"destconfig: ")
    assert lines[1] in (
        b"destconfig: try 'destconfig --help' for more information",
        b"destconfig: try 'destconfig replay --help' for more information",
    )


def test_clean_session_exits_0_and_creates_the_home(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    result = destconfig("--home", str(home), stdin=b"quit\n")
    assert result.returncode == 0
    assert result.stdout == b"ESA> quit\n"
    assert result.stderr == b""
    assert (home / "configuration").is_dir()
    assert (home.stat().st_mode & 0o777) == 0o700
    assert not (home / "config.toml").exists()


def test_end_of_input_with_pending_changes_exits_1(tmp_path: Path) -> None:
    result = destconfig("--home", str(tmp_path), stdin=NEW_ENTRY)
    assert result.returncode == 1
    assert result.stdout.endswith(b"\nESA> \n")
    assert result.stderr == b"destconfig: end of input: the uncommitted changes were discarded.\n"
    assert not (tmp_path / "config.toml").exists()


def test_end_of_input_without_changes_exits_0(tmp_path: Path) -> None:
    result = destconfig("--home", str(tmp_path), stdin=b"destconfig\nlist\n\n")
    assert result.returncode == 0
    assert result.stdout.endswith(b"[]> \n\nESA> \n")


def test_home_from_environment_and_commit_seen_by_next_session(tmp_path: Path) -> None:
    env = {"DESTCONFIG_HOME": str(tmp_path)}
    first = destconfig(stdin=NEW_ENTRY + b"commit\nfirst\nN\nquit\n", env=env)
    assert first.returncode == 0, first.stderr
    assert b"\nChanges committed: " in first.stdout
    assert (tmp_path / "config.toml").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "rollback").exists()
    second = destconfig(stdin=b"destconfig\nlist\n\n", env=env)
    assert b"\nexample.com Default  On      Default      Default   Default\n" in second.stdout


def test_hostname_names_the_prompt(tmp_path: Path) -> None:
    result = destconfig("--home", str(tmp_path), "--hostname", "mail1.example.com", stdin=b"\n")
    assert result.stdout == b"mail1.example.com> \n\nmail1.example.com> \n"


def test_no_echo_leaves_answers_out(tmp_path: Path) -> None:
    result = destconfig("--home", str(tmp_path), "--no-echo", stdin=b"bogus\nquit\n")
    assert result.stdout == (b"ESA> \nUnknown command or missing feature key: bogus\n\nESA> ")
    assert result.returncode == 0


def test_damaged_configuration_exits_2_and_is_left_alone(tmp_path: Path) -> None:
    damaged = b"[settings\ncertificate = 'Demo'\n"
    (tmp_path / "config.toml").write_bytes(damaged)
    result = destconfig("--home", str(tmp_path), stdin=b"quit\n")
    assert result.returncode == 2
    assert str(tmp_path / "config.toml").encode() in result.stderr
    assert result.stdout == b""
    assert (tmp_path / "config.toml").read_bytes() == damaged


def test_configuration_that_breaks_the_model_exits_2(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_bytes(b"[default]\nmax_host_concurrency = 5000\n")
    result = destconfig("--home", str(tmp_path), stdin=b"quit\n")
    assert result.returncode == 2
    assert b"max_host_concurrency" in result.stderr


@pytest.mark.slow
def test_replay_command_reports_pass_and_fail(tmp_path: Path) -> None:
    passed = destconfig("replay", str(SEED))
    assert passed.returncode == 0
    assert passed.stdout == f"PASS {SEED}\n".encode()
    broken = tmp_path / "broken.txt"
    broken.write_bytes(SEED.read_bytes().replace(b"Default  On ", b"Default  Off"))
    failed = destconfig("replay", str(SEED), str(broken))
    assert failed.returncode == 1
    assert failed.stdout.startswith(f"PASS {SEED}\nFAIL {broken} line 64:\n".encode())
    assert b"  expected: 'example.com Default  Off     Default      Default   Default'\n" in (
        failed.stdout
    )
    missing = destconfig("replay", str(tmp_path / "missing.txt"))
    assert missing.returncode == 1
    assert missing.stdout.startswith(b"FAIL ")


def test_ctrl_c_in_a_one_shot_command_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    """A real SIGINT while `import` waits on a file that never comes (a FIFO nobody
    writes): one line on standard error, exit 130, no traceback, the home as it was."""
    home = tmp_path / "home"
    assert run_process(home, "new", "a.example", "--tls", "required").returncode == 0
    before = (home / "config.toml").read_bytes()
    fifo = tmp_path / "table.cfg"
    os.mkfifo(fifo)
    inherited = {key: value for key, value in os.environ.items() if key != "DESTCONFIG_HOME"}
    child = subprocess.Popen(
        [sys.executable, "-m", "destconfig", "--home", str(home), "import", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=inherited,
        cwd=ROOT,
    )
    try:
        time.sleep(1.5)  # started, and blocked opening the FIFO
        assert child.poll() is None
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 130
    assert b"Traceback" not in err
    assert err == b"destconfig: " + messages.INTERRUPTED.encode() + b"\n"
    assert out == b""
    assert (home / "config.toml").read_bytes() == before
