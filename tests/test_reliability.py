"""Reliability: commits survive SIGKILL, sessions never lose each other's changes silently,
nothing escapes the configuration directory, and files are private."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destconfig.formats import toml as toml_format
from destconfig.model import Entry, LimitApply, LimitType, Table, Tls
from destconfig.store import Store
from tests.helpers import run_process, run_session

ROOT = Path(__file__).parent.parent
WHEN = datetime(2026, 11, 27, 21, 6, 44, tzinfo=UTC)


def _big_table(tls: Tls, size: int = 600) -> Table:
    entries = {
        f"host{n}.example{n % 7}.com": Entry(
            tls=tls,
            max_host_concurrency=1 + n % 1000,
            limit_type=LimitType.MXIP,
            limit_apply=LimitApply.VG,
        )
        for n in range(size)
    }
    return Table(entries=entries)


def _temporaries(home: Path) -> list[Path]:
    return [path for path in home.rglob("*.tmp")]


KILLS = 200
_REAL_FSYNC = os.fsync


def _slow_fsync(descriptor: int) -> None:
    time.sleep(0.01)
    _REAL_FSYNC(descriptor)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_commit_killed_at_random_moments_leaves_old_or_new(tmp_path: Path) -> None:
    """Children commit large tables in a loop and are SIGKILLed at random moments."""
    tables = [_big_table(Tls.REQUIRED), _big_table(Tls.PREFERRED)]
    known = [toml_format.dumps(table) for table in tables]
    Store(tmp_path).commit(tables[0], comment="", when=WHEN, keep_rollback=False)
    rng = random.Random(20261127)
    kills = mid_write = 0
    for _ in range(KILLS):
        child = os.fork()
        if child == 0:  # the child commits forever, alternating the two tables
            try:
                # Slow the disk down a little so that kills often land mid-write.
                os.fsync = _slow_fsync
                store = Store(tmp_path)
                store.load()
                number = 0
                while True:
                    number += 1
                    store.commit(
                        tables[number % 2], comment="", when=WHEN, keep_rollback=number % 5 == 0
                    )
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        kills += 1
        mid_write += bool(_temporaries(tmp_path))
        data = (tmp_path / "config.toml").read_bytes()
        assert data in known  # the old or the new file, never a mix
        # The next session loads it and sweeps what the killed commit left.
        assert Store(tmp_path).load() in tables
        assert _temporaries(tmp_path) == []
    assert kills == KILLS
    assert mid_write > 0  # some kills did land in the middle of writing a file


def _spawn(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "destconfig", "--home", str(home), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def _read_until(process: subprocess.Popen[bytes], marker: bytes, seen: bytearray) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while marker not in seen:
        assert time.monotonic() < deadline, seen.decode()
        chunk = os.read(process.stdout.fileno(), 65536)
        assert chunk, seen.decode()
        seen.extend(chunk)


def test_a_commit_over_another_sessions_commit_is_refused(tmp_path: Path) -> None:
    first = _spawn(tmp_path)
    assert first.stdin is not None
    seen = bytearray()
    _read_until(first, b"ESA> ", seen)  # the first session has loaded the configuration
    first.stdin.write(b"destconfig\nnew\nfirst.example\nN\nN\nN\nN\nN\nN\nN\n\n")
    first.stdin.flush()
    _read_until(first, b"There is currently 1 entry configured.", seen)
    second = run_process(tmp_path, "new", "second.example")
    assert second.returncode == 0, second.stderr
    out, err = first.communicate(
        b"commit\nmine\nN\n"  # refused: the other session committed first
        b"destconfig\nlist\n\n"  # still pending in this session
        b"clearchanges\nY\n"  # start again from what is committed now
        b"destconfig\nnew\nfirst.example\nN\nN\nN\nN\nN\nN\nN\n\ncommit\nagain\nN\nquit\n",
        timeout=60,
    )
    text = (bytes(seen) + out).decode()
    assert first.returncode == 0, err
    assert (
        "Do you want to save the current configuration for rollback? [Y]> N\n\n"
        "The configuration was committed by another session since this session started.\n"
        "Nothing was committed; your changes are still pending. Use 'clearchanges' to start\n"
        "again from the configuration committed now.\n\nESA> " in text
    )
    assert "\nfirst.example Default  Default Default      Default   Default\n(Default)" in text
    assert text.count("Changes committed: ") == 1
    assert set(Store(tmp_path).load().entries) == {"first.example", "second.example"}


def test_symbolic_links_leading_outside_are_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    outside = tmp_path / "secret.cfg"
    outside.write_bytes(b"[DEFAULT]\n")
    directory = home / "configuration"
    directory.mkdir(parents=True)
    (directory / "escape.cfg").symlink_to(outside)
    (directory / "up").symlink_to(tmp_path)
    (directory / "inside.cfg").symlink_to("real.cfg")
    (directory / "real.cfg").write_bytes((ROOT / "examples" / "destinations.cfg").read_bytes())
    out = run_session(
        home,
        "destconfig\nimport\nescape.cfg\nexport\nescape.cfg\ny\nimport\ninside.cfg\n\n",
    ).stdout
    assert (
        '[]> escape.cfg\nThe file "escape.cfg" cannot be read: it leads outside the '
        "configuration directory.\n" in out
    )
    assert (
        'The file "escape.cfg" could not be written: it leads outside the configuration '
        "directory.\n" in out
    )
    assert "[]> inside.cfg\n\nThere are currently 31 entries configured.\n" in out
    assert outside.read_bytes() == b"[DEFAULT]\n"


def test_home_and_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    answers = (
        "destconfig\nnew\na.example\nN\nN\nN\nN\nN\nN\nN\nexport\nout.cfg\n\n"
        "commit\none\nY\ndestconfig\ndelete\na.example\n\ncommit\ntwo\nY\nquit\n"
    )
    run_session(home, answers)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "configuration").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "rollback").stat().st_mode) == 0o700
    files = [path for path in home.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"config.toml", "commits.log", "out.cfg", ".lock"} <= names
    assert len(list((home / "rollback").glob("*.toml"))) == 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


CONTROL = "\x1b[2J\x1b]0;owned\x07\x08\r\x00\x9b31m"


def _visible(text: str) -> bool:
    return all(ch == "\n" or ch.isprintable() for ch in text)


def test_nothing_typed_or_read_drives_the_terminal(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    bad = f"[DEFAULT]\n{CONTROL}key = {CONTROL}\n[{CONTROL}.example]\ntls = {CONTROL}\n"
    (directory / "bad.cfg").write_text(bad, encoding="utf-8")
    answers = "\n".join(
        [
            f"{CONTROL}command",
            "destconfig",
            f"{CONTROL}op",
            "new",
            f"{CONTROL}.example",
            "",
            "detail",
            f"{CONTROL}",
            "import",
            f"bad{CONTROL}.cfg",  # refused: the question again
            "bad.cfg",
            "new",
            "a.example",
            f"{CONTROL}",
            "N",
            "N",
            "N",
            "N",
            "N",
            "Y",
            "2",
            f"profile{CONTROL}",
            "",
            "",
        ]
    )
    outcome = run_session(tmp_path, answers + "\n")
    assert _visible(outcome.stdout), repr(outcome.stdout)
    assert "\\x1b[2J" in outcome.stdout  # shown, escaped
    assert 'Error in "bad.cfg" line 2: unknown key "\\x1b[2J\\x1b]0;owned' in outcome.stdout
