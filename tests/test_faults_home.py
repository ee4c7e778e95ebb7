"""Faults around the home, each made for real: special and huge files where a table is
read, a configuration that turns into a directory mid-session, SIGKILLs during export and
import, a race on an IMPORT name, control characters in arguments and paths, a careless
umask and homes others can write, tables too large to read back."""

from __future__ import annotations

import functools
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pexpect
import pytest

from destconfig.confdir import ConfigurationDirectory, Outside
from destconfig.formats import toml as toml_format
from destconfig.formats.limits import MAX_ENTRIES, MAX_FILE_BYTES
from destconfig.model import Entry, IpSort, Table, Tls
from destconfig.store import Store, TooLarge
from tests.helpers import run_process, run_session

ROOT = Path(__file__).parent.parent
WHEN = datetime(2026, 11, 27, 21, 6, 44, tzinfo=UTC)
NEW_ANSWERS = "destconfig\nnew\nb.example\nN\nN\nN\nN\nN\nN\nN\n\n"
COMMIT_ANSWERS = "commit\nsecond\nN\n"


destconfig = functools.partial(run_process, stdin="", text=True, umask=0o22)
"""``destconfig --home HOME ARGS`` in a process of its own, text in and out (``memory=``
caps its address space)."""


def _home_with_entry(home: Path) -> bytes:
    done = destconfig(home, "new", "a.example", "--comment", "first")
    assert done.returncode == 0, done.stderr
    return (home / "config.toml").read_bytes()


# Special and huge files where a table is read.


def test_a_configuration_linked_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "config.toml").symlink_to("/dev/zero")
    config = tmp_path / "config.toml"
    expected = f"destconfig: {config}: not a regular file\n"
    for args, stdin in ((("list",), ""), ((), "quit\n")):
        done = destconfig(tmp_path, *args, stdin=stdin, memory=1 << 30)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)


@pytest.mark.slow
def test_a_configuration_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "config.toml")
    expected = f"destconfig: {tmp_path / 'config.toml'}: not a regular file\n"
    for args, stdin in ((("list",), ""), (("new", "b.example"), ""), ((), "quit\n")):
        done = destconfig(tmp_path, *args, stdin=stdin)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", expected), args


def test_a_sparse_configuration_is_refused_reading_no_more_than_the_limit(
    tmp_path: Path,
) -> None:
    with (tmp_path / "config.toml").open("wb") as stream:
        stream.truncate(1536 * 1024 * 1024)  # 1.5 GB of holes
    # Under a 600 MB address space: reading the whole file could not even be tried.
    done = destconfig(tmp_path, "list", memory=600 << 20)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"destconfig: {tmp_path / 'config.toml'} is not a valid configuration:\n"
        f"destconfig:   the file is larger than {MAX_FILE_BYTES} bytes\n"
    )


@pytest.mark.slow
def test_a_commits_log_that_is_a_fifo_neither_hangs_nor_fails_the_commit(
    tmp_path: Path,
) -> None:
    _home_with_entry(tmp_path)
    (tmp_path / "commits.log").unlink()
    os.mkfifo(tmp_path / "commits.log")
    done = destconfig(tmp_path, "new", "b.example")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Changes committed: ")
    assert done.stderr == (
        "destconfig: warning: the commit was not recorded in commits.log: not a regular file\n"
    )
    assert set(Store(tmp_path).load().entries) == {"a.example", "b.example"}
    # The lock was let go: the next commit goes through at once.
    assert destconfig(tmp_path, "delete", "b.example").returncode == 0


def test_a_history_that_is_a_fifo_does_not_hang_the_terminal_shell(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "history")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "destconfig", "--home", str(tmp_path)],
        cwd=str(ROOT),
        timeout=15,
        encoding="utf-8",
        dimensions=(24, 80),
        env={**os.environ, "TERM": "dumb"},
    )
    try:
        child.expect_exact("ESA> ")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert stat.S_ISFIFO(os.lstat(tmp_path / "history").st_mode)  # left as it was


def test_an_empty_configuration_is_damage_not_the_factory_table(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_bytes(b"")
    message = f"destconfig: {tmp_path / 'config.toml'} is empty; a commit never leaves it so\n"
    for args, stdin in ((("list",), ""), ((), "quit\n")):
        done = destconfig(tmp_path, *args, stdin=stdin)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", message)
    assert (tmp_path / "config.toml").read_bytes() == b""


@pytest.mark.parametrize("digits", [5_000, 100_000])
def test_a_configuration_with_a_number_too_long_exits_2(tmp_path: Path, digits: int) -> None:
    good = toml_format.dumps(Table(entries={"a.example": Entry()}))
    bad = good.replace(b"max_host_concurrency = 500", b"max_host_concurrency = " + b"7" * digits)
    assert bad != good
    (tmp_path / "config.toml").write_bytes(bad)
    done = destconfig(tmp_path, "list")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"destconfig: {tmp_path / 'config.toml'} is not a valid ")
    assert "Traceback" not in done.stderr


# A configuration that turns into a directory during a session.


@pytest.mark.slow
def test_commit_after_the_configuration_became_a_directory_keeps_the_changes(
    tmp_path: Path,
) -> None:
    _home_with_entry(tmp_path)
    shell = subprocess.Popen(
        [sys.executable, "-m", "destconfig", "--home", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert shell.stdin is not None and shell.stdout is not None
    seen = bytearray()

    def read_until(marker: bytes) -> None:
        deadline = time.monotonic() + 30
        while marker not in seen:
            assert time.monotonic() < deadline, seen.decode()
            chunk = os.read(shell.stdout.fileno(), 65536)  # type: ignore[union-attr]
            assert chunk, seen.decode()
            seen.extend(chunk)

    read_until(b"ESA> ")
    shell.stdin.write(NEW_ANSWERS.encode())
    shell.stdin.flush()
    read_until(b"There are currently 2 entries configured.")
    (tmp_path / "config.toml").unlink()
    (tmp_path / "config.toml").mkdir()
    out, err = shell.communicate(
        (COMMIT_ANSWERS + "destconfig\nlist\n\nquit\nY\n").encode(), timeout=60
    )
    text = (bytes(seen) + out).decode()
    assert shell.returncode == 0, err
    assert err == b""
    assert (
        "[Y]> N\n\nThe changes could not be committed: "
        f"{tmp_path / 'config.toml'}: not a regular file\n\nESA> destconfig\n"
    ) in text
    assert "\nb.example" in text.rsplit("ESA> destconfig", 1)[1]  # still pending
    assert text.endswith("Exit without committing them? [N]> Y\n")


# SIGKILLs during export and import.

_REAL_FSYNC = os.fsync


def _slow_fsync(descriptor: int) -> None:
    time.sleep(0.005)
    _REAL_FSYNC(descriptor)


def _big(tls: Tls, size: int = 3000) -> Table:
    return Table(entries={f"host{n}.example.com": Entry(tls=tls) for n in range(size)})


def _kill_loop(
    run_child: Callable[[], None], kills: int, seed: int, check: Callable[[], int]
) -> int:
    """Fork children running *run_child* forever and SIGKILL each at a random moment;
    the number of kills after which *check* found a file half-written."""
    rng = random.Random(seed)
    mid_write = 0
    for _ in range(kills):
        child = os.fork()
        if child == 0:
            try:
                os.fsync = _slow_fsync
                run_child()
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        mid_write += check()
    return mid_write


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_export_killed_at_random_moments_leaves_no_temporary_file_after_the_next_start(
    tmp_path: Path,
) -> None:
    Store(tmp_path).commit(_big(Tls.REQUIRED), comment="", when=WHEN, keep_rollback=False)
    configuration = tmp_path / "configuration"

    def export_forever() -> None:
        run_session(tmp_path, "destconfig\nexport\nout.cfg\n" + "export\nout.cfg\nY\n" * 10_000)

    def check() -> int:
        left = list(configuration.glob(".*.tmp"))
        Store(tmp_path).load()  # the next session's start sweeps them
        assert list(configuration.glob(".*.tmp")) == []
        if (configuration / "out.cfg").exists():
            assert (configuration / "out.cfg").read_bytes().startswith(b"[DEFAULT]\n")
        return bool(left)

    assert _kill_loop(export_forever, 60, 20261201, check) > 0


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_import_killed_at_random_moments_leaves_the_old_or_the_new_table(tmp_path: Path) -> None:
    from destconfig.cli import main

    tables = [_big(Tls.REQUIRED), _big(Tls.PREFERRED)]
    files = []
    for number, table in enumerate(tables):
        path = tmp_path / f"table{number}.toml"
        path.write_bytes(toml_format.dumps(table))
        files.append(str(path))
    home = tmp_path / "home"
    Store(home).commit(tables[0], comment="", when=WHEN, keep_rollback=False)

    def import_forever() -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        number = 0
        while True:
            number += 1
            main(["--home", str(home), "import", files[number % 2], "--no-rollback"])

    def check() -> int:
        left = list(home.rglob("*.tmp"))
        assert Store(home).load() in tables  # and the start swept what was left
        assert list(home.rglob("*.tmp")) == []
        return bool(left)

    assert _kill_loop(import_forever, 40, 20261202, check) > 0


# The IMPORT name raced between a link inside and a link outside.


_SWAPPER = """
import os, sys
directory, inside, outside = sys.argv[1:]
race = os.path.join(directory, "race.cfg")
while True:
    os.link(inside, os.path.join(directory, "hard.tmp"))
    os.replace(os.path.join(directory, "hard.tmp"), race)
    os.symlink(outside, os.path.join(directory, "soft.tmp"))
    os.replace(os.path.join(directory, "soft.tmp"), race)
"""


@pytest.mark.slow
def test_an_import_name_swapped_to_a_link_outside_never_reads_the_outside_file(
    tmp_path: Path,
) -> None:
    """Another process swaps ``race.cfg`` between a hard link of a file inside and a
    symbolic link to a file outside, as fast as it can, while it is read."""
    directory = tmp_path / "configuration"
    directory.mkdir()
    inside = directory / "good.cfg"
    inside.write_bytes(b"[DEFAULT]\n# inside\n")
    outside = tmp_path / "secret.cfg"
    outside.write_bytes(b"[DEFAULT]\n# outside\n")
    (directory / "race.cfg").write_bytes(inside.read_bytes())  # not a link of good.cfg
    swapper = subprocess.Popen(
        [sys.executable, "-c", _SWAPPER, str(directory), str(inside), str(outside)]
    )
    reads = refused = 0
    try:
        configuration = ConfigurationDirectory(directory)
        deadline = time.monotonic() + 20
        while (reads < 200 or refused < 200) and time.monotonic() < deadline:
            try:
                data = configuration.read("race.cfg")
            except Outside:
                refused += 1
                continue
            except FileNotFoundError:
                continue
            assert data == inside.read_bytes()
            reads += 1
    finally:
        swapper.kill()
        swapper.wait()
    assert reads >= 200 and refused >= 200  # both sides of the race were met


def test_a_link_to_a_file_inside_is_still_read(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    (directory / "real.cfg").write_bytes(b"[DEFAULT]\n")
    (directory / "inside.cfg").symlink_to("real.cfg")
    (directory / "sub").mkdir()
    (directory / "sub" / "deep.cfg").write_bytes(b"deep\n")
    (directory / "deep.cfg").symlink_to("sub/deep.cfg")
    (directory / "back.cfg").symlink_to(f"../{directory.name}/real.cfg")
    configuration = ConfigurationDirectory(directory)
    assert configuration.read("inside.cfg") == b"[DEFAULT]\n"
    assert configuration.read("deep.cfg") == b"deep\n"
    assert configuration.read("back.cfg") == b"[DEFAULT]\n"


# Control characters in arguments and paths.

CONTROL = "\x1b]0;pwn\x07\x9b31m\x7f\u202e"


def _printable(text: str) -> bool:
    return all(ch == "\n" or ch.isprintable() for ch in text)


@pytest.mark.parametrize(
    "args",
    [
        ["list", CONTROL],
        [CONTROL],
        ["new", CONTROL],
        ["list", "--format", CONTROL],
        ["detail", CONTROL],
        ["resolve", CONTROL],
        ["--hostname", CONTROL],
        ["import", CONTROL],
        ["diff", CONTROL, CONTROL],
        ["tlsverify", CONTROL],
        ["new", "a.example", "--tls", CONTROL],
        ["replay", CONTROL],
    ],
)
def test_arguments_are_escaped_in_every_message(tmp_path: Path, args: list[str]) -> None:
    done = destconfig(tmp_path, *args)
    assert done.returncode in (1, 2)
    assert _printable(done.stdout) and _printable(done.stderr), done


def test_an_unrecognised_argument_is_echoed_escaped(tmp_path: Path) -> None:
    done = destconfig(tmp_path, "list", CONTROL)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(
        "destconfig: list: unrecognized arguments: \\x1b]0;pwn\\x07\\x9b31m\\x7f\\u202e\n"
        "destconfig: try 'destconfig list --help' for more information\n"
    )


@pytest.mark.slow
def test_a_home_path_with_control_characters_is_escaped(tmp_path: Path) -> None:
    home = tmp_path / f"home{CONTROL}"
    home.mkdir()
    (home / "config.toml").write_bytes(b"not = [toml\n")
    for args in (["list"], ["new", "a.example"], []):
        done = destconfig(home, *args, stdin="quit\n")
        assert done.returncode == 2
        assert _printable(done.stderr), done.stderr
        assert "home\\x1b]0;pwn\\x07\\x9b31m\\x7f\\u202e/config.toml" in done.stderr


# Permissions around the home.


def test_under_umask_000_every_directory_made_for_the_home_is_private(tmp_path: Path) -> None:
    home = tmp_path / "a" / "b" / "home"
    done = destconfig(home, "new", "a.example", umask=0)
    assert done.returncode == 0, done.stderr
    for directory in (tmp_path / "a", tmp_path / "a" / "b", home, home / "configuration"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for path in home.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.slow
def test_a_home_others_can_write_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    before = _home_with_entry(home)
    home.chmod(0o777)
    message = (
        f"destconfig: the home {home} is writable by others (mode 0777); "
        "make it private: chmod 700\n"
    )
    for args, stdin in ((("list",), ""), (("new", "b.example"), ""), ((), "quit\n")):
        done = destconfig(home, *args, stdin=stdin)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", message), args
    assert (home / "config.toml").read_bytes() == before


@pytest.mark.slow
def test_a_configuration_others_can_write_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    before = _home_with_entry(home)
    (home / "config.toml").chmod(0o666)
    message = (
        f"destconfig: {home / 'config.toml'} is writable by others (mode 0666); "
        "make it private: chmod 600\n"
    )
    for args, stdin in ((("list",), ""), (("new", "b.example"), ""), ((), "quit\n")):
        done = destconfig(home, *args, stdin=stdin)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", message), args
    assert (home / "config.toml").read_bytes() == before


# What the store writes, it reads back.


def _long_key(number: int) -> str:
    return f"h{number:06d}.{'x' * 60}.{'y' * 60}.{'z' * 60}.example"


@pytest.mark.slow
def test_a_table_whose_file_would_be_too_large_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    entry = Entry(
        tls=Tls.REQUIRED_VERIFY_HOSTED,
        ip_sort_pref=IpSort.PREFER_V4,
        max_messages_per_connection=1000,
        bounce_validation=True,
    )
    big = Table.model_construct(entries={_long_key(n): entry for n in range(MAX_ENTRIES)})
    store = Store(tmp_path)
    store.commit(Table(entries={"a.example": Entry()}), comment="", when=WHEN, keep_rollback=False)
    before = (tmp_path / "config.toml").read_bytes()
    with pytest.raises(TooLarge) as refusal:
        store.commit(big, comment="", when=WHEN, keep_rollback=True)
    assert re.fullmatch(
        rf"the configuration would be \d+ bytes; config\.toml may have at most {MAX_FILE_BYTES}",
        str(refusal.value),
    )
    assert (tmp_path / "config.toml").read_bytes() == before
    assert not (tmp_path / "rollback").exists()
    assert list(tmp_path.rglob("*.tmp")) == []
    assert set(Store(tmp_path).load().entries) == {"a.example"}


@pytest.mark.slow
def test_a_table_of_too_many_entries_is_refused_and_the_largest_allowed_reads_back(
    tmp_path: Path,
) -> None:
    entries = {f"h{n}.example": Entry() for n in range(MAX_ENTRIES)}
    store = Store(tmp_path)
    store.commit(Table(entries=entries), comment="", when=WHEN, keep_rollback=False)
    assert len(Store(tmp_path).load().entries) == MAX_ENTRIES
    entries["one-more.example"] = Entry()
    with pytest.raises(TooLarge) as refusal:
        store.commit(Table(entries=entries), comment="", when=WHEN, keep_rollback=False)
    assert str(refusal.value) == (
        f"the table has {MAX_ENTRIES + 1} entries; a table may have at most {MAX_ENTRIES}"
    )
    assert len(Store(tmp_path).load().entries) == MAX_ENTRIES


@pytest.mark.slow
def test_an_import_merged_past_the_limit_is_refused_by_the_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    entries = {f"h{n}.example": Entry() for n in range(MAX_ENTRIES)}
    Store(home).commit(Table(entries=entries), comment="", when=WHEN, keep_rollback=False)
    before = (home / "config.toml").read_bytes()
    extra = tmp_path / "extra.cfg"
    assert destconfig(tmp_path / "other", "new", "new.example").returncode == 0
    assert destconfig(tmp_path / "other", "export", str(extra)).returncode == 0
    done = destconfig(home, "import", str(extra), "--merge")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"destconfig: nothing was committed: the table has {MAX_ENTRIES + 1} entries; "
        f"a table may have at most {MAX_ENTRIES}\n"
    )
    assert (home / "config.toml").read_bytes() == before


@pytest.mark.slow
def test_import_and_diff_of_a_device_are_refused_unread(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for args, status in ((("import", "/dev/zero"), 1), (("diff", "/dev/zero", "current"), 2)):
        done = destconfig(home, *args, memory=600 << 20)
        assert (done.returncode, done.stdout) == (status, ""), args
        assert done.stderr == "destconfig: cannot read /dev/zero: not a regular file\n"


def test_import_reads_a_pipe_the_user_names(tmp_path: Path) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    assert destconfig(other, "new", "piped.example").returncode == 0
    done = subprocess.run(
        [
            "bash",
            "-c",
            'exec "$0" -m destconfig --home "$1" import <("$0" -m destconfig --home "$2" export -)',
            sys.executable,
            str(home),
            str(other),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert set(Store(home).load().entries) == {"piped.example"}
