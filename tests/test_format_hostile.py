"""Hostile files for the three table readers: refused quickly, in bounded memory, and
only ever with :class:`FormatError`.

A file to import may come from anywhere: a script gone wrong, a truncated copy, a
file made to hurt. Whatever it holds, ``loads`` must answer with a table or with
problems in the package's own words, in time and memory in proportion to what
it reports, never with a traceback.
"""

from __future__ import annotations

import difflib
import json as std_json
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import esa, limits, tomlparse
from destconfig.formats import json as json_format
from destconfig.formats import toml as toml_format
from destconfig.formats.limits import MAX_ENTRIES, MAX_PROBLEMS
from destconfig.formats.numbers import digits_most
from destconfig.formats.problems import FormatError, Problem, quote
from destconfig.model import Entry, LimitApply, LimitType, Table, Tls

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
TOO_MANY = f"the table has more than {MAX_ENTRIES} entries"
TOO_LONG = f"a number has more than {digits_most()} digits"

ESA_DEFAULT = (
    b"[DEFAULT]\nip_sort_pref = PREFER_V6\nmax_host_concurrency = 500\n"
    b"max_messages_per_connection = 50\nlimit_type = host\nlimit_apply = system\n"
    b"bounce_validation = 0\ntls = 0\n"
)
ESA_DEFAULT_LINES = ESA_DEFAULT.count(b"\n")


def problems_of(loads: Callable[[bytes], Table], data: bytes) -> list[Problem]:
    with pytest.raises(FormatError) as caught:
        loads(data)
    return caught.value.problems


def calls_to(function: Callable[..., Any], work: Callable[[], object]) -> int:
    """How many times *work* calls *function* (a Python function), seen by a profiler."""
    code = function.__code__
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event == "call" and frame.f_code is code:
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


# Misspelt keys: a suggestion is worked out only for a problem that is kept.

MISSPELT = b"max_host_concurency = 5\n"
SUGGESTED = 'unknown key "max_host_concurency"; did you mean max_host_concurrency?'


def misspelt_file(lines: int) -> bytes:
    return b"[DEFAULT]\n" + MISSPELT * lines


LACKS = (
    "[DEFAULT] lacks ip_sort_pref, max_host_concurrency, max_messages_per_connection, "
    "limit_type, limit_apply, bounce_validation and tls"
)
FIRST_MISSPELT = [Problem(1, LACKS)] + [Problem(n, SUGGESTED) for n in range(2, MAX_PROBLEMS + 1)]


def uncapped_problems(data: bytes) -> list[Problem]:
    """Every problem of *data*, no cap at all: the reading before any was dropped."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "MAX_PROBLEMS", 10**9)
        return problems_of(esa.loads, data)


def test_few_suggestions_are_worked_out_for_many_misspelt_keys() -> None:
    data = misspelt_file(5_000)
    found: list[Problem] = []

    def work() -> None:
        found.extend(problems_of(esa.loads, data))

    calls = calls_to(difflib.get_close_matches, work)
    assert found == FIRST_MISSPELT
    assert uncapped_problems(misspelt_file(2 * MAX_PROBLEMS))[:MAX_PROBLEMS] == FIRST_MISSPELT
    assert calls <= MAX_PROBLEMS


def test_a_large_file_of_misspelt_keys_keeps_the_first_problems() -> None:
    """200,000 misspelt keys give the first problems of a short file of the same lines
    (how long it takes is measured by the benchmarks, not here)."""
    assert problems_of(esa.loads, misspelt_file(200_000)) == FIRST_MISSPELT


# A table of more entries than a table may have is refused, and reading stops building
# entries past the limit.


def esa_sections(count: int, *, blank: bool = False) -> bytes:
    header = b"\n[a%d.example]\n" if blank else b"[a%d.example]\n"
    return ESA_DEFAULT + b"".join(header % n for n in range(count))


def toml_inline(count: int) -> bytes:
    return toml_format.dumps(Table()) + b"".join(b'"a%d.example" = {}\n' % n for n in range(count))


def toml_headers(count: int) -> bytes:
    head = toml_format.dumps(Table()).removesuffix(b"\n[entries]\n")
    return head + b"\n" + b"".join(b'[entries."a%d.example"]\n' % n for n in range(count))


def json_entries(count: int) -> bytes:
    lines = [b'"a%d.example": {}' % n for n in range(count)]
    return b'{"entries": {\n' + b",\n".join(lines) + b"\n}}\n"


def line_of_entry(data: bytes, number: int, marker: bytes) -> int:
    """The line of the *number*-th (1-based) line that starts with *marker*."""
    at = -1
    for _ in range(number):
        at = data.index(b"\n" + marker, at + 1)
    return data.count(b"\n", 0, at + 1) + 1


LAYOUTS: list[tuple[str, Callable[[int], bytes], Callable[[bytes], Table], bytes]] = [
    ("esa", esa_sections, esa.loads, b"[a"),
    ("esa-exported", lambda n: esa_sections(n, blank=True), esa.loads, b"[a"),
    ("toml", toml_inline, toml_format.loads, b'"a'),
    ("toml-headers", toml_headers, toml_format.loads, b"[entries."),
    ("json", json_entries, json_format.loads, b'"a'),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "loads", "marker"),
    [layout[1:] for layout in LAYOUTS],
    ids=[layout[0] for layout in LAYOUTS],
)
def test_one_entry_more_than_the_limit_is_refused_on_its_line(
    make: Callable[[int], bytes], loads: Callable[[bytes], Table], marker: bytes
) -> None:
    assert len(loads(make(MAX_ENTRIES)).entries) == MAX_ENTRIES
    data = make(MAX_ENTRIES + 1)
    line = line_of_entry(data, MAX_ENTRIES + 1, marker)
    assert problems_of(loads, data) == [Problem(line, TOO_MANY)]


_CHILD = textwrap.dedent(
    """
    import resource, sys
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from destconfig.formats import for_name
    from destconfig.formats.problems import FormatError
    path = sys.argv[1]
    with open(path, "rb") as file:
        data = file.read()
    try:
        for_name(path).loads(data)
    except FormatError as error:
        sys.stdout.write(repr([(p.line, p.reason) for p in error.problems]) + "\\n")
    else:
        sys.stdout.write("accepted\\n")
    """
)
_ADDRESS_SPACE = 1536 * 2**20


def _largest(make: Callable[[int], bytes]) -> tuple[bytes, int]:
    """The file of *make* nearest the size limit, and its count of entries."""
    most = limits.MAX_FILE_BYTES
    count, data = 1000, make(1000)
    while not most * 0.99 < len(data) <= most:
        count = int(count * most * 0.995 / len(data))
        data = make(count)
    return data, count


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "name", "marker"),
    [(layout[1], f"big.{layout[0].partition('-')[0]}", layout[3]) for layout in LAYOUTS],
    ids=[layout[0] for layout in LAYOUTS],
)
def test_a_file_of_millions_of_tiny_entries_is_refused_in_bounded_memory(
    tmp_path: Path, make: Callable[[int], bytes], name: str, marker: bytes
) -> None:
    """The largest file of the smallest entries (millions of them), imported with an
    address space of 1.5 GiB: refused, on the line of the first entry too many."""
    data, count = _largest(make)
    assert count > 8 * MAX_ENTRIES
    path = tmp_path / name.replace(".esa", ".cfg")
    path.write_bytes(data)
    line = line_of_entry(data, MAX_ENTRIES + 1, marker)
    del data
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(_ADDRESS_SPACE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stderr == ""
    assert result.stdout.split("\n")[0] == repr([(line, TOO_MANY)])
    assert result.returncode == 0


# Integers beyond the interpreter's int-string conversion limit.

NUMBER_PLACES: dict[str, list[tuple[str, int]]] = {
    # (document with N for the number, line of the number)
    "json": [
        ('{\n"default": {\n"max_host_concurrency": N\n}\n}\n', 3),  # a known field
        ('{\n"bogus": N\n}\n', 2),  # an unknown field
        ('{\n"certificates": [\n1,\nN\n]\n}\n', 4),  # in an array
        ('{"entries": {"a.example": {"tls": [[N]]}}}', 1),  # deep in an entry
    ],
    "toml": [
        ("[default]\nmax_host_concurrency = N\n", 2),
        ("bogus = N\n", 1),
        ("certificates = [\n  1,\n  N,\n]\n", 3),
        ('[entries]\n"a.example" = { tls = [[N]] }\n', 2),  # the chunked reading
    ],
}
LOADS = {"json": json_format.loads, "toml": toml_format.loads}


SIGNS = {"json": ["", "-"], "toml": ["", "-", "+"]}


@pytest.mark.parametrize("digits", [5_000, 100_000])
@pytest.mark.parametrize(
    ("fmt", "document", "line", "sign"),
    [
        (fmt, document, line, sign)
        for fmt, places in NUMBER_PLACES.items()
        for document, line in places
        for sign in SIGNS[fmt]
    ],
)
def test_a_number_too_long_is_a_problem_on_its_line(
    fmt: str, document: str, line: int, sign: str, digits: int
) -> None:
    number = sign + "7" * digits
    data = document.replace("N", number).encode()
    assert problems_of(LOADS[fmt], data) == [Problem(line, TOO_LONG)]
    # the same document with a short number: read, or refused for another reason
    short = document.replace("N", sign + "7").encode()
    try:
        LOADS[fmt](short)
    except FormatError as error:
        assert all(problem.reason != TOO_LONG for problem in error.problems)


def test_digits_in_strings_comments_and_keys_are_text() -> None:
    digits = "7" * 5_000
    named = f"certificates = ['{digits}']\n# {digits}\n[settings]\ncertificate = \"{digits}\"\n"
    assert toml_format.loads(named.encode()).settings.certificate == digits
    document = {"certificates": [digits], "settings": {"certificate": digits}}
    assert json_format.loads(std_json.dumps(document).encode()).settings.certificate == digits
    assert problems_of(toml_format.loads, f"{digits} = 1\n".encode()) == [
        Problem(None, f"{digits}: Extra inputs are not permitted")
    ]
    # the digits of an escape stay whole
    escaped = f'bounce_profiles = ["\\U0001F600{digits}"]\n'
    assert problems_of(toml_format.loads, escaped.encode()) == [
        Problem(None, f"bounce_profiles: invalid bounce profile name '\U0001f600{digits}'")
    ]


def test_the_first_number_too_long_is_the_one_named() -> None:
    """A fraction of too many digits in a row counts too (Python converts it, but to
    no number a table holds); digits in a string do not."""
    digits = "7" * 5_000
    toml_text = f'a = "{digits}"\nb = 1\nc = 1.{digits}\nd = {digits}\n'
    assert problems_of(toml_format.loads, toml_text.encode()) == [Problem(3, TOO_LONG)]
    json_text = f'{{"a": "{digits}",\n"b": 1,\n"c": 1.{digits},\n"d": {digits}}}'
    assert problems_of(json_format.loads, json_text.encode()) == [Problem(3, TOO_LONG)]


@pytest.mark.parametrize("digits", [5_000, 100_000])
def test_the_table_file_quotes_a_long_number_cut(digits: int) -> None:
    number = "7" * digits
    data = (
        ESA_DEFAULT + f"[a.example]\nmax_host_concurrency = {number}\nbogus = -{number}\n".encode()
    )
    shown = '"' + "7" * 60 + '..."'
    assert problems_of(esa.loads, data) == [
        Problem(ESA_DEFAULT_LINES + 1, "max_host_concurrency needs limit_type and limit_apply"),
        Problem(
            ESA_DEFAULT_LINES + 2,
            f"bad value {shown} for max_host_concurrency; use a number from 1 to 1000",
        ),
        Problem(ESA_DEFAULT_LINES + 3, f'unknown key "bogus"; the keys are {esa.LISTED_KEYS}'),
    ]


# Duplicate keys in JSON: refused, naming both lines, the first in the text first.


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{\n"settings": {},\n"settings": {}\n}',
            Problem(3, 'duplicate key "settings" (first at line 2)'),
        ),
        (
            '{"entries": {\n"a.example": {"tls": "NO",\n\n"tls": "NO"}}}',
            Problem(4, 'duplicate key "tls" (first at line 2)'),
        ),
        (
            # the outer duplicate comes first in the text, the inner object ends first
            '{"a": 1,\n"a": 2,\n"b": {"x": 1,\n"x": 2}}',
            Problem(2, 'duplicate key "a" (first at line 1)'),
        ),
        ('{"tls": 1, "t\\u006cs": 2}', Problem(1, 'duplicate key "tls" (first at line 1)')),
        (
            '{"entries": {"a.example": {}, "b.example": {},\n"a.example": {}}}',
            Problem(2, 'duplicate key "a.example" (first at line 1)'),
        ),
        (
            '[{"k": 1}, {"k": 1, "\\u001b[31m": 2, "\\u001b[31m": 3}]',
            Problem(1, 'duplicate key "\\x1b[31m" (first at line 1)'),
        ),
    ],
)
def test_a_json_key_written_twice_is_refused(text: str, problem: Problem) -> None:
    assert problems_of(json_format.loads, text.encode()) == [problem]


def test_a_json_duplicate_before_a_syntax_error_is_the_one_named() -> None:
    assert problems_of(json_format.loads, b'{"a": 1,\n"a": 2,\n"b": }') == [
        Problem(2, 'duplicate key "a" (first at line 1)')
    ]
    assert problems_of(json_format.loads, b'{"b": ,\n"a": 1,\n"a": 2}') == [
        Problem(1, "Expecting value")
    ]


def test_the_same_key_in_different_json_objects_is_fine() -> None:
    text = '{"entries": {"a.example": {"tls": "NO"}, "b.example": {"tls": "NO"}}}'
    assert len(json_format.loads(text.encode()).entries) == 2


def test_toml_refuses_a_key_written_twice_on_its_line() -> None:
    data = b"[settings]\ntls_alert = true\ntls_alert = false\n"
    assert problems_of(toml_format.loads, data) == [Problem(3, "Cannot overwrite a value")]


# Any bytes at all: a table or FormatError, nothing else.

_SEEDS = {
    "destinations.cfg": esa.loads,
    "destinations-annotated.cfg": esa.loads,
    "destinations.toml": toml_format.loads,
    "destinations.json": json_format.loads,
}
# fmt: off
_PIECES = [
    b"[", b"]", b"{", b"}", b'"', b"'", b"'''", b'"""', b"=", b",", b":", b"\n", b"\r\n",
    b"\\", b"\\u", b"\\ud800", b"#", b";", b"\x00", b"\x7f", b"\xff", b"\xef\xbb\xbf",
    b"\xe2\x80\xae", b"7" * 4_400, b"-" + b"9" * 4_301, b"0x" + b"f" * 5_000, b"1e99999",
    b"nan", b"inf", b"1979-05-27T07:32:60", b"0000-01-01", b"24:00:00", b"true", b"null",
    b"[DEFAULT]", b"[entries]", b"[[entries]]", b'"entries"', b"tls", b"tls = 9",
    b"max_host_concurrency", b"[" * 300, b"{" * 300, b"xn--", b"xn--a", b".", b"..",
    b"[::1]", b"[192.0.2.1]", b"\xf0\x9f\x92\xa9", b"a" * 300,
]
# fmt: on


_NUMBER = re.compile(rb"[0-9]+")


def _mutated(seed: bytes, edits: list[tuple[int, int, int, int]]) -> bytes:
    data = seed
    for where, kind, piece, span in edits:
        at = where % (len(data) + 1)
        if kind == 0:  # insert a piece
            data = data[:at] + _PIECES[piece % len(_PIECES)] + data[at:]
        elif kind == 1:  # delete a span
            data = data[:at] + data[at + span :]
        elif kind == 2:  # repeat a span
            data = data[:at] + data[at : at + span] * 3 + data[at:]
        elif kind == 3:  # flip a byte
            if at < len(data):
                data = data[:at] + bytes([data[at] ^ (1 + piece % 255)]) + data[at + 1 :]
        elif kind == 4:  # cut the file short
            data = data[:at]
        elif kind == 5:  # a number made another piece
            numbers = list(_NUMBER.finditer(data))
            if numbers:
                number = numbers[where % len(numbers)]
                replacement = _PIECES[piece % len(_PIECES)]
                data = data[: number.start()] + replacement + data[number.end() :]
        else:  # a line written again after the next one
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            after = data.find(b"\n", end + 1) if end >= 0 else -1
            if after >= 0:
                data = data[: after + 1] + data[start : end + 1] + data[after + 1 :]
    return data


def _answers_in_its_own_words(loads: Callable[[bytes], Table], data: bytes) -> None:
    try:
        loads(data)
    except FormatError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line is None or 1 <= problem.line <= data.count(b"\n") + 1
            assert problem.reason.isprintable(), problem


_EDIT = st.tuples(
    st.integers(0, 2**20), st.integers(0, 6), st.integers(0, 255), st.integers(1, 200)
)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_SEEDS))
@settings(max_examples=250, deadline=None)
@given(edits=st.lists(_EDIT, min_size=1, max_size=5))
def test_a_mutated_example_is_read_or_refused_in_words(
    name: str, edits: list[tuple[int, int, int, int]]
) -> None:
    seed = (EXAMPLES / name).read_bytes()
    _answers_in_its_own_words(_SEEDS[name], _mutated(seed, edits))


@pytest.mark.parametrize("name", sorted(_SEEDS))
def test_random_bytes_in_an_example_are_read_or_refused_in_words(name: str) -> None:
    seed = (EXAMPLES / name).read_bytes()
    rng = random.Random(name)
    for _ in range(150):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        _answers_in_its_own_words(_SEEDS[name], bytes(data))


# The shortcuts taken above, held to the plain readings.

_ESA_LINES = st.sampled_from(
    [
        "[DEFAULT]",
        "[default]",
        "[a.example]",
        "[b.example]",
        "[A.Example]",
        "[bad name]",
        "[c.example",
        "[192.0.2.1]",
        "tls = 1",
        "tls = 9",
        "TLS = 2",
        "tsl = 1",
        "bogus = 1",
        "max_host_concurency = 5",
        "max_host_concurrency = 10",
        "recipient_limit = 5",
        "limit_type = host",
        "bounce_profile = bulk",
        "no equals sign",
        "= 1",
        "# comment",
        "",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ESA_LINES, max_size=40), st.integers(1, 6))
def test_the_first_problems_are_those_of_the_reading_that_keeps_them_all(
    lines: list[str], most: int
) -> None:
    """With only the first *most* problems kept (and lines after them skimmed), they
    are the first *most* of the reading that keeps every problem."""
    data = "\n".join(lines).encode()
    everything = _esa_problems(data, problems=10**9)
    if everything is None:
        return
    assert _esa_problems(data, problems=most) == everything[:most]


def _esa_problems(
    data: bytes, *, problems: int, entries: int = MAX_ENTRIES
) -> list[Problem] | None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "MAX_PROBLEMS", problems)
        patch.setattr(limits, "MAX_ENTRIES", entries)
        try:
            esa.loads(data)
        except FormatError as error:
            return error.problems
    return None


_ESA_BODIES = st.lists(
    st.sampled_from(["tls = 1", "tls = 9", "tsl = 1", "recipient_limit = 5", "tls = 2"]),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ESA_BODIES, min_size=1, max_size=12), st.integers(0, 6), st.booleans())
def test_sections_past_the_limit_are_checked_as_ever(
    bodies: list[list[str]], most: int, blank: bool
) -> None:
    """Past the limit, a reading reports what it reports without one, and the limit
    on the line of the first section too many (before that section's own problems)."""
    sections = [["[DEFAULT]", *ESA_DEFAULT.decode().splitlines()[1:]]] + [
        [f"[s{number}.example]", *body] for number, body in enumerate(bodies)
    ]
    text = ("\n\n" if blank else "\n").join("\n".join(section) for section in sections) + "\n"
    unlimited = _esa_problems(text.encode(), problems=10**9) or []
    limited = _esa_problems(text.encode(), problems=10**9, entries=most)
    if len(bodies) <= most:
        assert limited == (unlimited or None)
        return
    line = text.split("\n").index(f"[s{most}.example]") + 1
    position = next((n for n, p in enumerate(unlimited) if (p.line or 0) >= line), len(unlimited))
    expected = [*unlimited[:position], Problem(line, too_many(most)), *unlimited[position:]]
    assert limited == expected


def too_many(most: int) -> str:
    return f"the table has more than {most} entries"


@settings(max_examples=300, deadline=None)
@given(
    st.text("ab\n\n\n", max_size=40),
    st.sampled_from(["\n", "\n\n"]),
    st.integers(1, 4),
    st.integers(0, 45),
)
def test_a_text_split_a_stretch_at_a_time_splits_alike(
    text: str, separator: str, stretch: int, end: int
) -> None:
    if separator == "\n\n" and "\n\n\n" in text:
        return  # (the reading in export's layout leaves such a text to the other)
    end = min(end, len(text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(esa, "STRETCH", stretch)
        got = list(esa.split_in_stretches(text, separator, end))
        assert got == text[:end].split(separator)


def _toml_layouts(keys: list[str], spread: bool) -> list[str]:
    """One document of these entries in each of several layouts (*spread*: values
    that go on over several lines)."""
    value = 'tls = """\\\nNO"""' if spread else 'tls = "NO"'
    quoted = [std_json.dumps(key) for key in keys]
    return [
        "[entries]\n" + "".join(f"{key} = {{ {value} }}\n" for key in quoted),
        "".join(f"[entries.{key}]\n{value}\n" for key in quoted),
        "[entries]\n" + "".join(f"{key}.{value}\n" for key in quoted),
        "certificates = [\n"
        + '"Demo",\n' * 3
        + "]\n"
        + "".join(f"entries.{key}.{value}\n# {key}\n\n" for key in quoted),
        "".join(f"[entries.{key}]\n" for key in quoted) + "[settings]\ntls_alert = true\n",
    ]


@pytest.mark.slow
@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["a.example", "b.example", "c.example", "[192.0.2.1]", "d.example", "x\\y", "e.example"]
        ),
        min_size=1,
        max_size=14,
    ),
    st.integers(0, 8),
    st.integers(1, 80),
    st.booleans(),
)
def test_toml_entries_counted_a_piece_at_a_time_are_those_of_the_whole_document(
    keys: list[str], most: int, chunk: int, spread: bool
) -> None:
    keys = list(dict.fromkeys(keys))  # distinct: a key written twice is another problem
    layouts = _toml_layouts(keys, spread)
    for text in [*layouts, *(layout.replace("\n", "\r\n") for layout in layouts)]:
        whole = tomlparse.parse(text)["entries"]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(limits, "MAX_ENTRIES", most)
            patch.setattr(tomlparse, "PIECE", chunk)
            counted = tomlparse.entries_beyond(text)
        if len(whole) <= most:
            assert counted is None, text
            continue
        first_beyond = std_json.dumps(list(whole)[most])
        line = next(
            number
            for number, written in enumerate(text.split("\n"), 1)
            if first_beyond in written and not written.startswith("#")
        )
        assert counted == Problem(line, too_many(most)), text


_JSON_SEED = json_format.dumps(
    Table(bounce_profiles=("bulk",))
    .with_entry("a.example", Entry(tls=Tls.NO, bounce_profile="bulk"))
    .with_entry(
        "b.example",
        Entry(max_host_concurrency=5, limit_type=LimitType.HOST, limit_apply=LimitApply.VG),
    )
).decode()


@settings(max_examples=400, deadline=None)
@given(st.lists(_EDIT, min_size=1, max_size=4))
def test_the_json_walk_agrees_with_the_parser(edits: list[tuple[int, int, int, int]]) -> None:
    """Where the parser reads a text, the walk finds a problem exactly when a key is
    written twice (and names one that is); where the parser refuses it, the walk finds
    nothing, or a problem before the parser's."""
    text = _mutated(_JSON_SEED.encode(), edits).decode("utf-8", "replace")
    walked = json_format.first_problem(text)
    twice: list[str] = []

    def pairs(found: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in found]
        twice.extend(key for number, key in enumerate(keys) if key in keys[:number])
        return dict(found)

    try:
        std_json.loads(text, object_pairs_hook=pairs)
    except std_json.JSONDecodeError as error:
        assert walked is None or (walked.line or 0) <= error.lineno
        return
    except (ValueError, RecursionError):
        assert walked is not None
        return
    if not twice:
        assert walked is None
    else:
        assert walked is not None
        assert any(walked.reason.startswith(f"duplicate key {quote(key)} ") for key in twice)


def test_a_long_number_in_a_later_piece_of_toml_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with long runs of digits is read a piece at a time, as ever: a run in a
    string is text; a run that is a number is named, wherever the piece."""
    digits = "7" * 5_000
    entries = "".join(f'"a{n}.example" = {{ tls = "NO" }}\n' for n in range(40))
    text = f'certificates = ["{digits}"]\n[settings]\ncertificate = "{digits}"\n[entries]\n'
    monkeypatch.setattr(tomlparse, "PIECE", 64)
    assert len(toml_format.loads((text + entries).encode()).entries) == 40
    late = text + entries + f'"b.example" = {{ tls = "NO", bogus = [{digits}] }}\n'
    assert problems_of(toml_format.loads, late.encode()) == [Problem(45, TOO_LONG)]


def test_toml_entries_the_pieces_cannot_count_are_counted_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "certificates = [\n" + '"Demo",\n' * 20 + "]\n[entries]\n"
    text += "".join(f'"a{n}.example" = {{}}\n' for n in range(3))
    monkeypatch.setattr(limits, "MAX_ENTRIES", 2)
    monkeypatch.setattr(tomlparse, "PIECE", 4)
    monkeypatch.setattr(tomlparse, "PIECE_MOST", 8)  # the array is longer
    assert tomlparse.in_pieces(text) == (None, False)
    assert problems_of(toml_format.loads, text.encode()) == [Problem(None, too_many(2))]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"entries": {"a.example": 1,\n"b.example": null,\n"c.example": "x"}}', 3),
        ('{"entries": {"a.example": {}, "b.example": {}}, "x": {"entries": {"c": {}}}}', None),
        ('{"x": {"entries": {"a": {}, "b": {}, "c": {}}}}', None),
        ('[{"entries": {"a": {}, "b": {}, "c": {}}}]', None),
    ],
)
def test_the_json_walk_counts_the_document_s_entries_only(
    monkeypatch: pytest.MonkeyPatch, text: str, line: int | None
) -> None:
    """Three entries of any value are one too many for a limit of two; objects called
    "entries" elsewhere are not the table's."""
    monkeypatch.setattr(limits, "MAX_ENTRIES", 2)
    if line is None:
        assert json_format.first_problem(text) is None
    else:
        assert json_format.first_problem(text) == Problem(line, too_many(2))
        assert problems_of(json_format.loads, text.encode()) == [Problem(line, too_many(2))]
