"""The appliance's table file in export's own layout, read section by section.

That reading only saves time; whenever it returns values they must be exactly
those of the line-by-line reading, and whenever the line-by-line reading would
refuse the file (or read it otherwise) it must step aside. These tests hold it
to that over exported tables and over every kind of change to their text.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import esa, limits
from destconfig.formats.problems import FormatError
from destconfig.model import Entry, LimitApply, LimitType, Table, Tls
from tests.strategies import tables

BASE = esa.dumps(
    Table(bounce_profiles=("bulk",))
    .with_entry("example.com", Entry(tls=Tls.REQUIRED, bounce_profile="bulk"))
    .with_entry(
        ".example.net",
        Entry(max_host_concurrency=10, limit_type=LimitType.HOST, limit_apply=LimitApply.VG),
    )
    .with_entry("[192.0.2.1]", Entry(tls=Tls.NO))
    .with_entry("[2001:db8::1]", Entry(tls=Tls.PREFERRED))
).decode()


def agrees(text: str) -> None:
    """The exported reading says nothing, or what the line-by-line reading says."""
    fast = esa.read_exported(text)
    if fast is None:
        return
    try:
        careful = esa.read_lines(text)
    except FormatError as error:
        pytest.fail(f"read in export's layout, refused line by line: {error.problems}")
    assert fast == careful


def test_the_base_file_is_in_export_s_layout() -> None:
    assert esa.read_exported(BASE) is not None
    agrees(BASE)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(tables())
def test_every_export_is_read_in_its_layout_alike(table: Table) -> None:
    text = esa.dumps(table).decode()
    assert esa.read_exported(text) is not None
    agrees(text)
    assert esa.loads(text.encode()) == esa.loads.__wrapped__(text.encode())  # type: ignore[attr-defined]


_EDITS = st.sampled_from(
    [
        lambda line: line + " ",
        lambda line: " " + line,
        lambda line: line.upper(),
        lambda line: line.replace(" = ", "="),
        lambda line: line.replace(" = ", " =  "),
        lambda line: line + "\r",
        lambda line: "# " + line,
        lambda line: line + "\n" + line,  # a line written twice
        lambda line: "",
        lambda line: line + "\n",
        lambda line: line.replace("1", "01"),
        lambda line: line.replace("[", "[[").replace("]", "]]"),
        lambda line: line.replace("example", "Example"),
        lambda line: line.replace("192.0.2.1", "192.0.2.01"),
        lambda line: line.replace("2001:db8::1", "2001:DB8:0::1"),
        lambda line: line.replace("tls", "bounce_profile"),
        lambda line: "[DEFAULT]" if line.startswith("[") else line,
        lambda line: "[example.com]" if line.startswith("[") else line,
        lambda line: "[xn--bcher-kva.example]" if line.startswith("[") else line,
        lambda line: "[all]" if line.startswith("[") else line,
    ]
)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), _EDITS), min_size=1, max_size=3))
def test_an_edited_export_is_read_alike_or_line_by_line(
    edits: list[tuple[int, Callable[[str], str]]],
) -> None:
    lines = BASE.split("\n")
    for index, edit in edits:
        at = index % len(lines)
        lines[at] = edit(lines[at])
    agrees("\n".join(lines))


@pytest.mark.parametrize(
    "text",
    [
        BASE.rstrip("\n"),  # no final line end
        "\n" + BASE,  # a blank line first
        BASE + "\n",  # a blank line last
        BASE.replace("\n\n", "\n\n\n", 1),  # two blank lines
        BASE.replace("\n\n", "\n", 1),  # no blank line between two sections
        BASE.replace("[DEFAULT]\n", "[default]\n"),  # the DEFAULT header in another case
        BASE.replace("[DEFAULT]", "[example.org]"),  # no [DEFAULT]
        "x = 1\n" + BASE,  # a key before any section
        BASE.replace("tls = 0\n", "tls = 0\nbounce_profile = bulk\n", 1),  # a profile in DEFAULT
    ],
)
def test_other_layouts_step_aside(text: str) -> None:
    assert esa.read_exported(text) is None


@pytest.mark.parametrize(
    "text",
    [
        BASE + "\n[x.example]\n" + "tls = 1\n" * (len(esa.KEYS) + 1),  # more lines than keys
        BASE + "\n[x.example]\n" + "tls = 1\n" * len(esa.KEYS),  # as many, one written twice
        BASE.replace("\n\n", "\n\n\n"),
        BASE.replace("\n\n", "\n\n[y.example]\n", 1),  # a header right after a header
    ],
)
def test_layouts_found_out_early_step_aside(text: str) -> None:
    assert esa.read_exported(text) is None
    agrees(text)


def test_more_sections_than_a_table_may_have_entries_step_aside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sections = BASE.count("\n\n")  # the entries of BASE
    monkeypatch.setattr(limits, "MAX_ENTRIES", sections)
    assert esa.read_exported(BASE) is not None
    monkeypatch.setattr(limits, "MAX_ENTRIES", sections - 1)
    assert esa.read_exported(BASE) is None


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(tables(), st.integers(1, 40))
def test_an_export_read_a_stretch_at_a_time_reads_alike(table: Table, stretch: int) -> None:
    """However the text is cut into stretches, the sections are the same."""
    text = esa.dumps(table).decode()
    whole = esa.read_exported(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(esa, "STRETCH", stretch)
        assert esa.read_exported(text) == whole
        assert esa.read_lines(text) == whole
