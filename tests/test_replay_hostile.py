"""``destconfig replay`` on hostile input: special files, huge files, links, bad text.

Each refusal is one FAIL line with its reason and exit status 1: no traceback, no
hang, no unbounded read, and nothing outside a transcript's ``NAME.files/`` read.
The cases that could read without end run in a child process with a time limit
and limits on memory and file size, so that a regression fails instead of
filling the machine.
"""

from __future__ import annotations

import io
import os
import resource
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from destconfig import replay
from destconfig.formats.limits import MAX_FILE_BYTES
from destconfig.replay import replay_files
from tests.test_replay import MENU

ROOT = Path(__file__).parent.parent
QUIT = "ESA> quit\n"  # a transcript that passes
UNKNOWN = "ESA> frobnicate\n\nUnknown command or missing feature key: frobnicate\n\nESA> \n"
TABLE = (
    b"[DEFAULT]\n"
    b"ip_sort_pref = PREFER_V4\n"
    b"max_host_concurrency = 100\n"
    b"max_messages_per_connection = 10\n"
    b"limit_type = host\n"
    b"limit_apply = system\n"
    b"bounce_validation = 0\n"
    b"tls = 2\n"
    b"\n"
    b"[one.example]\n"
    b"tls = 4\n"
)


def importing(name: str) -> str:
    """A transcript that imports the one-entry :data:`TABLE` from the file *name*."""
    return (
        "ESA> destconfig\n"
        "\n" + MENU + "[]> import\n"
        "\n"
        "Enter the name of the file to import.\n"
        f"[]> {name}\n"
        "\n"
        "There is currently 1 entry configured.\n"
        "\n" + MENU + "[]> \n"
        "\n"
        "ESA> \n"
    )


A_LINK = "not a regular file or directory (a symbolic link)"
TRANSCRIPT_LIMIT = 16 * 1024 * 1024  # bytes
FILES_DEPTH = 8  # directories below NAME.files/
CHILD_MEMORY = 2 << 30
CHILD_FILE_SIZE = 256 << 20


def _child_limits() -> None:
    """In the child: reading or copying without end fails instead of filling memory or disk."""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    resource.setrlimit(resource.RLIMIT_FSIZE, (CHILD_FILE_SIZE, CHILD_FILE_SIZE))


def replay_command(tmp_path: Path, *paths: Path | str) -> subprocess.CompletedProcess[bytes]:
    """``destconfig replay PATHS`` in a child whose temporary files live in *tmp_path*."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "destconfig", "replay", *map(str, paths)],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        timeout=30,
        preexec_fn=_child_limits,
    )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory the replay's temporary homes are made in (inside *tmp_path*)."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def replayed(*paths: Path) -> tuple[int, str]:
    out = io.StringIO()
    status = replay_files(list(paths), out)
    return status, out.getvalue()


def make_socket(path: Path) -> None:
    """A Unix socket at *path* (bound from its directory: socket paths are short)."""
    before = Path.cwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as bound:
            bound.bind(path.name)
    finally:
        os.chdir(before)


def transcript_with_files(tmp_path: Path, text: str = QUIT) -> tuple[Path, Path]:
    """``t.txt`` and its (new, empty) ``t.files/`` directory."""
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    files = tmp_path / "t.files"
    files.mkdir()
    return path, files


# --- the transcript itself: what it is and how large ----------------------------------------


def test_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    result = replay_command(tmp_path, "/dev/zero")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        b"FAIL /dev/zero: not a regular file (a character device)\n",
        b"",
    )
    assert list((tmp_path / "scratch").iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("a FIFO", lambda path: os.mkfifo(path)),
        ("a directory", lambda path: path.mkdir()),
        ("a character device", lambda path: path.symlink_to("/dev/zero")),
    ],
    ids=["fifo", "directory", "link-to-dev-zero"],
)
def test_a_transcript_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, kind: str, make: Callable[[Path], object]
) -> None:
    path = tmp_path / "special.txt"
    make(path)
    result = replay_command(tmp_path, path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"FAIL {path}: not a regular file ({kind})\n".encode(),
        b"",
    )
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_socket_as_the_transcript_is_refused(tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "s.txt"
    make_socket(path)
    assert replayed(path) == (1, f"FAIL {path}: not a regular file (a socket)\n")
    assert list(scratch.iterdir()) == []


def test_a_transcript_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as stream:
        stream.truncate(TRANSCRIPT_LIMIT + 1)  # sparse: no disk used
    result = replay_command(tmp_path, path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"FAIL {path}: the transcript is larger than {TRANSCRIPT_LIMIT} bytes\n".encode(),
        b"",
    )


def test_the_size_limit_is_counted_in_bytes_read(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transcript of exactly the limit is replayed; one byte more is refused."""
    assert replay.MAX_TRANSCRIPT_BYTES == TRANSCRIPT_LIMIT
    path = tmp_path / "u.txt"
    path.write_text(UNKNOWN, encoding="utf-8")
    size = len(UNKNOWN.encode())
    monkeypatch.setattr(replay, "MAX_TRANSCRIPT_BYTES", size)
    assert replayed(path) == (0, f"PASS {path}\n")
    monkeypatch.setattr(replay, "MAX_TRANSCRIPT_BYTES", size - 1)
    assert replayed(path) == (1, f"FAIL {path}: the transcript is larger than {size - 1} bytes\n")


# --- the transcript's text ----------------------------------------------------------------


def test_an_empty_transcript_says_so(tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert replayed(path) == (1, f"FAIL {path}: the transcript is empty\n")


def test_a_transcript_that_is_not_utf8_says_where(tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "latin1.txt"
    # The same bytes decoded leniently would replay and pass.
    path.write_bytes(UNKNOWN.replace("frobnicate", "caf\xe9").encode("latin-1"))
    assert replayed(path) == (
        1,
        f"FAIL {path}: line 1 of the transcript is not valid UTF-8 text\n",
    )
    later = tmp_path / "later.txt"
    later.write_bytes(b"ESA> \n\nESA> \xff\n")
    assert replayed(later) == (
        1,
        f"FAIL {later}: line 3 of the transcript is not valid UTF-8 text\n",
    )


def test_a_transcript_with_a_nul_byte_says_where(tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes(b"ESA> \n\nESA> destconfig\x00\n")
    assert replayed(path) == (1, f"FAIL {path}: line 3 of the transcript contains a NUL byte\n")


def test_nul_bytes_and_bad_text_do_not_stop_the_other_transcripts(
    tmp_path: Path, scratch: Path
) -> None:
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"\x00")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xc3")
    good = tmp_path / "good.txt"
    good.write_text(UNKNOWN, encoding="utf-8")
    assert replayed(nul, bad, good) == (
        1,
        f"FAIL {nul}: line 1 of the transcript contains a NUL byte\n"
        f"FAIL {bad}: line 1 of the transcript is not valid UTF-8 text\n"
        f"PASS {good}\n",
    )


def test_a_failure_without_a_system_message_still_has_a_reason() -> None:
    reason = replay.failure_reason
    assert reason(FileNotFoundError(2, "No such file or directory")) == "No such file or directory"
    assert reason(OSError("the disk went away")) == "the disk went away"
    assert reason(OSError()) == "OSError"
    assert reason(replay.ReplayError("the transcript is empty")) == "the transcript is empty"


# --- NAME.files/: only regular files (and directories) are copied ----------------------------


def test_a_link_to_dev_zero_in_the_files_is_refused(tmp_path: Path) -> None:
    path, files = transcript_with_files(tmp_path)
    (files / "zero.cfg").symlink_to("/dev/zero")
    result = replay_command(tmp_path, path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"FAIL {path}: {files}/zero.cfg: {A_LINK}\n".encode(),
        b"",
    )
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_link_to_an_outside_fifo_in_the_files_is_refused(tmp_path: Path) -> None:
    """The link is not followed: the FIFO, which would block an open, is never opened."""
    path, files = transcript_with_files(tmp_path)
    os.mkfifo(tmp_path / "outside")
    (files / "pipe.cfg").symlink_to(tmp_path / "outside")
    result = replay_command(tmp_path, path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"FAIL {path}: {files}/pipe.cfg: {A_LINK}\n".encode(),
        b"",
    )


def test_a_link_to_an_outside_table_is_not_imported(tmp_path: Path, scratch: Path) -> None:
    """The transcript expects the outside table's entry; the link is refused before."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.cfg").write_bytes(TABLE)
    path, files = transcript_with_files(tmp_path, importing("secret.cfg"))
    (files / "secret.cfg").symlink_to(tmp_path / "outside" / "secret.cfg")
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/secret.cfg: {A_LINK}\n",
    )
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "target"),
    [("outside", "outside"), ("dangling.cfg", "nothing"), ("inside.cfg", "t.files/plain.cfg")],
    ids=["directory", "dangling", "inside"],
)
def test_a_link_in_the_files_is_refused(
    tmp_path: Path, scratch: Path, name: str, target: str
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.cfg").write_bytes(TABLE)
    path, files = transcript_with_files(tmp_path)
    (files / "plain.cfg").write_bytes(TABLE)
    (files / name).symlink_to(tmp_path / target)
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/{name}: {A_LINK}\n",
    )
    assert list(scratch.iterdir()) == []


def test_a_link_deeper_in_the_files_is_refused(tmp_path: Path, scratch: Path) -> None:
    path, files = transcript_with_files(tmp_path)
    (files / "sub" / "deeper").mkdir(parents=True)
    (files / "sub" / "deeper" / "README").write_bytes(b"kept\n")
    (files / "sub" / "deeper" / "passwd").symlink_to("/etc/passwd")
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/sub/deeper/passwd: {A_LINK}\n",
    )


def test_the_files_directory_itself_may_not_be_a_link(tmp_path: Path, scratch: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.cfg").write_bytes(TABLE)
    path = tmp_path / "t.txt"
    path.write_text(QUIT, encoding="utf-8")
    (tmp_path / "t.files").symlink_to(tmp_path / "outside")
    assert replayed(path) == (
        1,
        f"FAIL {path}: {tmp_path}/t.files: not a directory (a symbolic link)\n",
    )


def test_the_files_directory_may_not_be_a_file(tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(QUIT, encoding="utf-8")
    (tmp_path / "t.files").write_bytes(TABLE)
    assert replayed(path) == (
        1,
        f"FAIL {path}: {tmp_path}/t.files: not a directory (a regular file)\n",
    )


def test_a_fifo_in_the_files_is_refused(tmp_path: Path, scratch: Path) -> None:
    path, files = transcript_with_files(tmp_path)
    os.mkfifo(files / "pipe.cfg")
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/pipe.cfg: not a regular file or directory (a FIFO)\n",
    )
    assert list(scratch.iterdir()) == []


def test_a_socket_in_the_files_is_refused(tmp_path: Path, scratch: Path) -> None:
    path, files = transcript_with_files(tmp_path)
    make_socket(files / "sock.cfg")
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/sock.cfg: not a regular file or directory (a socket)\n",
    )


def test_a_file_over_the_table_limit_in_the_files_is_refused(tmp_path: Path, scratch: Path) -> None:
    path, files = transcript_with_files(tmp_path)
    with (files / "huge.cfg").open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    assert replayed(path) == (
        1,
        f"FAIL {path}: {files}/huge.cfg: larger than {MAX_FILE_BYTES} bytes\n",
    )
    assert list(scratch.iterdir()) == []


def test_directories_nested_too_deeply_in_the_files_are_refused(
    tmp_path: Path, scratch: Path
) -> None:
    path, files = transcript_with_files(tmp_path)
    depth = FILES_DEPTH
    files.joinpath(*["d"] * (depth + 1)).mkdir(parents=True)
    allowed = files.joinpath(*["d"] * depth)
    assert replayed(path) == (
        1,
        f"FAIL {path}: {allowed}/d: directories nested more than {depth} deep\n",
    )


def test_a_transcript_whose_files_directory_cannot_exist_has_none(
    tmp_path: Path, scratch: Path
) -> None:
    """At the longest file name, ``NAME.files`` would be too long a name: there are no files."""
    path = tmp_path / ("x" * 251 + ".txt")
    path.write_text(QUIT, encoding="utf-8")
    assert replayed(path) == (0, f"PASS {path}\n")


def test_regular_files_and_directories_are_copied(tmp_path: Path, scratch: Path) -> None:
    """The shell sees the copies: a directory is not a table, a file beside it is."""
    text = importing("table.cfg").replace(
        "[]> import\n",
        "[]> import\n"
        "\n"
        "Enter the name of the file to import.\n"
        "[]> sub\n"
        'The file "sub" cannot be read: not a regular file.\n'
        "\n" + MENU + "[]> import\n",
        1,
    )
    path, files = transcript_with_files(tmp_path, text)
    (files / "sub" / "deeper").mkdir(parents=True)
    (files / "sub" / "deeper" / "README").write_bytes(b"kept\n")
    (files / "table.cfg").write_bytes(TABLE)
    assert replayed(path) == (0, f"PASS {path}\n")
    assert list(scratch.iterdir()) == []
