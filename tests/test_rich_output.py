"""What the one-shot commands draw at a terminal, and that nothing else changes.

At a terminal that takes colour (standard output for output, standard error for
errors and the progress bar) ``diff`` is coloured, ``resolve --format table`` and
``tlsverify --all-settings`` are drawn tables, errors have a highlighted prefix and a
long import or export shows a progress bar. With ``NO_COLOR`` (or ``TERM=dumb``), and
wherever a stream is not a terminal, the bytes are exactly the plain renderers'.

The in-process tests flag in-memory streams as terminals (:class:`Environment`); the
last ones run the program in a real pseudo-terminal and through real pipes.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from destconfig.cli import main
from destconfig.env import Environment
from destconfig.model import Entry, Table, Tls
from destconfig.replay import FIXED_TIME
from destconfig.store import Store, format_time
from destconfig.tlsverify.options import Network
from tests.helpers import Result, run_cli
from tests.tlsservers import Pki, loopback_network, smtp_server

ROOT = Path(__file__).parent.parent
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and weight
COMMITTED = f"Changes committed: {format_time(FIXED_TIME)}\n"

A_TABLE = """\
[entries]
"example.com" = { tls = "REQUIRED" }
"old.example" = {}
"""
B_TABLE = """\
[entries]
"example.com" = { tls = "PREFERRED" }
"new.example" = {}
"""
PLAIN_DIFF = """\
--- a.toml
+++ b.toml
- old.example
+ new.example
~ example.com
    tls: REQUIRED -> PREFERRED
"""


def run(
    home: Path,
    *args: str,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    plain: bool = False,
    network: Network | None = None,
    one_stream: bool = False,
) -> Result:
    """``destconfig --home HOME ARGS`` in this process, its streams flagged as terminals as
    asked; with *one_stream*, standard output and error are one (as at a terminal)."""
    out = io.StringIO()
    err = out if one_stream else io.StringIO()
    env = Environment(
        stdin=io.BytesIO(),
        stdout=out,
        stderr=err,
        stdout_isatty=stdout_tty,
        stderr_isatty=stderr_tty,
        plain=plain,
        columns=100,
        clock=lambda: FIXED_TIME,
        network=network,
    )
    status = main(["--home", str(home), *args], env)
    return Result(int(status), out.getvalue(), "" if one_stream else err.getvalue())


def at_terminal(home: Path, *args: str, **kwargs: object) -> Result:
    return run(home, *args, stdout_tty=True, stderr_tty=True, **kwargs)  # type: ignore[arg-type]


# Where the plain bytes are due: NO_COLOR at a terminal, and no terminal at all.
NOT_STYLED = [
    pytest.param({"stdout_tty": True, "stderr_tty": True, "plain": True}, id="NO_COLOR"),
    pytest.param({"stdout_tty": False, "stderr_tty": False}, id="piped"),
]


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    (tmp_path / "a.toml").write_text(A_TABLE)
    (tmp_path / "b.toml").write_text(B_TABLE)
    return tmp_path


# --- diff ----------------------------------------------------------------------------------


def test_diff_at_a_terminal_is_coloured(tables: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tables)
    result = at_terminal(tables / "home", "diff", "a.toml", "b.toml")
    assert result.status == 1
    assert "\x1b[31m- old.example\x1b[0m\n" in result.out  # removed: red
    assert "\x1b[32m+ new.example\x1b[0m\n" in result.out  # added: green
    assert "\x1b[1;33m~ example.com\x1b[0m\n" in result.out  # changed: yellow
    assert "\x1b[33m    tls: REQUIRED -> PREFERRED\x1b[0m\n" in result.out
    assert SGR.sub("", result.out) == PLAIN_DIFF  # the same characters, only coloured


@pytest.mark.parametrize("streams", NOT_STYLED)
def test_diff_without_colour_is_the_plain_text(
    tables: Path, monkeypatch: pytest.MonkeyPatch, streams: dict[str, bool]
) -> None:
    monkeypatch.chdir(tables)
    result = run(tables / "home", "diff", "a.toml", "b.toml", **streams)
    assert result == Result(1, PLAIN_DIFF, "")
    assert result == run_cli(tables / "home", "diff", "a.toml", "b.toml")


def test_diff_colour_follows_standard_output_only(
    tables: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tables)
    piped_out = run(tables / "home", "diff", "a.toml", "b.toml", stderr_tty=True)
    assert piped_out == Result(1, PLAIN_DIFF, "")
    shown = run(tables / "home", "diff", "a.toml", "b.toml", stdout_tty=True)
    assert "\x1b[" in shown.out


# --- resolve --format table -----------------------------------------------------------------


def _resolve_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    store = Store(home)
    store.prepare()
    table = Table().with_entry("example.com", Entry(tls=Tls.REQUIRED))
    store.commit(table, comment="", when=FIXED_TIME, keep_rollback=False)
    return home


RECIPIENTS = ("user@example.com", "x@other.example")


def test_resolve_table_at_a_terminal_is_drawn(tmp_path: Path) -> None:
    home = _resolve_home(tmp_path)
    result = at_terminal(home, "resolve", *RECIPIENTS, "--format", "table")
    assert (result.status, result.err) == (0, "")
    assert result.out.endswith("\n")
    lines = result.out.split("\n")
    assert "\x1b[1mRECIPIENT" in lines[0]  # the head in bold
    assert set(lines[1].strip()) == {"─"}  # drawn under the head
    cells = [SGR.sub("", line).split() for line in lines[2:-1]]
    assert cells == [
        ["user@example.com", "example.com", "example.com", "exact", "Required"],
        ["x@other.example", "other.example", "(Default)", "default", "No"],
    ]


@pytest.mark.parametrize("streams", NOT_STYLED)
def test_resolve_table_without_colour_is_the_plain_table(
    tmp_path: Path, streams: dict[str, bool]
) -> None:
    home = _resolve_home(tmp_path)
    plain = run_cli(home, "resolve", *RECIPIENTS, "--format", "table")
    result = run(home, "resolve", *RECIPIENTS, "--format", "table", **streams)
    assert result == plain
    assert result.out == (
        "RECIPIENT        DOMAIN        ENTRY       MATCH   TLS\n"
        "user@example.com example.com   example.com exact   Required\n"
        "x@other.example  other.example (Default)   default No\n"
    )


# --- tlsverify --all-settings ---------------------------------------------------------------

DOMAIN, MX = "example.test", "mx1.example.test"


@pytest.mark.usefixtures("loopback_only")
def test_tlsverify_settings_at_a_terminal_are_a_drawn_table(pki: Pki, tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    store.prepare()
    table = Table().with_entry(DOMAIN, Entry(tls=Tls.REQUIRED_VERIFY))
    store.commit(table, comment="", when=FIXED_TIME, keep_rollback=False)
    argv = ("tlsverify", DOMAIN, "--ca-file", str(pki.ca_file), "--timeout", "2", "--all-settings")
    network = loopback_network(MX)
    with smtp_server(pki.issue("*.example.test")) as port:
        target = f"{MX}:{port}"
        plain = run_cli(home, *argv[:2], target, *argv[2:], network=network)
        drawn = at_terminal(home, *argv[:2], target, *argv[2:], network=network)
        no_color = at_terminal(home, *argv[:2], target, *argv[2:], network=network, plain=True)
    assert no_color == plain  # NO_COLOR: the plain bytes
    log_and_verdict, plain_table = plain.out.rsplit("\n\n", 1)
    assert plain_table.startswith("  TLS setting")
    head, drawn_table = drawn.out.rsplit("\n\n", 1)
    assert head == log_and_verdict  # only the table is drawn
    assert (drawn.status, drawn.err) == (plain.status, "")
    rows = drawn_table.split("\n")
    assert "\x1b[1m" in rows[0] and "TLS setting" in rows[0]
    governing = next(row for row in rows if SGR.sub("", row).startswith("*"))
    assert "Required - Verify " in SGR.sub("", governing)
    assert "\x1b[1;31m" in governing  # governing and not delivered: bold red
    no_tls = next(row for row in rows if SGR.sub("", row).split()[:1] == ["No"])
    assert "\x1b[32m" in no_tls  # delivered in clear: green


# --- errors ---------------------------------------------------------------------------------

EXISTS = 'An entry for "example.com" already exists.\n'


def test_an_error_at_a_terminal_has_a_highlighted_prefix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "new", "example.com").status == 0
    result = run(home, "new", "example.com", stderr_tty=True)
    assert result == Result(1, "", "\x1b[1;31mdestconfig:\x1b[0m " + EXISTS)


def test_a_usage_error_at_a_terminal_has_a_highlighted_prefix(tmp_path: Path) -> None:
    result = run(tmp_path / "home", "list", "--bogus", stderr_tty=True)
    assert result.status == 2
    assert result.err.startswith("\x1b[1;31mdestconfig:\x1b[0m list: unrecognized arguments")
    assert SGR.sub("", result.err) == run_cli(tmp_path / "home", "list", "--bogus").err


@pytest.mark.parametrize(
    "streams",
    [
        *NOT_STYLED,
        pytest.param({"stdout_tty": True, "stderr_tty": False}, id="only-stdout-a-terminal"),
    ],
)
def test_an_error_without_colour_is_plain(tmp_path: Path, streams: dict[str, bool]) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "new", "example.com").status == 0
    assert run(home, "new", "example.com", **streams) == Result(1, "", "destconfig: " + EXISTS)


# --- the progress bar ------------------------------------------------------------------------

HIDE_CURSOR, SHOW_CURSOR, ERASE_LINE = "\x1b[?25l", "\x1b[?25h", "\x1b[2K"
LARGE = 8 * 1024 * 1024  # commands/files.py: LARGE_FILE


def _large_file(tmp_path: Path, *, valid: bool = True) -> Path:
    """A TOML table file past the size that shows the bar (a long comment: quick to read)."""
    path = tmp_path / "large.toml"
    entry = '"example.org" = {}' if valid else '"example.org" = { tls = "SOMETIMES" }'
    path.write_text("# " + "x" * LARGE + "\n[entries]\n" + entry + "\n")
    return path


def test_a_large_import_at_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    large = _large_file(tmp_path)
    result = run(tmp_path / "home", "import", str(large), stderr_tty=True)
    assert (result.status, result.out) == (0, COMMITTED)
    assert result.err.startswith(HIDE_CURSOR)
    assert f"reading {large}" in result.err and "committing" in result.err
    assert "1/2" in result.err
    assert SHOW_CURSOR in result.err and result.err.endswith(ERASE_LINE)  # and gone


def test_the_progress_bar_is_gone_before_a_line_is_written(tmp_path: Path) -> None:
    """At a terminal both streams are one screen: the line comes after the bar's erasure."""
    large = _large_file(tmp_path)
    result = at_terminal(tmp_path / "home", "import", str(large), one_stream=True)
    assert result.out.startswith(HIDE_CURSOR)
    assert result.out.endswith(ERASE_LINE + COMMITTED)
    failed = at_terminal(
        tmp_path / "home", "import", str(_large_file(tmp_path, valid=False)), one_stream=True
    )
    assert failed.status == 1
    bar, message = failed.out.rsplit(ERASE_LINE, 1)
    assert bar.startswith(HIDE_CURSOR)
    assert message.startswith("\x1b[1;31mdestconfig:\x1b[0m ")
    assert "The table was not changed." in message


@pytest.mark.parametrize("streams", NOT_STYLED)
def test_no_progress_bar_without_a_terminal_or_with_no_color(
    tmp_path: Path, streams: dict[str, bool]
) -> None:
    large = _large_file(tmp_path)
    assert run(tmp_path / "home", "import", str(large), **streams) == Result(0, COMMITTED, "")


def test_no_progress_bar_for_a_small_import(tmp_path: Path) -> None:
    small = tmp_path / "small.toml"
    small.write_text(A_TABLE)
    assert at_terminal(tmp_path / "home", "import", str(small)) == Result(0, COMMITTED, "")


def _many_entries(home: Path, count: int) -> None:
    home.mkdir()
    lines = ["[entries]", *(f'"h{number}.example" = {{}}' for number in range(count))]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.mark.slow  # a table of 50,000 entries, read and written twice
def test_a_large_export_at_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _many_entries(home, 50_000)
    target = tmp_path / "out.toml"
    result = run(home, "export", str(target), stderr_tty=True)
    assert (result.status, result.out) == (0, "")
    assert result.err.startswith(HIDE_CURSOR)
    assert "formatting" in result.err and f"writing {target}" in result.err
    assert result.err.endswith(ERASE_LINE)
    plain = run(home, "export", "-", "--format", "toml", stderr_tty=False)
    assert plain.err == ""
    assert plain.out == target.read_text()


# --- how the terminal is known -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "plain"),
    [
        ({"NO_COLOR": "1"}, True),
        ({"NO_COLOR": "0"}, True),  # any non-empty value
        ({"NO_COLOR": ""}, False),
        ({"TERM": "dumb"}, True),
        ({"TERM": "xterm"}, False),
    ],
)
def test_the_process_environment_says_whether_a_terminal_takes_colour(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], plain: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    env = Environment.from_process()
    assert env.plain is plain
    flagged = Environment(
        stdin=io.BytesIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdout_isatty=True,
        stderr_isatty=True,
        plain=plain,
    )
    assert (flagged.color, flagged.stderr_color) == (not plain, not plain)


# --- real terminals and real pipes ------------------------------------------------------------


def _spawn_env(**extra: str) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NO_COLOR", "DESTCONFIG_HOME", "COLUMNS")
    }
    return {**inherited, "TERM": "xterm", **extra}


def _at_a_pty(
    home: Path, args: list[str], *, python_flags: tuple[str, ...] = (), **extra: str
) -> str:
    """What ``python -m destconfig --home HOME ARGS`` shows in a pseudo-terminal."""
    child = pexpect.spawn(
        sys.executable,
        [*python_flags, "-m", "destconfig", "--home", str(home), *args],
        env=_spawn_env(**extra),
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 120),
    )
    child.expect(pexpect.EOF)
    child.close()
    text: str = child.before
    return text


@pytest.mark.slow  # real pseudo-terminals
def test_diff_in_a_real_terminal_is_coloured_and_plain_with_no_color(tables: Path) -> None:
    args = ["diff", str(tables / "a.toml"), str(tables / "b.toml")]
    plain = PLAIN_DIFF.replace("a.toml", args[1]).replace("b.toml", args[2])
    coloured = _at_a_pty(tables / "home", args)
    assert "\x1b[31m- old.example\x1b[0m" in coloured
    assert "\x1b[32m+ new.example\x1b[0m" in coloured
    assert SGR.sub("", coloured) == plain.replace("\n", "\r\n")
    uncoloured = _at_a_pty(tables / "home", args, NO_COLOR="1")
    assert uncoloured == plain.replace("\n", "\r\n")  # the terminal's line ends, no escape


def _imported(lines: str) -> set[str]:
    """The modules ``python -X importtime`` listed."""
    names = set()
    for line in lines.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "destconfig" in names  # the listing is what it claims to be
    return names


def _piped(home: Path, args: list[str], answers: bytes = b"") -> set[str]:
    run_ = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "destconfig", "--home", str(home), *args],
        input=answers,
        capture_output=True,
        cwd=ROOT,
        env=_spawn_env(),
        timeout=60,
    )
    return _imported(run_.stderr.decode())


@pytest.mark.slow  # processes of their own
def test_rich_is_imported_at_a_terminal_only(tables: Path) -> None:
    home = tables / "home"
    args = ["diff", str(tables / "a.toml"), str(tables / "b.toml")]
    assert "rich" in _imported(_at_a_pty(home, args, python_flags=("-X", "importtime")))
    assert "rich" not in _piped(home, args)  # a one-shot command, piped
    assert "rich" not in _piped(home, ["resolve", "u@example.com", "--format", "table"])
    assert "rich" not in _piped(home, ["new", "bad..name"])  # an error, piped
    session = b"destconfig\nnew\nexample.com\n\n\n\n\n\n\n\n\n\nlist\n\n\ncommit\n\n\nquit\n"
    assert "rich" not in _piped(home, [], session)  # the shell, piped
