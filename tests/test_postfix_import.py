"""Importing a Postfix directory that is hostile or hand-edited: every problem a
line-numbered error (never a traceback), reading bounded in lines, entries and bytes,
and edits read as Postfix reads them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from destconfig.formats import limits, postfix
from destconfig.formats.postfix import DEFAULT_KEY, PostfixError
from destconfig.model import DefaultEntry, Entry, LimitApply, LimitType, Table, Tls
from tests.helpers import run_cli, run_process

DIR = "/etc/postfix/destconfig"
LIMITED = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}
CHILD_MEMORY = 1024 * 2**20  # the address space an import of a refused file runs in


def problems(files: dict[str, bytes]) -> dict[str, list[tuple[int | None, str]]]:
    with pytest.raises(PostfixError) as raised:
        postfix.parse(files, DIR)
    return {
        name: [(problem.line, problem.reason) for problem in found]
        for name, found in raised.value.problems.items()
    }


def exported(table: Table) -> dict[str, bytes]:
    return dict(postfix.render(table, DIR).files)


def line_of(data: bytes, start: bytes) -> int:
    """The number of the first line of *data* that starts with *start*."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.startswith(start):
            return number
    raise AssertionError(start)


def test_a_comment_nested_too_deeply_is_an_error_on_its_line() -> None:
    files = exported(Table(entries={"a.example": Entry(tls=Tls.REQUIRED)}))
    deep = b"[" * 200_000 + b"]" * 200_000
    files["tls_policy"] = files["tls_policy"].replace(
        b'# destconfig a.example {"tls":"REQUIRED"}', b"# destconfig a.example " + deep
    )
    assert problems(files) == {"tls_policy": [(2, postfix.NESTED_COMMENT)]}


def test_a_comment_nested_too_deeply_ends_the_command_with_its_error(tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    target.mkdir()
    (target / "tls_policy").write_bytes(
        b"# destconfig a.example " + b"{" * 1 + b'"x":' + b"[" * 200_000 + b"\n"
    )
    done = run_cli(tmp_path / "home", "import", str(target), "--format", "postfix")
    assert (done.status, done.out) == (1, "")
    assert done.err == (
        f'destconfig: Error in "{target}/tls_policy" line 1: {postfix.NESTED_COMMENT}\n'
        "destconfig: The table was not changed.\n"
    )


def test_an_edited_limit_beyond_the_tables_range_is_an_error_on_its_line() -> None:
    table = Table(
        default=DefaultEntry(recipient_limit=30, recipient_minutes=1),
        entries={"a.example": Entry(recipient_limit=30, recipient_minutes=1, **LIMITED)},
    )
    files = exported(table)
    main = files["main.cf"]
    for name in (b"dc_r2per5s_destination_recipient_limit", b"default_destination_recipient_limit"):
        main = main.replace(name + b" = 2\n", name + b" = 9999999999\n")
    files["main.cf"] = main
    transport_line = line_of(files["transport"], b"a.example ")
    default_line = line_of(main, b"default_destination_recipient_limit = ")
    too_many = "recipient_limit: Input should be less than or equal to 1000000000"
    assert problems(files) == {
        "transport": [(transport_line, f"a.example: {too_many}")],
        "main.cf": [(default_line, f"{DEFAULT_KEY}: {too_many}")],
    }


def test_an_edited_line_is_named_by_its_file_and_line() -> None:
    table = Table(
        default=DefaultEntry(max_host_concurrency=20),
        entries={"a.example": Entry(max_host_concurrency=3, **LIMITED)},
    )
    files = exported(table)
    files["transport"] = files["transport"].replace(b"a.example dc_c3:", b"a.example smtp:")
    files["main.cf"] = files["main.cf"].replace(
        b"default_destination_concurrency_limit = 20", b"default_destination_concurrency_limit = 7"
    )
    imported = postfix.parse(files, DIR)
    assert imported.table.entries == {"a.example": Entry()}  # routed as the default entry
    assert imported.table.default.max_host_concurrency == 7
    main_line = line_of(files["main.cf"], b"default_destination_concurrency_limit")
    assert imported.warnings == [
        f"transport line {line_of(files['transport'], b'a.example')}: a.example: "
        "max_host_concurrency: the Postfix line differs from its comment; the line is taken",
        f"main.cf line {main_line}: (Default): max_host_concurrency: the parameter differs "
        "from its comment; the parameter is taken",
    ]


def test_a_second_line_for_a_key_is_read_as_postmap_reads_it() -> None:
    """postmap warns of a duplicate key and keeps its first line."""
    files = {
        "tls_policy": b"a.example encrypt\nA.Example none\n",
        "transport": b"b.example smtp:\nb.example smtp:\n",
    }
    imported = postfix.parse(files, DIR)
    assert imported.table.entries == {"a.example": Entry(tls=Tls.REQUIRED), "b.example": Entry()}
    assert imported.warnings == [
        "tls_policy line 2: a.example: a second line for the destination; line 1 is taken",
        "transport line 2: b.example: a second line for the destination; line 1 is taken",
        "tls_policy line 1: a.example: tls: read approximately from Postfix",
    ]


def test_an_ipv6_map_key_is_the_address_it_tags() -> None:
    key = "[2001:db8::1]"
    table = Table(entries={key: Entry(tls=Tls.REQUIRED, max_host_concurrency=3, **LIMITED)})
    files = exported(table)
    assert b"\n[ipv6:2001:db8::1] encrypt\n" in files["tls_policy"]
    assert b"\n[ipv6:2001:db8::1] dc_c3:\n" in files["transport"]
    assert postfix.parse(files, DIR).table == table
    hand_written = {"tls_policy": b"[IPv6:2001:DB8:0::1] encrypt\n"}
    assert postfix.parse(hand_written, DIR).table.entries == {key: Entry(tls=Tls.REQUIRED)}


def test_a_map_of_one_entry_too_many_is_refused_on_that_line() -> None:
    most = limits.MAX_ENTRIES
    data = b"".join(b"d%d.example encrypt\n" % number for number in range(most + 1))
    started = time.monotonic()
    found = problems({"tls_policy": b"# a comment\n\n" + data})
    assert time.monotonic() - started < 10
    assert found == {"tls_policy": [(most + 3, f"the table has more than {most} entries")]}


def test_a_file_of_too_many_lines_is_refused_before_it_is_read() -> None:
    most = 8 * limits.MAX_ENTRIES
    found = problems({"tls_policy": b"a.example encrypt\n" + b"#\n" * most})
    assert found == {"tls_policy": [(None, f"the file has more than {most} lines")]}


def _sixty_megabytes(path: Path) -> None:
    """A hand-written tls_policy of 60 MB: 900,000 destinations of 66 bytes a line."""
    padding = b"x" * 40
    with path.open("wb") as stream:
        for block in range(90):
            stream.write(
                b"".join(
                    b"d%07d.%s.example encrypt\n" % (block * 10_000 + number, padding)
                    for number in range(10_000)
                )
            )


def _too_large(path: Path) -> None:
    with path.open("wb") as stream:
        line = b"a.example encrypt\n" * 1000
        written = 0
        while written <= limits.MAX_FILE_BYTES:
            stream.write(line)
            written += len(line)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_sixty_megabytes, "line 250001: the table has more than 250000 entries"),
        (_too_large, f"the file is larger than {limits.MAX_FILE_BYTES} bytes"),
    ],
    ids=["sixty-megabytes", "beyond-the-byte-limit"],
)
def test_a_large_hand_written_map_is_refused_in_bounded_time_and_memory(
    tmp_path: Path, make: object, reason: str
) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "new", "keep.example", "--tls", "no").status == 0
    before = (home / "config.toml").read_bytes()
    target = tmp_path / "postfix"
    target.mkdir()
    assert callable(make)
    make(target / "tls_policy")
    started = time.monotonic()
    done = run_process(
        home, "import", str(target), "--format", "postfix", stdin="", text=True, memory=CHILD_MEMORY
    )
    seconds = time.monotonic() - started
    where = f'destconfig: Error in "{target}/tls_policy"'
    assert (done.returncode, done.stdout) == (1, "")
    separator = " " if reason.startswith("line") else ": "
    assert done.stderr == f"{where}{separator}{reason}\ndestconfig: The table was not changed.\n"
    assert seconds < 20
    assert (home / "config.toml").read_bytes() == before


def test_a_changed_default_level_makes_the_lines_under_a_pattern_overrides() -> None:
    """The line written for an entry at Default under a pattern holds the default entry's
    level of the export: with smtp_tls_security_level changed, Postfix keeps applying that
    line, so the entry now has that level of its own."""
    table = Table(
        default=DefaultEntry(tls=Tls.PREFERRED),
        entries={".example.com": Entry(tls=Tls.REQUIRED), "a.example.com": Entry()},
    )
    files = exported(table)
    files["main.cf"] = files["main.cf"].replace(
        b"smtp_tls_security_level = may\n", b"smtp_tls_security_level = none\n"
    )
    imported = postfix.parse(files, DIR)
    assert imported.table.default.tls is Tls.NO
    assert imported.table.entries == {
        ".example.com": Entry(tls=Tls.REQUIRED),
        "a.example.com": Entry(tls=Tls.PREFERRED),
    }
    policy_line = line_of(files["tls_policy"], b"a.example.com may")
    main_line = line_of(files["main.cf"], b"smtp_tls_security_level")
    assert imported.warnings == [
        f"tls_policy line {policy_line}: a.example.com: tls: the Postfix line differs from its "
        "comment; the line is taken",
        f"main.cf line {main_line}: (Default): tls: the parameter differs from its comment; "
        "the parameter is taken",
    ]


def test_an_unknown_attribute_of_a_policy_line_is_a_warning_naming_its_line() -> None:
    files = {"tls_policy": b"a.example dane junk=1\nb.example verify match=hostname junk\n"}
    imported = postfix.parse(files, DIR)
    assert imported.warnings == [
        'tls_policy line 1: a.example: "junk=1" is not an attribute Postfix knows; it is not kept',
        'tls_policy line 2: b.example: "junk" is not an attribute Postfix knows; it is not kept',
        "tls_policy line 1: a.example: tls: read approximately from Postfix",
        "tls_policy line 1: a.example: dane: read approximately from Postfix",
        "tls_policy line 2: b.example: tls: read approximately from Postfix",
    ]
