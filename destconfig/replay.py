"""Transcript replay (spec §10): a recorded session is a regression test.

The shell runs on a fresh temporary home with a fixed clock. Each time it asks
for an answer, the output so far must equal the transcript so far; the answer is
the rest of the transcript's line after the prompt. When the transcript's last
line is a prompt with nothing typed, the replay gives end of input there. The
replay passes when the whole output equals the whole transcript.

Each prompt compares only the output written since the previous one, so a
replay takes time in proportion to the transcript, however many answers it has.

What a replay reads is bounded, since a transcript may come from anyone: it is
a regular file of at most :data:`MAX_TRANSCRIPT_BYTES` of UTF-8 text without
NUL bytes, and its ``NAME.files/`` holds only regular files (each within the
table readers' limit) and directories, found without following symbolic links.
Anything else is refused with a one-line reason before the shell starts.

A transcript speaks the seed release's dialogue unless its name says another:
``releaseNAME-....txt`` (``release13-new.txt``) is replayed with ``--release NAME``.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from destconfig.console import Console, escape
from destconfig.dialogue import release as releases
from destconfig.dialogue.reader import StreamReader
from destconfig.env import Environment
from destconfig.exitstatus import ExitStatus
from destconfig.formats.limits import MAX_FILE_BYTES
from destconfig.safeio import read_descriptor
from destconfig.store import CONFIGURATION_DIR, Store

if TYPE_CHECKING:
    from destconfig.tlsverify.options import Network

FIXED_TIME = datetime(2026, 11, 27, 21, 6, 44, tzinfo=UTC)
TIMESTAMP = "TIMESTAMP"
_STAMPED = re.compile(r"(Changes (?:committed|cleared): )(.*)")
_TIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \d{4} \S+")
FILES_SUFFIX = ".files"
MAX_TRANSCRIPT_BYTES = 16 * 1024 * 1024
MAX_FILES_DEPTH = 8  # directories below NAME.files/ (IMPORT reads only its top level)
# Opening never waits for a FIFO's writer nor takes a terminal as the controlling one.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class ReplayError(Exception):
    """A transcript, or a file beside it, that the replay refuses; the message says why."""


def failure_reason(error: Exception) -> str:
    """The reason on a FAIL line: the system's message, else the error's text or kind.

    Some errors carry no system message (``strerror`` is ``None``), and some no
    text at all; the line must still say something.
    """
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


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
    """Takes each answer from the transcript at the point where the shell asks.

    The output is append-only, so the lines already compared stay equal: each
    call compares only what was written since the previous one. Comparing all
    of it again at every prompt made a replay quadratic in its length.
    """

    def __init__(self, transcript: str, output: io.StringIO) -> None:
        self._lines = transcript.split("\n")
        self._output = output
        self._taken = 0  # position in the output up to which it was compared
        self._line = 0  # index of the output line being written: those before it match
        self._tail = ""  # what the output holds of that line so far
        # The last line with text: after it, an empty answer is end of input.
        self._last = next(
            (index for index in range(len(self._lines) - 1, -1, -1) if self._lines[index]), -1
        )

    def _new_output(self) -> str:
        self._output.seek(self._taken)
        new = self._output.read()
        self._taken = self._output.tell()  # and the stream is at its end again
        return new

    def __call__(self) -> str | None:
        *complete, partial = (self._tail + self._new_output()).split("\n")
        for line in complete:
            self._check(line)
        number = self._line + 1
        if self._line >= len(self._lines):
            raise _Mismatch(Difference(number, None, partial))
        want = self._lines[self._line]
        if not want.startswith(partial):
            raise _Mismatch(Difference(number, want, partial))
        self._tail = partial
        answer = want[len(partial) :]
        if answer == "" and self._line >= self._last:
            return None  # a final prompt with nothing typed: end of input
        return answer

    def finish(self) -> Difference | None:
        """After the session: the rest of the output, every line finished, ends the transcript."""
        try:
            for line in (self._tail + self._new_output()).split("\n"):
                self._check(line)
        except _Mismatch as mismatch:
            return mismatch.difference
        if self._line < len(self._lines):
            return Difference(self._line + 1, self._lines[self._line], None)
        return None

    def _check(self, line: str) -> None:
        """Compare one finished output line with the transcript's next line."""
        number = self._line + 1
        if self._line >= len(self._lines):
            raise _Mismatch(Difference(number, None, line))
        if not lines_match(self._lines[self._line], line):
            raise _Mismatch(Difference(number, self._lines[self._line], line))
        self._line += 1


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
    release: str | None = None,
) -> Difference | None:
    """Replay one transcript (in *release*'s dialogue; ``None``: the seed's); ``None``
    when it passes.

    *files*, a transcript's ``NAME.files/``, is copied into the temporary home's
    ``configuration/`` first (see :func:`copy_files`); :class:`ReplayError` when
    it holds something other than regular files and directories.
    """
    from destconfig.shell import host
    from destconfig.shell.options import ShellOptions
    from destconfig.shell.session import Session

    transcript = substitute(transcript, values or {})

    home = Path(tempfile.mkdtemp(prefix="destconfig-replay-"))
    try:
        store = Store(home)
        store.prepare()
        if files is not None:
            copy_files(files, home / CONFIGURATION_DIR)
        output = io.StringIO()
        env = Environment(
            stdin=io.BytesIO(),
            stdout=output,
            stderr=io.StringIO(),
            home=home,
            clock=lambda: FIXED_TIME,
            network=network,
        )
        console = Console(output)
        answers = _Answers(transcript, output)
        reader = StreamReader(answers, console)
        session = Session(
            env,
            ShellOptions(ca_file=ca_file, release=release),
            store=store,
            committed=store.load(),
            console=console,
            reader=reader,
        )
        try:
            host.run(session)
        except _Mismatch as mismatch:
            return mismatch.difference
        return answers.finish()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def files_for(transcript: Path) -> Path:
    """The directory of files placed in ``configuration/`` before a transcript's replay."""
    return transcript.with_name(transcript.name.removesuffix(".txt") + FILES_SUFFIX)


def release_of(transcript: Path) -> str | None:
    """The release a transcript's name gives (``release13-new.txt``: ``13``), else ``None``."""
    for name in releases.NAMES:
        if name != releases.SEED and transcript.name.startswith(f"release{name}-"):
            return name
    return None


def replay_file(
    path: Path, *, values: Mapping[str, str] | None = None, ca_file: Path | None = None
) -> Difference | None:
    """Replay the transcript at *path* with its ``NAME.files/``, in its name's release.

    :class:`ReplayError` (or :class:`OSError`) when either cannot be used.
    """
    text = read_transcript(path)
    return replay_text(
        text, files_for(path), values=values, ca_file=ca_file, release=release_of(path)
    )


def read_transcript(path: Path) -> str:
    """The text of the transcript at *path* (a symbolic link to a regular file is followed).

    A FIFO could block the replay and a device might never end, so anything but
    a regular file is refused before it is opened, and checked again once open
    (it may have been replaced in between). At most one byte past the limit is
    read, whatever the file claims its size is.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ReplayError(f"not a regular file ({_kind(mode)})")
    limit = MAX_TRANSCRIPT_BYTES
    descriptor = os.open(path, _OPEN_FLAGS)
    data = _read_limited(
        descriptor,
        limit,
        not_regular="not a regular file ({})",
        too_large=f"the transcript is larger than {limit} bytes",
    )
    return transcript_text(data)


def transcript_text(data: bytes) -> str:
    """A transcript's bytes as text; :class:`ReplayError` naming the line of the first bad byte.

    The comparison is of text, so bytes that are not UTF-8 cannot be compared
    (read leniently, they would match whatever the shell echoes for them); a
    NUL byte is no part of any session. An empty file is no transcript at all:
    every session starts with a prompt.
    """
    if not data:
        raise ReplayError("the transcript is empty")
    bad: int | None = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = error.start
    nul = data.find(b"\0")
    if nul >= 0 and (bad is None or nul < bad):
        raise ReplayError(f"line {_line_of(data, nul)} of the transcript contains a NUL byte")
    if bad is not None:
        raise ReplayError(f"line {_line_of(data, bad)} of the transcript is not valid UTF-8 text")
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISREG, "a regular file"),
)


def _kind(mode: int) -> str:
    """What a file is, for a message."""
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def copy_files(files: Path, target: Path) -> None:
    """Copy a transcript's ``NAME.files/`` into *target* (the temporary ``configuration/``).

    Only regular files and directories are copied, each found and opened without
    following symbolic links: a link could bring in a file from outside, which an
    IMPORT in the transcript would then print, or a device that never ends. Each
    file is bounded by the table readers' limit. Anything else is refused with a
    :class:`ReplayError` naming it, and nothing of it is read. No ``NAME.files``
    at all is no files.
    """
    try:
        mode = os.lstat(files).st_mode
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENAMETOOLONG):  # none, or none possible
            return
        raise
    if not stat.S_ISDIR(mode):
        raise ReplayError(f"{_shown(files)}: not a directory ({_kind(mode)})")
    descriptor = _open_directory(str(files), None, files)
    try:
        _copy_directory(descriptor, files, target, 0)
    finally:
        os.close(descriptor)


def _shown(path: Path) -> str:
    return escape(str(path))


def _open_directory(name: str, parent: int | None, path: Path) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as error:  # replaced since it was looked at
        raise ReplayError(f"{_shown(path)}: {failure_reason(error)}") from None


def _copy_directory(source: int, path: Path, target: Path, depth: int) -> None:
    """Copy the directory open as *source* (shown as *path*) into the existing *target*."""
    try:
        names = sorted(os.listdir(source))
    except OSError as error:
        raise ReplayError(f"{_shown(path)}: {failure_reason(error)}") from None
    for name in names:
        entry = path / name
        try:
            mode = os.stat(name, dir_fd=source, follow_symlinks=False).st_mode
            if stat.S_ISREG(mode):
                (target / name).write_bytes(_read_file(source, name, entry))
            elif stat.S_ISDIR(mode):
                if depth == MAX_FILES_DEPTH:
                    raise ReplayError(
                        f"{_shown(entry)}: directories nested more than {MAX_FILES_DEPTH} deep"
                    )
                child = _open_directory(name, source, entry)
                try:
                    (target / name).mkdir(mode=0o700)
                    _copy_directory(child, entry, target / name, depth + 1)
                finally:
                    os.close(child)
            else:
                raise ReplayError(
                    f"{_shown(entry)}: not a regular file or directory ({_kind(mode)})"
                )
        except OSError as error:
            raise ReplayError(f"{_shown(entry)}: {failure_reason(error)}") from None


def _read_file(directory: int, name: str, path: Path) -> bytes:
    """The bytes of the regular file *name* in *directory*, opened without following a link."""
    descriptor = os.open(name, _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=directory)
    return _read_limited(
        descriptor,
        MAX_FILE_BYTES,
        not_regular=f"{_shown(path)}: not a regular file or directory ({{}})",
        too_large=f"{_shown(path)}: larger than {MAX_FILE_BYTES} bytes",
    )


def _read_limited(descriptor: int, limit: int, *, not_regular: str, too_large: str) -> bytes:
    """The bytes behind *descriptor* (closed here), refused with *not_regular* (its ``{}``
    the file's kind) unless a regular file, and with *too_large* past *limit*."""
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):  # replaced since it was looked at
            raise ReplayError(not_regular.format(_kind(info.st_mode)))
        data = b"" if info.st_size > limit else read_descriptor(descriptor, limit)
    finally:
        os.close(descriptor)
    if info.st_size > limit or len(data) > limit:
        raise ReplayError(too_large)
    return data


def replay_files(
    paths: Iterable[Path],
    out: TextIO,
    *,
    values: Mapping[str, str] | None = None,
    ca_file: Path | None = None,
) -> int:
    """``destconfig replay``: PASS or FAIL per file; 0 when all pass, 1 otherwise.

    A transcript that cannot be replayed is one FAIL line with the reason, and
    the others are still replayed.
    """
    status = ExitStatus.OK
    for path in paths:
        name = escape(str(path))
        try:
            difference = replay_file(path, values=values, ca_file=ca_file)
        except (OSError, ReplayError) as error:
            out.write(f"FAIL {name}: {failure_reason(error)}\n")
            status = ExitStatus.FAILED
            continue
        if difference is None:
            out.write(f"PASS {name}\n")
        else:
            out.write(f"FAIL {name} {difference.describe()}\n")
            status = ExitStatus.FAILED
    return status
