"""Rollback: the copies a commit keeps, their order and records, how many are kept,
the host command ``rollbackconfig`` and the command ``destconfig rollback``.

The shell and the commands run in this process (:func:`run_cli`) with the fixed
clock of the replays, so every commit of a test falls in the same second: the
order of the copies cannot come from the clock. Outputs are compared whole.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destconfig import store as store_module
from destconfig.formats import toml as toml_format
from destconfig.model import FACTORY_TABLE, Entry, Table
from destconfig.replay import FIXED_TIME
from destconfig.shell.host import HOST_COMMAND_LIST
from destconfig.store import Store
from tests.helpers import Result, run_cli

TIME = "Fri Nov 27 21:06:44 2026 UTC"  # FIXED_TIME as a commit prints it
STAMP = "20261127T210644"
COMMITTED = f"Changes committed: {TIME}\n"
NOTHING = "There is no earlier configuration to roll back to.\n"
HEAD = (
    "Configurations to roll back to, newest first:\n\n    Committed on                  Comment\n"
)
NEW = "destconfig\nnew\n{}\nN\nN\nN\nN\nN\nN\nN\n\n"  # NEW of an entry left at Default

A = Table().with_entry("a.example", Entry())
AB = A.with_entry("b.example", Entry())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(home: Path, *args: str, stdin: str = "") -> Result:
    return run_cli(home, *args, stdin=stdin.encode())


def ok(home: Path, *args: str) -> str:
    result = run(home, *args)
    assert (result.status, result.err) == (0, ""), result
    return result.out


def first_then_second(home: Path) -> None:
    """The example of the documentation: commits "first" then "second", both keeping copies."""
    assert ok(home, "new", "a.example", "--comment", "first") == COMMITTED
    assert ok(home, "new", "b.example", "--comment", "second") == COMMITTED


def copies(home: Path) -> list[str]:
    return sorted(path.name for path in (home / "rollback").glob("*.toml"))


def snapshot(home: Path) -> dict[str, bytes]:
    """Every regular file of the home but the lock: what a refused command leaves alone."""
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if stat.S_ISREG(path.lstat().st_mode) and path.name != ".lock"
    }


def committed_table(home: Path) -> Table:
    return Store(home).load()


def log_lines(home: Path) -> list[str]:
    return (home / "commits.log").read_text(encoding="utf-8").splitlines()


# --- names: the order of the commits -------------------------------------------------------


def test_copies_made_in_one_second_are_named_and_listed_in_commit_order(home: Path) -> None:
    store = Store(home)
    tables = [Table().with_entry(f"e{number}.example", Entry()) for number in range(4)]
    for number, table in enumerate(tables):
        store.commit(table, comment=f"c{number}", when=FIXED_TIME, keep_rollback=True)
    names = copies(home)
    assert names == [f"config-0000000{number}-{STAMP}.toml" for number in (1, 2, 3, 4)]
    # Name order is commit order: each copy is the table before the next commit.
    kept = [toml_format.loads((home / "rollback" / name).read_bytes()) for name in names]
    assert kept == [FACTORY_TABLE, *tables[:3]]
    listed = store.rollback_copies()
    assert [copy.name for copy in listed] == names[::-1]
    assert [copy.comment for copy in listed] == ["c2", "c1", "c0", ""]
    assert listed[-1].factory


def test_a_clock_that_goes_back_does_not_change_the_order(home: Path) -> None:
    store = Store(home)
    later = datetime(2026, 11, 27, 22, 0, 0, tzinfo=UTC)
    store.commit(A, comment="at ten", when=later, keep_rollback=True)
    store.commit(AB, comment="at nine", when=FIXED_TIME, keep_rollback=True)
    store.commit(Table(), comment="", when=FIXED_TIME, keep_rollback=True)
    assert copies(home) == [
        "config-00000001-20261127T220000.toml",
        "config-00000002-20261127T210644.toml",
        f"config-00000003-{STAMP}.toml",
    ]
    assert [copy.comment for copy in store.rollback_copies()] == ["at nine", "at ten", ""]


def test_the_list_of_first_then_second(home: Path) -> None:
    first_then_second(home)
    expected = HEAD + f"1.  {TIME}  first\n2.  The factory configuration\n"
    assert run(home, "rollback", "--list") == Result(0, expected, "")
    assert run(home, "rollback") == Result(0, expected, "")  # no N: the list
    store = Store(home)
    newest, factory = store.rollback_copies()
    assert store.load_rollback(newest) == A  # as "first" left it: not the current table
    assert store.load_rollback(factory) == FACTORY_TABLE
    assert (newest.committed, newest.comment, newest.factory) == (TIME, "first", False)
    assert (factory.committed, factory.factory) == (None, True)


def test_the_list_as_json(home: Path) -> None:
    first_then_second(home)
    document = json.loads(ok(home, "rollback", "--list", "--format", "json"))
    assert document == {
        "configurations": [
            {
                "number": 1,
                "made": "commit",
                "committed": TIME,
                "comment": "first",
                "replaced": "2026-11-27 21:06:44",
                "file": f"config-00000002-{STAMP}.toml",
            },
            {
                "number": 2,
                "made": "factory",
                "committed": None,
                "comment": None,
                "replaced": "2026-11-27 21:06:44",
                "file": f"config-00000001-{STAMP}.toml",
            },
        ]
    }


def test_a_commit_without_a_copy_leaves_the_list_as_it_was(home: Path) -> None:
    first_then_second(home)
    ok(home, "new", "c.example", "--no-rollback", "--comment", "third")
    listed = ok(home, "rollback")
    assert listed == HEAD + f"1.  {TIME}  first\n2.  The factory configuration\n"


def test_comments_are_escaped_and_cut_in_the_list(home: Path) -> None:
    ok(home, "new", "a.example", "--comment", "tab\there \x1b[31m")
    ok(home, "new", "b.example", "--comment", "x" * 1500)
    ok(home, "new", "c.example", "--comment", "")
    assert ok(home, "rollback") == (
        HEAD + f"1.  {TIME}  {'x' * 1000}...\n"
        f"2.  {TIME}  tab\\there \\x1b[31m\n"
        "3.  The factory configuration\n"
    )
    assert log_lines(home)[1] == f"{TIME}\t{'x' * 1500}"  # the log keeps it whole
    ok(home, "new", "d.example")
    assert ok(home, "rollback").split("\n")[3] == f"1.  {TIME}"  # an empty comment


# --- how many are kept ---------------------------------------------------------------------


def test_twelve_commits_keep_the_newest_ten(home: Path) -> None:
    for number in range(1, 13):
        ok(home, "new", f"e{number}.example", "--comment", f"c{number}")
    assert copies(home) == [f"config-{number:08d}-{STAMP}.toml" for number in range(3, 13)]
    records = sorted(path.name for path in (home / "rollback").glob("*.commit"))
    assert records == [name.replace(".toml", ".commit") for name in copies(home)]
    lines = ok(home, "rollback").splitlines()[2:]
    assert lines[0] == "     Committed on                  Comment"  # numbers of two digits
    assert lines[1:] == [f"{f'{12 - n}.':5}{TIME}  c{n}" for n in range(11, 1, -1)]  # no factory


def test_the_setting_changes_how_many_are_kept(home: Path) -> None:
    for number in range(1, 7):
        ok(home, "new", f"e{number}.example")
    assert len(copies(home)) == 6
    result = run(home, "rollback", "--keep", "3")
    assert result == Result(
        0, "Rollback keeps the newest 3 copies. 3 older copies were removed.\n", ""
    )
    assert copies(home) == [f"config-{number:08d}-{STAMP}.toml" for number in (4, 5, 6)]
    assert (home / "settings.toml").read_bytes() == b"[rollback]\nkeep = 3\n"
    ok(home, "new", "e7.example")
    assert copies(home) == [f"config-{number:08d}-{STAMP}.toml" for number in (5, 6, 7)]
    assert run(home, "rollback", "--keep", "5") == Result(
        0, "Rollback keeps the newest 5 copies.\n", ""
    )
    for number in range(8, 12):
        ok(home, "new", f"e{number}.example")
    assert copies(home) == [f"config-{number:08d}-{STAMP}.toml" for number in range(7, 12)]
    assert run(home, "rollback", "--keep", "1", "--list") == Result(
        0,
        "Rollback keeps the newest 1 copy. 4 older copies were removed.\n"
        + HEAD
        + f"1.  {TIME}  new e10.example\n",
        "",
    )


@pytest.mark.parametrize("value", ["0", "1001", "x", "-1", "2.5", ""])
def test_a_bad_keep_is_a_usage_error(home: Path, value: str) -> None:
    first_then_second(home)
    before = snapshot(home)
    result = run(home, "rollback", "--keep", value)
    assert (result.status, result.out) == (2, "")
    assert result.err.startswith("destconfig: rollback: argument --keep: "), result.err
    assert snapshot(home) == before


@pytest.mark.parametrize(
    "text",
    [
        b"[rollback]\nkeep = 'x'\n",
        b"[rollback]\nkep = 3\n",
        b"keep = 3\n",
        b"[rollback]\nkeep = 0\n",
        b"[rollback\n",
        b"\xff\xfe",
        b"a = " + b"[" * 20000,
        b"# " + b"x" * 70000,
    ],
)
def test_a_damaged_setting_removes_nothing_and_warns(home: Path, text: bytes) -> None:
    ok(home, "rollback", "--keep", "1")
    ok(home, "new", "a.example")
    (home / "settings.toml").write_bytes(text)
    result = run(home, "new", "b.example")
    assert (result.status, result.out) == (0, COMMITTED)
    assert result.err.startswith(f"destconfig: warning: {home}/settings.toml is not a valid ")
    assert result.err.endswith("; no rollback copy was removed\n")
    assert result.err.count("\n") == 1
    assert len(copies(home)) == 2
    assert ok(home, "rollback", "--keep", "1") == (
        "Rollback keeps the newest 1 copy. 1 older copy was removed.\n"
    )


def test_a_settings_file_that_is_a_fifo_is_not_waited_on(home: Path) -> None:
    ok(home, "new", "a.example")
    os.mkfifo(home / "settings.toml")
    result = run(home, "new", "b.example")
    assert result == Result(
        0,
        COMMITTED,
        f"destconfig: warning: {home}/settings.toml: not a regular file; "
        "no rollback copy was removed\n",
    )


# --- the host command ----------------------------------------------------------------------


def test_help_lists_rollbackconfig_in_order(home: Path) -> None:
    names = [command.name for command in HOST_COMMAND_LIST]
    assert names == sorted(names)
    out = run(home, stdin="help\nquit\n").out
    assert "\nquit - End the session.\nrollbackconfig - Return to an earlier committed " in out


def test_rollbackconfig_makes_the_table_pending_and_commit_commits_it(home: Path) -> None:
    first_then_second(home)
    listed = HEAD + f"1.  {TIME}  first\n2.  The factory configuration\n"
    left = run(home, stdin="rollbackconfig\n1\nquit\nY\n")
    assert left == Result(
        0,
        "ESA> rollbackconfig\n\n"
        + listed
        + "\nEnter the number of the configuration to roll back to.\n[]> 1\n\n"
        f"Rolled back to the configuration committed {TIME} (first).\n"
        "The change is pending: 'commit' commits it, 'clearchanges' drops it.\n\n"
        "ESA> quit\n\n"
        "You have uncommitted changes. Exit without committing them? [N]> Y\n",
        "",
    )
    assert committed_table(home) == AB  # pending only: nothing was committed
    done = run(home, stdin="rollbackconfig\n1\ncommit\nback\nY\nquit\n")
    assert done.status == 0 and done.err == ""
    assert done.out.endswith(f"[Y]> Y\n\n{COMMITTED}\nESA> quit\n")
    assert committed_table(home) == A
    assert log_lines(home)[-1] == f"{TIME}\tback"
    # The rollback's commit kept the table it replaced, made by "second".
    assert ok(home, "rollback") == (
        HEAD + f"1.  {TIME}  second\n2.  {TIME}  first\n3.  The factory configuration\n"
    )


def test_rollbackconfig_asks_before_replacing_pending_changes(home: Path) -> None:
    first_then_second(home)
    kept = run(home, stdin=NEW.format("c.example") + "rollbackconfig\n1\nN\ncommit\n\nN\nquit\n")
    assert (
        "[]> 1\n\nYou have uncommitted changes. Replace them with this configuration? [N]> N\n\n"
        in (kept.out)
    )
    assert set(committed_table(home).entries) == {"a.example", "b.example", "c.example"}
    replaced = run(
        home, stdin=NEW.format("d.example") + "rollbackconfig\n1\nY\ncommit\n\nN\nquit\n"
    )
    assert "[N]> Y\n\nRolled back to the configuration committed " in replaced.out
    assert committed_table(home) == A


def test_rollbackconfig_answers(home: Path) -> None:
    first_then_second(home)
    result = run(home, stdin="rollbackconfig\n0\n3\none\n\nquit\n")
    question = "\nEnter the number of the configuration to roll back to.\n[]> "
    assert result.out.endswith(
        f"{question}0\nYou must enter a value from 1 to 2.\n"
        f"{question}3\nYou must enter a value from 1 to 2.\n"
        f"{question}one\nYou must enter a value from 1 to 2.\n"
        f"{question}\n\nESA> quit\n"
    )
    assert result.status == 0  # an empty answer left it: nothing pending
    assert committed_table(home) == AB


def test_rollbackconfig_to_the_committed_configuration_leaves_nothing_pending(home: Path) -> None:
    first_then_second(home)
    ok(home, "rollback", "1")  # the table of "first" again; "second" is item 1 now
    result = run(home, stdin="rollbackconfig\n2\nquit\n")
    assert result.out.endswith(
        f"[]> 2\n\nThe configuration committed {TIME} (first) is the one committed now; "
        "nothing is pending.\n\nESA> quit\n"
    )


def test_rollbackconfig_with_nothing_to_roll_back_to(home: Path) -> None:
    assert run(home, stdin="rollbackconfig\nquit\n") == Result(
        0, f"ESA> rollbackconfig\n\n{NOTHING}\nESA> quit\n", ""
    )
    ok(home, "new", "a.example", "--no-rollback")
    assert run(home, stdin="rollbackconfig\nquit\n").out == (
        f"ESA> rollbackconfig\n\n{NOTHING}\nESA> quit\n"
    )


def test_rollbackconfig_of_a_damaged_copy_changes_nothing(home: Path) -> None:
    first_then_second(home)
    (home / "rollback" / f"config-00000002-{STAMP}.toml").write_bytes(b"entries = 3\n")
    result = run(home, stdin="rollbackconfig\n1\nquit\n")
    assert (
        f"[]> 1\n\nThe configuration cannot be read: {home}/rollback/config-00000002-{STAMP}.toml "
        "is not a valid configuration:\n"
    ) in result.out
    assert result.out.endswith("\n\nESA> quit\n")  # nothing pending: quit asks nothing
    assert committed_table(home) == AB


# --- the command ---------------------------------------------------------------------------


def test_rollback_n_commits_at_once(home: Path) -> None:
    first_then_second(home)
    assert run(home, "rollback", "2") == Result(0, COMMITTED, "")
    assert committed_table(home) == FACTORY_TABLE
    assert log_lines(home)[-1] == f"{TIME}\trollback to the factory configuration"
    assert ok(home, "rollback") == (
        HEAD + f"1.  {TIME}  second\n2.  {TIME}  first\n3.  The factory configuration\n"
    )
    assert run(home, "rollback", "2", "--comment", "undo") == Result(0, COMMITTED, "")
    assert committed_table(home) == A
    assert log_lines(home)[-1] == f"{TIME}\tundo"
    assert ok(home, "rollback").splitlines()[3] == (
        f"1.  {TIME}  rollback to the factory configuration"
    )


def test_rollback_with_no_rollback_keeps_no_copy(home: Path) -> None:
    first_then_second(home)
    before = copies(home)
    assert run(home, "rollback", "1", "--no-rollback") == Result(0, COMMITTED, "")
    assert committed_table(home) == A
    assert copies(home) == before


def test_rollback_dry_run_commits_nothing(home: Path) -> None:
    first_then_second(home)
    before = snapshot(home)
    assert run(home, "rollback", "1", "--dry-run") == Result(
        0, "--- committed\n+++ after\n- b.example\n", ""
    )
    assert snapshot(home) == before


def test_rollback_to_the_committed_table_commits_nothing(home: Path) -> None:
    first_then_second(home)
    ok(home, "rollback", "1")
    before = snapshot(home)
    assert run(home, "rollback", "2") == Result(0, "There are no changes to commit.\n", "")
    assert snapshot(home) == before


@pytest.mark.parametrize("number", ["0", "x", "-1", "1.5", "1e3", "99999999999", "٣"])
def test_a_bad_number_is_a_usage_error(home: Path, number: str) -> None:
    first_then_second(home)
    before = snapshot(home)
    result = run(home, "rollback", number)
    assert (result.status, result.out) == (2, "")
    assert result.err == (
        f"destconfig: rollback: argument N: bad number {number!r}; N is a number in the "
        "list, from 1 (the newest)\n"
        "destconfig: try 'destconfig rollback --help' for more information\n"
    )
    assert snapshot(home) == before


def test_a_number_beyond_the_list_is_a_usage_error(home: Path) -> None:
    first_then_second(home)
    before = snapshot(home)
    assert run(home, "rollback", "3") == Result(
        2,
        "",
        "destconfig: there is no configuration 3 to roll back to: the list has 2 "
        "(destconfig rollback --list)\n",
    )
    assert snapshot(home) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", "--list"), "give --list or a number N, not both"),
        (("1", "--keep", "3"), "--keep goes without N: it may remove the configuration N names"),
        (("--comment", "c"), "--comment is for a rollback: give the number N"),
        (("--no-rollback",), "--no-rollback is for a rollback: give the number N"),
        (("--list", "--dry-run"), "--dry-run is for a rollback: give the number N"),
        (
            ("1", "--format", "json"),
            "--format is for the list and --dry-run: a rollback prints one line",
        ),
    ],
)
def test_options_that_do_not_go_together(home: Path, args: tuple[str, ...], message: str) -> None:
    first_then_second(home)
    before = snapshot(home)
    assert run(home, "rollback", *args) == Result(2, "", f"destconfig: {message}\n")
    assert snapshot(home) == before


def test_rollback_on_a_home_with_no_copies(home: Path) -> None:
    assert run(home, "rollback") == Result(0, NOTHING, "")
    assert run(home, "rollback", "--list", "--format", "json") == Result(
        0, '{\n  "configurations": []\n}\n', ""
    )
    assert run(home, "rollback", "1") == Result(
        2, "", "destconfig: there is no earlier configuration to roll back to\n"
    )
    assert not (home / "config.toml").exists()


def test_rollback_recovers_a_damaged_configuration(home: Path) -> None:
    first_then_second(home)
    damaged = b"[entries\n"
    (home / "config.toml").write_bytes(damaged)
    assert run(home, "list").status == 2  # the configuration cannot be read
    assert ok(home, "rollback") == HEAD + f"1.  {TIME}  first\n2.  The factory configuration\n"
    assert run(home, "rollback", "1") == Result(0, COMMITTED, "")
    assert committed_table(home) == A
    # What was replaced is kept too: its commit is not recorded (it is not the commit's file).
    newest = Store(home).rollback_copies()[0]
    assert (home / "rollback" / newest.name).read_bytes() == damaged
    assert ok(home, "rollback").splitlines()[3] == "1.  Not recorded (replaced 2026-11-27 21:06:44)"
    refused = run(home, "rollback", "1")
    assert (refused.status, refused.out) == (2, "")
    assert refused.err.startswith(
        f"destconfig: {home}/rollback/{newest.name} is not a valid configuration:\n"
        "destconfig:   line 1: "
    )
    assert committed_table(home) == A


def test_a_configuration_put_in_place_by_hand_is_not_taken_for_the_commit(home: Path) -> None:
    ok(home, "new", "a.example", "--comment", "first")
    (home / "config.toml").write_bytes(toml_format.dumps(AB))  # edited by hand
    ok(home, "new", "c.example", "--comment", "third")
    assert ok(home, "rollback").splitlines()[3:] == [
        "1.  Not recorded (replaced 2026-11-27 21:06:44)",
        "2.  The factory configuration",
    ]
    assert Store(home).load_rollback(Store(home).rollback_copies()[0]) == AB


# --- what else rollback/ may hold ----------------------------------------------------------


def test_foreign_and_damaged_files_in_rollback_are_passed_over(home: Path) -> None:
    first_then_second(home)
    rollback = home / "rollback"
    good = rollback / f"config-00000002-{STAMP}.toml"
    (rollback / "notes.txt").write_text("mine\n")
    (rollback / "config-foo.toml").write_text("x\n")
    (rollback / f"config-00000009-{STAMP}.toml.bak").write_text("x\n")
    (rollback / f"config-0000007-{STAMP}.toml").write_text("x\n")  # seven digits
    (rollback / f"config-00000050-{STAMP}.toml").mkdir()
    os.mkfifo(rollback / f"config-00000051-{STAMP}.toml")
    (rollback / f"config-00000052-{STAMP}.toml").symlink_to(good)
    (rollback / f"config-00000002-{STAMP}.commit").unlink()
    os.mkfifo(rollback / f"config-00000002-{STAMP}.commit")  # the record of "first": a FIFO
    expected = (
        "Configurations to roll back to, newest first:\n\n"
        "    Committed on  Comment\n"  # no commit is recorded: no time to make room for
        "1.  Not recorded (replaced 2026-11-27 21:06:44)\n"
        "2.  The factory configuration\n"
    )
    assert run(home, "rollback") == Result(0, expected, "")
    assert run(home, stdin="rollbackconfig\n\nquit\n").out.startswith(
        "ESA> rollbackconfig\n\n" + expected
    )
    # A new copy is numbered past every name that looks like one, and pruning removes
    # none but copies (and the records of copies gone).
    ok(home, "rollback", "--keep", "1")
    ok(home, "new", "c.example", "--comment", "third")
    assert sorted(path.name for path in rollback.iterdir()) == sorted(
        [
            "config-0000007-20261127T210644.toml",
            f"config-00000009-{STAMP}.toml.bak",
            f"config-00000050-{STAMP}.toml",
            f"config-00000051-{STAMP}.toml",
            f"config-00000052-{STAMP}.toml",
            f"config-00000053-{STAMP}.commit",
            f"config-00000053-{STAMP}.toml",
            "config-foo.toml",
            "notes.txt",
        ]
    )
    assert ok(home, "rollback") == HEAD + f"1.  {TIME}  second\n"


@pytest.mark.parametrize(
    "record",
    [
        b"",
        b"commit\t" + TIME.encode() + b"\tfirst",  # no line end
        b"commit\t" + TIME.encode() + b"\tone\ntwo\n",
        b"\xff\tx\ty\n",
        b"commit\t\tno time\n",
        b"made\t" + TIME.encode() + b"\tfirst\n",
        b"factory\textra\n",
        b"commit\t" + TIME.encode() + b"\t" + b"x" * 20000 + b"\n",
    ],
)
def test_a_damaged_record_leaves_the_commit_unrecorded(home: Path, record: bytes) -> None:
    first_then_second(home)
    (home / "rollback" / f"config-00000002-{STAMP}.commit").write_bytes(record)
    assert ok(home, "rollback").splitlines()[3] == "1.  Not recorded (replaced 2026-11-27 21:06:44)"


def test_control_characters_in_a_record_are_escaped(home: Path) -> None:
    first_then_second(home)
    record = b"commit\t" + TIME.encode() + b"\x1b[2J\tbell\x07\n"
    (home / "rollback" / f"config-00000002-{STAMP}.commit").write_bytes(record)
    assert ok(home, "rollback").splitlines()[3] == f"1.  {TIME}\\x1b[2J  bell\\x07"


@pytest.mark.parametrize("data", [b"", b"not = [toml\n", b"entries = 3\n", b"\x00" * 10])
def test_a_damaged_copy_is_refused_when_chosen(home: Path, data: bytes) -> None:
    first_then_second(home)
    (home / "rollback" / f"config-00000002-{STAMP}.toml").write_bytes(data)
    before = snapshot(home)
    result = run(home, "rollback", "1")
    assert (result.status, result.out) == (2, "")
    assert result.err.startswith(f"destconfig: {home}/rollback/config-00000002-{STAMP}.toml ")
    assert snapshot(home) == before


def test_a_copy_too_large_is_refused_unread(home: Path) -> None:
    first_then_second(home)
    with (home / "rollback" / f"config-00000002-{STAMP}.toml").open("r+b") as stream:
        stream.truncate(64 * 1024 * 1024 + 10)  # sparse: nothing of it is read past the limit
    result = run(home, "rollback", "1")
    assert result == Result(
        2,
        "",
        f"destconfig: {home}/rollback/config-00000002-{STAMP}.toml is larger than "
        f"{64 * 1024 * 1024} bytes\n",
    )


def test_rollback_that_is_not_a_directory(home: Path) -> None:
    ok(home, "new", "a.example", "--no-rollback")
    (home / "rollback").write_text("a file\n")
    assert run(home, "rollback") == Result(2, "", f"destconfig: {home}/rollback: Not a directory\n")
    shell = run(home, stdin="rollbackconfig\nquit\n")
    assert shell.out == (
        "ESA> rollbackconfig\n\n"
        f"The earlier configurations cannot be read: {home}/rollback: Not a directory\n\n"
        "ESA> quit\n"
    )


def test_copies_of_earlier_versions_are_listed_oldest(home: Path) -> None:
    home.mkdir()
    rollback = home / "rollback"
    rollback.mkdir(mode=0o700)
    (rollback / "config-20261127T184544.toml").write_bytes(toml_format.dumps(A))
    (rollback / "config-20261127T184544-1.toml").write_bytes(toml_format.dumps(AB))
    (rollback / "config-20261126T090000.toml").write_bytes(toml_format.dumps(Table()))
    (home / "config.toml").write_bytes(toml_format.dumps(Table()))
    ok(home, "new", "z.example", "--comment", "now")
    store = Store(home)
    assert [copy.name for copy in store.rollback_copies()] == [
        f"config-00000001-{STAMP}.toml",
        "config-20261127T184544-1.toml",
        "config-20261127T184544.toml",
        "config-20261126T090000.toml",
    ]
    assert ok(home, "rollback").splitlines()[3:] == [
        "1.  Not recorded (replaced 2026-11-27 21:06:44)",
        "2.  Not recorded (replaced 2026-11-27 18:45:44)",
        "3.  Not recorded (replaced 2026-11-27 18:45:44)",
        "4.  Not recorded (replaced 2026-11-26 09:00:00)",
    ]
    assert run(home, "rollback", "2") == Result(0, COMMITTED, "")
    assert committed_table(home) == AB


def test_the_records_and_settings_are_private_and_leftovers_are_swept(home: Path) -> None:
    ok(home, "rollback", "--keep", "4")
    first_then_second(home)
    for path in [home / "config.commit", home / "settings.toml", *(home / "rollback").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    leftovers = [
        home / ".config.commit.abc123.tmp",
        home / ".settings.toml.abc123.tmp",
        home / "rollback" / f".config-00000003-{STAMP}.commit.abc123.tmp",
        home / "rollback" / f".config-00000003-{STAMP}.toml.abc123.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half")
    Store(home).load()
    assert [path for path in leftovers if path.exists()] == []


def test_a_record_that_cannot_be_written_is_a_warning_of_a_commit_that_happened(
    home: Path,
) -> None:
    ok(home, "new", "a.example", "--comment", "first")
    (home / "config.commit").unlink()
    (home / "config.commit").mkdir()
    result = run(home, "new", "b.example", "--comment", "second")
    assert result == Result(
        0,
        COMMITTED,
        "destconfig: warning: the commit's time and comment were not recorded in "
        "config.commit: Is a directory\n",
    )
    assert committed_table(home) == AB
    (home / "config.commit").rmdir()
    ok(home, "new", "c.example", "--comment", "third")
    assert ok(home, "rollback").splitlines()[3:] == [
        "1.  Not recorded (replaced 2026-11-27 21:06:44)",  # the table "second" made
        "2.  Not recorded (replaced 2026-11-27 21:06:44)",  # "first": its record was unreadable
        "3.  The factory configuration",
    ]


# --- the whole configuration is kept, however large ----------------------------------------

BIG = 70_000_000  # past the 64 MiB the store reads of config.toml
HEAD_MARK = b"[entries\n# the start of a damaged file\n"
TAIL_MARK = b"\n# the end of a damaged file, past what the store reads\n"


def write_big(path: Path, size: int = BIG) -> None:
    """A damaged config.toml of *size* bytes, sparse: marked at both ends, zeros between."""
    with path.open("wb") as stream:
        stream.write(HEAD_MARK)
        stream.seek(size - len(TAIL_MARK))
        stream.write(TAIL_MARK)


def assert_big(path: Path, size: int = BIG) -> None:
    assert path.stat().st_size == size
    with path.open("rb") as stream:
        assert stream.read(len(HEAD_MARK)) == HEAD_MARK
        stream.seek(size - len(TAIL_MARK))
        assert stream.read() == TAIL_MARK


def newest_copy(home: Path) -> Path:
    return home / "rollback" / Store(home).rollback_copies()[0].name


def test_a_configuration_larger_than_the_store_reads_is_kept_whole(home: Path) -> None:
    first_then_second(home)
    write_big(home / "config.toml")
    assert run(home, "rollback", "1") == Result(0, COMMITTED, "")
    assert committed_table(home) == A
    kept = newest_copy(home)
    assert kept.name == f"config-00000003-{STAMP}.toml"
    assert_big(kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert ok(home, "rollback").splitlines()[3] == "1.  Not recorded (replaced 2026-11-27 21:06:44)"


def test_a_configuration_with_another_name_is_copied_whole_not_linked(
    home: Path, tmp_path: Path
) -> None:
    # A copy is a file of its own: one shared with another name would change with it.
    first_then_second(home)
    write_big(home / "config.toml")
    elsewhere = tmp_path / "elsewhere.toml"
    os.link(home / "config.toml", elsewhere)
    assert run(home, "rollback", "1") == Result(0, COMMITTED, "")
    kept = newest_copy(home)
    assert_big(kept)
    assert not os.path.samefile(kept, elsewhere)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert sorted(path.name for path in (home / "rollback").iterdir() if path.name[0] == ".") == []


def test_a_copy_that_cannot_be_linked_is_refused_past_the_copy_limit(
    home: Path, tmp_path: Path
) -> None:
    first_then_second(home)
    size = 16 * 64 * 1024 * 1024 + 1  # one past MAX_COPIED_BYTES, sparse: never read
    write_big(home / "config.toml", size)
    os.link(home / "config.toml", tmp_path / "elsewhere.toml")
    before = sorted(path.name for path in (home / "rollback").iterdir())
    log = log_lines(home)
    assert run(home, "rollback", "1") == Result(
        1,
        "",
        f"destconfig: nothing was committed: {home}/config.toml is {size} bytes; a rollback "
        "copy that cannot be linked is copied, and at most 1073741824 bytes are: move the "
        "file away, or commit without a rollback copy\n",
    )
    assert sorted(path.name for path in (home / "rollback").iterdir()) == before
    assert log_lines(home) == log
    assert_big(home / "config.toml", size)
    assert run(home, "rollback", "1", "--no-rollback") == Result(0, COMMITTED, "")
    assert committed_table(home) == A


def test_a_commit_that_fails_after_the_copy_leaves_no_copy(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_then_second(home)
    before = snapshot(home)

    real_replace = store_module.replace

    def disk_full(path: Path, data: bytes) -> None:
        if path.name == "config.toml":  # the new file: the copy is in place by then
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_replace(path, data)

    monkeypatch.setattr(store_module, "replace", disk_full)
    assert run(home, "new", "c.example") == Result(
        1, "", "destconfig: nothing was committed: No space left on device\n"
    )
    assert snapshot(home) == before


def test_rollback_and_its_home_are_on_the_disk_before_config_toml_is_replaced(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash after the rename must not lose the copy: its name in rollback/, and
    # rollback/'s in the home, are flushed first. Each directory flush is recorded
    # with what the directory holds then.
    events: list[tuple[str, object, frozenset[str]]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            names = frozenset(os.listdir(descriptor))
            events.append(("flush", (status.st_dev, status.st_ino), names))
        real_fsync(descriptor)

    def replace(source: str, target: str, **kwargs: int) -> None:
        real_replace(source, target, **kwargs)
        events.append(("rename", str(target), frozenset()))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store = Store(home)
    for table, comment in ((A, "first"), (AB, "second")):
        events.clear()
        store.commit(table, comment=comment, when=FIXED_TIME, keep_rollback=True)
        renamed = events.index(("rename", str(home / "config.toml"), frozenset()))
        flushed = events[:renamed]
        home_id = (home.stat().st_dev, home.stat().st_ino)
        rollback = home / "rollback"
        rollback_id = (rollback.stat().st_dev, rollback.stat().st_ino)
        newest = store.rollback_copies()[0].name
        if comment == "first":  # rollback/ was made: its name in the home
            assert any(e[1] == home_id and "rollback" in e[2] for e in flushed), events
        assert any(e[1] == rollback_id and newest in e[2] for e in flushed), events


# --- sequence numbers: only the store's own names ------------------------------------------


def test_names_of_other_widths_are_foreign(home: Path) -> None:
    rollback = home / "rollback"
    rollback.mkdir(parents=True, mode=0o700)
    foreign = {
        "config-9999999999999999-20200101T000000.toml": toml_format.dumps(AB),
        "config-9999999999999998-20200101T000000.commit": b"factory\n",
        "config-123456789-20200101T000000.toml": toml_format.dumps(AB),
        "config-1234567-20200101T000000.commit": b"factory\n",
    }
    for name, data in foreign.items():
        (rollback / name).write_bytes(data)
    ok(home, "rollback", "--keep", "2")
    for number in range(1, 5):
        ok(home, "new", f"e{number}.example", "--comment", f"c{number}")
    assert copies(home) == sorted(
        [
            f"config-00000003-{STAMP}.toml",
            f"config-00000004-{STAMP}.toml",
            "config-9999999999999999-20200101T000000.toml",
            "config-123456789-20200101T000000.toml",
        ]
    )
    assert ok(home, "rollback") == HEAD + f"1.  {TIME}  c3\n2.  {TIME}  c2\n"
    for name, data in foreign.items():
        assert (rollback / name).read_bytes() == data


def test_the_last_sequence_number_refuses_the_commit_that_would_keep_a_copy(home: Path) -> None:
    first_then_second(home)
    last = home / "rollback" / "config-99999999-20200101T000000.toml"
    put_there = Table().with_entry("z.example", Entry())
    last.write_bytes(toml_format.dumps(put_there))
    before = snapshot(home)
    refusal = (
        f"no rollback copy can be kept: {last} has the last sequence number there is "
        "(99999999); move it out of rollback/, or commit without a rollback copy"
    )
    assert run(home, "new", "c.example") == Result(
        1, "", f"destconfig: nothing was committed: {refusal}\n"
    )
    assert snapshot(home) == before
    shell = run(home, stdin=NEW.format("c.example") + "commit\nthird\nY\nquit\nY\n")
    assert f"[Y]> Y\n\nThe changes could not be committed: {refusal}\n\nESA> quit\n" in shell.out
    assert snapshot(home) == before
    # What the number is taken from is read as a copy: listed, and a rollback to it works.
    assert ok(home, "rollback").splitlines()[3] == "1.  Not recorded (replaced 2020-01-01 00:00:00)"
    assert run(home, "rollback", "1", "--no-rollback") == Result(0, COMMITTED, "")
    assert committed_table(home) == put_there
    last.unlink()
    ok(home, "new", "c.example")
    assert copies(home)[-1] == f"config-00000003-{STAMP}.toml"


def test_a_copy_kept_before_the_year_1000_is_named_as_it_is_read(home: Path) -> None:
    store = Store(home)
    long_ago = datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.commit(A, comment="first", when=long_ago, keep_rollback=True)
    assert copies(home) == ["config-00000001-09990102T030405.toml"]
    assert [copy.replaced for copy in store.rollback_copies()] == ["0999-01-02 03:04:05"]


# --- --keep and --format -------------------------------------------------------------------


def test_keep_with_the_list_as_json_is_one_document(home: Path) -> None:
    first_then_second(home)
    result = run(home, "rollback", "--keep", "1", "--list", "--format", "json")
    assert (result.status, result.err) == (0, "")
    document = json.loads(result.out)
    assert list(document) == ["keep", "removed", "configurations"]
    assert (document["keep"], document["removed"]) == (1, 1)
    assert [item["comment"] for item in document["configurations"]] == ["first"]
    again = json.loads(ok(home, "rollback", "--keep", "1", "--list", "--format", "json"))
    assert (again["keep"], again["removed"]) == (1, 0)


@pytest.mark.parametrize("shown", ["json", "text"])
def test_keep_with_format_but_no_list_is_a_usage_error(home: Path, shown: str) -> None:
    first_then_second(home)
    before = snapshot(home)
    assert run(home, "rollback", "--keep", "1", "--format", shown) == Result(
        2, "", "destconfig: --format is for the list and --dry-run: --keep alone prints one line\n"
    )
    assert snapshot(home) == before


# --- rollback/ as a symbolic link ----------------------------------------------------------


def test_rollback_that_is_a_symbolic_link_is_refused(home: Path, tmp_path: Path) -> None:
    first_then_second(home)
    elsewhere = tmp_path / "elsewhere"
    (home / "rollback").rename(elsewhere)
    (home / "rollback").symlink_to(elsewhere)
    leftover = elsewhere / f".config-00000009-{STAMP}.toml.abc123.tmp"
    leftover.write_bytes(b"not the home's\n")
    inside = sorted(path.name for path in elsewhere.iterdir())
    before = snapshot(home)
    refusal = (
        f"{home}/rollback is a symbolic link; rollback copies are kept only in a directory "
        "of the home itself"
    )
    assert run(home, "new", "c.example") == Result(
        1, "", f"destconfig: nothing was committed: {refusal}\n"
    )
    assert run(home, "rollback") == Result(2, "", f"destconfig: {refusal}\n")
    assert run(home, "rollback", "1") == Result(2, "", f"destconfig: {refusal}\n")
    assert run(home, "rollback", "--keep", "1") == Result(1, "", f"destconfig: {refusal}\n")
    assert run(home, stdin="rollbackconfig\nquit\n").out == (
        f"ESA> rollbackconfig\n\nThe earlier configurations cannot be read: {refusal}\n\n"
        "ESA> quit\n"
    )
    assert snapshot(home) == before
    assert not (home / "settings.toml").exists()
    assert sorted(path.name for path in elsewhere.iterdir()) == inside  # leftover too
    assert run(home, "new", "c.example", "--no-rollback") == Result(0, COMMITTED, "")
    assert sorted(path.name for path in elsewhere.iterdir()) == inside


def test_a_dangling_rollback_link_is_refused_and_not_made(home: Path, tmp_path: Path) -> None:
    ok(home, "new", "a.example", "--no-rollback")
    (home / "rollback").symlink_to(tmp_path / "nowhere")
    result = run(home, "new", "b.example")
    assert result == Result(
        1,
        "",
        f"destconfig: nothing was committed: {home}/rollback is a symbolic link; rollback "
        "copies are kept only in a directory of the home itself\n",
    )
    assert not (tmp_path / "nowhere").exists()
    assert committed_table(home) == A


# --- the shared tail of the change commands ------------------------------------------------


def test_rollback_dry_run_of_a_damaged_configuration_names_its_problems(home: Path) -> None:
    first_then_second(home)
    (home / "config.toml").write_bytes(b"[entries\n")
    before = snapshot(home)
    result = run(home, "rollback", "1", "--dry-run")
    assert (result.status, result.out) == (2, "")
    assert result.err.startswith(f"destconfig: {home}/config.toml is not a valid configuration:\n")
    assert snapshot(home) == before


def test_rollback_dry_run_as_json(home: Path) -> None:
    first_then_second(home)
    before = snapshot(home)
    dry = run(home, "rollback", "1", "--dry-run", "--format", "json")
    same = run(home, "delete", "b.example", "--dry-run", "--format", "json")
    assert dry == same
    assert (dry.status, dry.err) == (0, "")
    json.loads(dry.out)
    assert snapshot(home) == before
