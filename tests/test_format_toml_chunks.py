"""config.toml read in chunks: the same table, or the same problems, as reading it whole.

The chunked reading is only a way to hold less in memory; whenever it cannot be
sure (another layout, any problem), the whole-file reading decides. These tests
pin that the two never disagree.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import limits, tomlparse
from destconfig.formats import toml as toml_format
from destconfig.formats.problems import FormatError, decoded
from destconfig.model import Entry, IpSort, Table, Tls
from tests.strategies import tables

CHUNK = tomlparse.CHUNK


def in_chunks(data: bytes) -> Table | None:
    return toml_format.in_chunks(data.decode("utf-8"))


def whole(data: bytes) -> Table:
    """The reading the chunked one must agree with."""
    return toml_format.from_document(tomlparse.parse(decoded(data)))


def big_table(size: int) -> Table:
    entries = {
        f"host{number}.example.com": Entry(
            tls=list(Tls)[number % 6], ip_sort_pref=IpSort.PREFER_V4 if number % 3 else None
        )
        for number in range(size)
    }
    return Table(entries=entries)


def problems(data: bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(FormatError) as raised:
        toml_format.loads(data)
    return [(p.line, p.reason) for p in raised.value.problems]


def whole_problems(data: bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(FormatError) as raised:
        whole(data)
    return [(p.line, p.reason) for p in raised.value.problems]


def test_a_table_of_several_chunks_reads_back_in_chunks() -> None:
    table = big_table(2 * CHUNK + 7)
    data = toml_format.dumps(table)
    chunked = in_chunks(data)
    assert chunked is not None  # the layout dumps writes is the one read in chunks
    assert chunked == table
    assert toml_format.loads(data) == table


def test_the_factory_table_and_an_empty_entries_table_read_in_chunks() -> None:
    data = toml_format.dumps(Table())
    assert in_chunks(data) == Table()


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(tables())
def test_chunked_and_whole_readings_agree(table: Table) -> None:
    data = toml_format.dumps(table)
    assert in_chunks(data) == whole(data) == table


def _with_entry_line(data: bytes, line: bytes) -> bytes:
    return data + line + b"\n"


def test_a_key_written_twice_in_two_chunks_is_the_whole_reading_s_problem() -> None:
    data = toml_format.dumps(big_table(CHUNK + 1))
    twice = _with_entry_line(data, b'"host0.example.com" = { tls = "NO" }')
    assert in_chunks(twice) is None
    assert problems(twice) == whole_problems(twice)
    assert problems(twice)[0][0] is not None  # the line of the second one


@pytest.mark.parametrize(
    "line",
    [
        b'"late.example.com" = { tls = "SOMETIMES" }',  # a bad value in the last chunk
        b'"Late.Example.com" = { tls = "NO" }',  # a key not in its stored form
        b'"late.example.com" = { recipient_limit = 5 }',  # a rule across keys
        b'"late.example.com" = { bounce_profile = "unknown" }',  # a reference
        b'"late.example.com" = { tls = "NO" ',  # a syntax error
    ],
)
def test_a_problem_in_a_later_chunk_is_worded_as_reading_whole(line: bytes) -> None:
    data = _with_entry_line(toml_format.dumps(big_table(CHUNK + 3)), line)
    assert in_chunks(data) is None
    assert problems(data) == whole_problems(data)


@pytest.mark.parametrize(
    "data",
    [
        # a table after the entries, or a table of one entry: the whole reading decides
        b'[entries]\n"a.example.com" = { tls = "NO" }\n[settings]\ntls_alert = true\n',
        b'x = 1\n[entries]\n"a.example.com" = { tls = "NO" }\n[foo]\ntls = "NO"\n',
        b'x = 1\n[entries]\n"a.example.com" = { tls = "NO" }\n  [foo]\ntls = "NO"\n',
        b'x = 1\n[entries]\n"a.example.com" = { tls = "NO" }\n\t[[foo]]\ntls = "NO"\n',
        b'x = 1\n[entries]\n[entries."a.example.com"]\ntls = "NO"\n',
        b'[entries]\n"a.example.com" = { tls = "NO" }\n',  # no line before [entries]
    ],
)
def test_a_table_header_after_the_entries_is_read_whole(data: bytes) -> None:
    assert in_chunks(data) is None
    assert_same_reading(data)


@pytest.mark.parametrize(
    "data",
    [
        # other ways of writing entries: read in chunks, or whole, but alike
        b'x = 1\n[entries]\n"a.example.com" = { tls = "NO" } # partner\n',
        b'x = 1\n[entries]\n# a comment\n\n"a.example.com" = { tls = "NO" }\n',
        b'x = 1\n[entries]\n"a\\u002eexample.com" = { tls = "NO" }\n',
        b'x = 1\n[entries]\n"a.example.com" = { tls = "NO" }',  # no final line end
        b'x = 1\n[entries]\n"a.example.com".tls = "NO"\n',
        b'x = 1\n[entries]\n"a.example.com" = {tls="NO"}\r\n',
        b'certificates = ["Demo"]\n[entries]\n"a.example.com" = { tls = "NO" }\n',
        b'[settings]\ntls_alert = true\n[entries]\n"a.example.com" = { tls = "NO" }\n',
    ],
)
def test_other_ways_of_writing_entries_read_alike(data: bytes) -> None:
    assert_same_reading(data)


def assert_same_reading(data: bytes) -> None:
    """loads (chunked when it can) and the whole reading give one table or one error."""
    try:
        expected = whole(data)
    except FormatError:
        assert problems(data) == whole_problems(data)
        return
    assert toml_format.loads(data) == expected
    chunked = in_chunks(data)
    assert chunked is None or chunked == expected


def test_a_value_cut_between_chunks_is_read_whole() -> None:
    """A value that spans lines, cut by a chunk's end, is left to the whole reading."""
    table = big_table(CHUNK + 5)
    text = toml_format.dumps(table).decode()
    head, marker, body = text.partition("\n[entries]\n")
    lines = body.split("\n")
    # The chunk's last entry, its value continued on the next line (a line-ending
    # backslash in a multi-line string joins the lines): valid TOML, cut in two.
    key = lines[CHUNK - 1].partition(" = ")[0]
    lines[CHUNK - 1] = f'{key} = {{ ip_sort_pref = """\\\nPREFER_V4""" }}'
    data = (head + marker + "\n".join(lines)).encode()
    assert in_chunks(data) is None
    expected = whole(data)  # a valid table, read whole
    assert expected.entries[key.strip('"')].ip_sort_pref is IpSort.PREFER_V4
    assert toml_format.loads(data) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_after_the_entries_header_agree(tail: bytes) -> None:
    assert_same_reading(toml_format.dumps(big_table(3)) + tail)


def test_no_more_entries_than_a_table_may_have_are_read_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chunked reading stops past the limit; the count a piece at a time names the
    line of the first entry beyond it."""
    data = toml_format.dumps(big_table(2 * CHUNK + 7))
    monkeypatch.setattr(limits, "MAX_ENTRIES", 2 * CHUNK + 7)
    assert in_chunks(data) == big_table(2 * CHUNK + 7)
    monkeypatch.setattr(limits, "MAX_ENTRIES", CHUNK + 1)
    assert in_chunks(data) is None
    header = data.decode().split("\n").index("[entries]") + 1  # its line
    assert problems(data) == [
        (header + CHUNK + 2, f"the table has more than {CHUNK + 1} entries")  # entry CHUNK + 2
    ]
