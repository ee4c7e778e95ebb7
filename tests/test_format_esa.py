"""The appliance's table file: golden export, accepted variants, and the broken-file corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from destconfig.formats import esa, limits
from destconfig.formats.limits import MAX_PROBLEMS
from destconfig.formats.problems import FormatError, Problem
from destconfig.model import (
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Table,
    Tls,
)
from tests.helpers import run_session

BROKEN = sorted((Path(__file__).parent / "data" / "esa-broken").glob("*.cfg"))

KNOWN = Table(
    bounce_profiles=("bulk", "partners"),
    default=DefaultEntry(
        recipient_limit=500, recipient_minutes=60, tls=Tls.PREFERRED, bounce_validation=True
    ),
    entries={
        "example.com": Entry(tls=Tls.REQUIRED),
        ".example.net": Entry(
            max_host_concurrency=10,
            limit_type=LimitType.MXIP,
            limit_apply=LimitApply.VG,
            bounce_profile="bulk",
        ),
        "[192.0.2.25]": Entry(ip_sort_pref=IpSort.REQUIRE_V4, bounce_validation=False),
        "[2001:db8::1]": Entry(
            max_messages_per_connection=5,
            recipient_limit=0,
            recipient_minutes=1,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
            tls=Tls.REQUIRED_VERIFY_HOSTED,
        ),
    },
)

KNOWN_BYTES = b"""[DEFAULT]
ip_sort_pref = PREFER_V6
max_host_concurrency = 500
max_messages_per_connection = 50
recipient_minutes = 60
recipient_limit = 500
limit_type = host
limit_apply = system
bounce_validation = 1
tls = 1

[.example.net]
max_host_concurrency = 10
limit_type = MXIP
limit_apply = VG
bounce_profile = bulk

[192.0.2.25]
ip_sort_pref = REQUIRE_V4
bounce_validation = 0

[2001:db8::1]
max_messages_per_connection = 5
recipient_minutes = 1
recipient_limit = 0
limit_type = host
limit_apply = system
tls = 5

[example.com]
tls = 2
"""


def test_export_of_a_known_table_is_exact() -> None:
    assert esa.dumps(KNOWN) == KNOWN_BYTES


def test_import_of_the_export_gives_the_table_back() -> None:
    loaded = esa.loads(KNOWN_BYTES)
    assert loaded.default == KNOWN.default
    assert loaded.entries == KNOWN.entries
    assert loaded.bounce_profiles == ("bulk",)  # only the profiles the file uses


def test_factory_table_export() -> None:
    assert esa.dumps(Table()) == (
        b"[DEFAULT]\nip_sort_pref = PREFER_V6\nmax_host_concurrency = 500\n"
        b"max_messages_per_connection = 50\nlimit_type = host\nlimit_apply = system\n"
        b"bounce_validation = 0\ntls = 0\n"
    )


def test_accepts_words_numbers_any_case_comments_bom_crlf_and_brackets() -> None:
    text = (
        "\ufeff# exported by hand\r\n"
        "; another comment\r\n"
        "[default]\r\n"
        "IP_SORT_PREF = prefer_v4\r\n"
        "  max_host_concurrency=500  \r\n"
        "max_messages_per_connection = 50\r\n"
        "limit_type = 1\r\n"
        "limit_apply = vg\r\n"
        "bounce_validation = ON\r\n"
        "tls = required_verify\r\n"
        "\r\n"
        "[[192.0.2.25]]\r\n"
        "tls = 3\r\n"
        "[Bücher.Example]\r\n"
        "bounce_validation = Off\r\n"
        "recipient_minutes = 5\r\n"
        "recipient_limit = 0100\r\n"
        "limit_type = HOST\r\n"
        "limit_apply = 0\r\n"
        "[2001:DB8:0:0::1]"  # the last line may lack its line ending
    )
    table = esa.loads(text.encode("utf-8"))
    assert table.default == DefaultEntry(
        ip_sort_pref=IpSort.PREFER_V4,
        limit_type=LimitType.MXIP,
        limit_apply=LimitApply.VG,
        bounce_validation=True,
        tls=Tls.REQUIRED_VERIFY,
    )
    assert table.entries == {
        "[192.0.2.25]": Entry(tls=Tls.PREFERRED_VERIFY),
        "xn--bcher-kva.example": Entry(
            bounce_validation=False,
            recipient_minutes=5,
            recipient_limit=100,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
        ),
        "[2001:db8::1]": Entry(),
    }


@pytest.mark.parametrize("path", BROKEN, ids=lambda path: path.name)
def test_broken_file_reports_every_error(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        esa.loads(path.read_bytes())
    lines = [
        f'Error in "{path.name}" line {problem.line}: {problem.reason}'
        for problem in caught.value.problems
    ]
    assert "".join(line + "\n" for line in lines) == expected
    numbers = [problem.line for problem in caught.value.problems]
    assert numbers == sorted(numbers)


def test_the_shell_shows_at_most_ten_errors(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    (directory / "big.cfg").write_bytes((BROKEN[0].parent / "many-errors.cfg").read_bytes())
    out = run_session(tmp_path, "destconfig\nimport\nbig.cfg\n\n").stdout
    shown = [line for line in out.split("\n") if line.startswith('Error in "big.cfg" line ')]
    assert len(shown) == 10
    assert shown[-1].startswith('Error in "big.cfg" line 10: unknown key "bogus8"')
    assert "\nThe table was not changed.\n\nChoose the operation" in out


def test_oversized_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)  # every format reads through decoded()
    with pytest.raises(FormatError) as caught:
        esa.loads(KNOWN_BYTES)
    assert caught.value.problems == [Problem(None, "the file is larger than 100 bytes")]


def test_problems_are_capped_keeping_the_first_in_line_order() -> None:
    body = b"".join(b"[s%d.example]\nlimit_type = host\nbogus = 1\n" % n for n in range(200))
    with pytest.raises(FormatError) as caught:
        esa.loads(b"[DEFAULT]\n" + body)
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS
    assert problems[0] == Problem(
        1,
        "[DEFAULT] lacks ip_sort_pref, max_host_concurrency, max_messages_per_connection, "
        "limit_type, limit_apply, bounce_validation and tls",
    )
    # Section problems (on header lines) found at the end still come in line order.
    assert problems[1] == Problem(2, "limit_type needs max_host_concurrency or recipient_limit")
    assert problems[2].line == 4
    assert problems[2].reason.startswith('unknown key "bogus"')
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_model_fields_are_declared_in_the_files_key_order() -> None:
    # Export writes an entry's fields in declaration order: it must be the file's.
    assert tuple(Entry.model_fields) == esa.KEYS
    assert tuple(DefaultEntry.model_fields) == tuple(k for k in esa.KEYS if k != "bounce_profile")


def test_a_default_without_tls_is_not_also_said_to_break_the_dane_rule() -> None:
    data = (
        b"[DEFAULT]\nip_sort_pref = PREFER_V6\nmax_host_concurrency = 500\n"
        b"max_messages_per_connection = 50\nlimit_type = 0\nlimit_apply = 0\n"
        b"bounce_validation = 0\ndane = 1\n"
        b"[a.example]\ntls = 0\n"
        b"[b.example]\nbounce_validation = 1\n"
    )
    with pytest.raises(FormatError) as caught:
        esa.loads(data)
    lines = [
        f'Error in "x.cfg" line {problem.line}: {problem.reason}'
        for problem in caught.value.problems
    ]
    assert "".join(line + "\n" for line in lines) == (
        'Error in "x.cfg" line 1: [DEFAULT] lacks tls\n'
        'Error in "x.cfg" line 10: a.example: DANE Opportunistic or Mandatory needs TLS; '
        "with TLS No, DANE must be No\n"
    )
