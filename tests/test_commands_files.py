"""One-shot commands on table files and recipients: import, export, diff, resolve.

Uses the in-process harness of ``test_commands.py`` (``destconfig.cli.main``
with in-memory streams and the fixed clock); the resolution table and the
byte-exact standard output checks run real processes.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from destconfig.destinations import normalise
from destconfig.formats import formats
from destconfig.formats import toml as toml_format
from destconfig.model import (
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Settings,
    Table,
    Tls,
)
from destconfig.store import Store
from tests.test_commands import (
    COMMITTED,
    FACTORY_DEFAULT,
    MIXED,
    NO_CHANGES,
    TIME,
    Destconfig,
    Result,
    destconfig,
    log_of,
    make_destconfig,
    refused,
    seed,
    snapshot,
    usage_error,
)

DATA = Path(__file__).parent / "data" / "resolve"
NOT_CHANGED = "destconfig: The table was not changed.\n"


@pytest.fixture
def dc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Destconfig:
    return make_destconfig(tmp_path, monkeypatch)


# export


MIXED_ESA = """\
[DEFAULT]
ip_sort_pref = REQUIRE_V4
max_host_concurrency = 500
max_messages_per_connection = 50
recipient_minutes = 60
recipient_limit = 500
limit_type = host
limit_apply = system
bounce_validation = 1
tls = 1

[.example.com]
ip_sort_pref = PREFER_V4
max_host_concurrency = 10
limit_type = host
limit_apply = system
bounce_validation = 0

[192.0.2.1]
bounce_validation = 1
bounce_profile = LongProfileName
tls = 0

[example.com]
tls = 2

[xn--bcher-kva.example]
ip_sort_pref = REQUIRE_V6
max_messages_per_connection = 5
"""


def test_export_esa_is_the_appliance_table_file(dc: Destconfig, tmp_path: Path) -> None:
    seed(dc.home, MIXED)
    target = tmp_path / "table.cfg"
    assert dc("export", str(target)) == Result(0, "", "")
    assert target.read_bytes() == MIXED_ESA.encode()
    assert dc("export", "-") == Result(0, MIXED_ESA, "")


@pytest.mark.parametrize(
    ("name", "chosen", "fmt"),
    [
        ("t.cfg", None, "esa"),
        ("t", None, "esa"),
        ("t.toml", None, "toml"),
        ("t.TOML", None, "toml"),
        ("t.json", None, "json"),
        ("t.txt", "json", "json"),
        ("t.json", "esa", "esa"),
        ("t.cfg", "toml", "toml"),
    ],
)
def test_export_to_a_file_in_every_format(
    dc: Destconfig, tmp_path: Path, name: str, chosen: str | None, fmt: str
) -> None:
    table = MIXED.with_settings(Settings(tls_alert=True))
    seed(dc.home, table)
    target = tmp_path / name
    target.write_bytes(b"old contents, replaced\n")
    args = ("--format", chosen) if chosen else ()
    assert dc("export", str(target), "--force", *args) == Result(0, "", "")
    assert target.read_bytes() == formats()[fmt].dumps(table)
    assert not (dc.home / "commits.log").exists()  # export commits nothing


@pytest.mark.parametrize("fmt", ["esa", "toml", "json"])
def test_export_to_standard_output_in_every_format(dc: Destconfig, fmt: str) -> None:
    table = MIXED.with_settings(Settings(tls_alert=True))
    seed(dc.home, table)
    assert dc("export", "-", "--format", fmt) == Result(
        0, formats()[fmt].dumps(table).decode("utf-8"), ""
    )


@pytest.mark.parametrize("fmt", ["esa", "toml", "json"])
def test_export_to_standard_output_is_byte_identical(tmp_path: Path, fmt: str) -> None:
    # non-ASCII: a certificate name (toml, json) and an IDNA key from a Unicode name (all)
    table = MIXED.model_copy(update={"certificates": ("Demo", "Zertifikat-ü")}).with_entry(
        normalise("ünïcödé.example"), Entry(tls=Tls.REQUIRED)
    )
    seed(tmp_path, table)
    shown = destconfig("--home", str(tmp_path), "export", "-", "--format", fmt)
    assert (shown.returncode, shown.stderr) == (0, b"")
    assert shown.stdout == formats()[fmt].dumps(table)


def test_export_of_a_fresh_home_is_the_factory_table(dc: Destconfig) -> None:
    assert dc("export", "-") == Result(
        0,
        "[DEFAULT]\n"
        "ip_sort_pref = PREFER_V6\n"
        "max_host_concurrency = 500\n"
        "max_messages_per_connection = 50\n"
        "limit_type = host\n"
        "limit_apply = system\n"
        "bounce_validation = 0\n"
        "tls = 0\n",
        "",
    )


def test_export_that_cannot_write_exits_1(dc: Destconfig, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "t.cfg"
    assert dc("export", str(missing)) == Result(
        1, "", f"destconfig: cannot write {missing}: No such file or directory\n"
    )
    directory = tmp_path / "a-directory"
    directory.mkdir()
    assert dc("export", str(directory)) == Result(
        1, "", f"destconfig: cannot write {directory}: Is a directory\n"
    )
    assert directory.is_dir() and not any(directory.iterdir())


def test_export_bad_format_is_a_usage_error(dc: Destconfig) -> None:
    usage_error(
        dc("export", "-", "--format", "yaml"),
        "export",
        "argument --format: invalid choice: 'yaml' "
        "(choose from 'esa', 'json', 'kumomta', 'postfix', 'toml')",
    )


# import


CURRENT = (
    Table(
        bounce_profiles=("Old",),
        settings=Settings(tls_alert=True),
        default=DefaultEntry(max_host_concurrency=100),
    )
    .with_entry("keep.example", Entry(tls=Tls.REQUIRED))
    .with_entry("both.example", Entry(tls=Tls.PREFERRED))
)
CURRENT_ENTRIES = {"both.example": {"tls": "PREFERRED"}, "keep.example": {"tls": "REQUIRED"}}
INCOMING = """\
# an appliance table file
[DEFAULT]
ip_sort_pref = PREFER_V4
max_host_concurrency = 200
max_messages_per_connection = 20
limit_type = MXIP
limit_apply = VG
bounce_validation = on
tls = 2

[both.example]
tls = 4
bounce_profile = New

; an internationalised name
[Bücher.example]
max_host_concurrency = 5
limit_type = 1
limit_apply = 0
"""
INCOMING_DEFAULT = {
    "ip_sort_pref": "PREFER_V4",
    "max_host_concurrency": 200,
    "max_messages_per_connection": 20,
    "limit_type": "MXIP",
    "limit_apply": "VG",
    "bounce_validation": True,
    "tls": "REQUIRED",
}
INCOMING_ENTRIES = {
    "both.example": {"bounce_profile": "New", "tls": "REQUIRED_VERIFY"},
    "xn--bcher-kva.example": {
        "max_host_concurrency": 5,
        "limit_type": "MXIP",
        "limit_apply": "system",
    },
}
CURRENT_DEFAULT = {**FACTORY_DEFAULT, "max_host_concurrency": 100}


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    path = tmp_path / "incoming.cfg"
    path.write_text(INCOMING, encoding="utf-8")
    return path


def test_import_replaces_the_table(dc: Destconfig, incoming: Path) -> None:
    seed(dc.home, CURRENT)
    assert dc("import", str(incoming)) == Result(0, COMMITTED, "")
    assert dc.document() == {
        "settings": {"certificate": "Demo", "tls_alert": True},  # the file has no settings
        "certificates": ["Demo"],
        "bounce_profiles": ["New", "Old"],
        "default": INCOMING_DEFAULT,
        "entries": INCOMING_ENTRIES,
        "unicode": {"xn--bcher-kva.example": "bücher.example"},  # list gives the forms
    }
    assert log_of(dc.home) == f"{TIME}\timport {incoming}\n"


def test_import_merge_keeps_the_other_entries_and_the_default(
    dc: Destconfig, incoming: Path
) -> None:
    seed(dc.home, CURRENT)
    assert dc("import", str(incoming), "--merge") == Result(0, COMMITTED, "")
    assert dc.document() == {
        "settings": {"certificate": "Demo", "tls_alert": True},
        "certificates": ["Demo"],
        "bounce_profiles": ["New", "Old"],
        "default": CURRENT_DEFAULT,
        "entries": {**CURRENT_ENTRIES, **INCOMING_ENTRIES},
        "unicode": {"xn--bcher-kva.example": "bücher.example"},
    }


def test_import_merge_replace_default_takes_the_files_default(
    dc: Destconfig, incoming: Path
) -> None:
    seed(dc.home, CURRENT)
    assert dc("import", str(incoming), "--merge", "--replace-default") == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["default"] == INCOMING_DEFAULT
    assert document["entries"] == {**CURRENT_ENTRIES, **INCOMING_ENTRIES}
    assert document["settings"] == {"certificate": "Demo", "tls_alert": True}


def test_replace_default_needs_merge(dc: Destconfig, incoming: Path) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    assert dc("import", str(incoming), "--replace-default") == Result(
        2, "", "destconfig: --replace-default goes with --merge\n"
    )
    assert snapshot(dc.home) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (),
            "--- committed\n+++ after\n"
            "+ bounce profile New\n"
            "~ (Default)\n"
            "    ip_sort_pref: PREFER_V6 -> PREFER_V4\n"
            "    max_host_concurrency: 100 -> 200\n"
            "    max_messages_per_connection: 50 -> 20\n"
            "    limit_type: host -> MXIP\n"
            "    limit_apply: system -> VG\n"
            "    bounce_validation: false -> true\n"
            "    tls: NO -> REQUIRED\n"
            "- keep.example\n"
            "+ xn--bcher-kva.example\n"
            "~ both.example\n"
            "    bounce_profile: Default -> New\n"
            "    tls: PREFERRED -> REQUIRED_VERIFY\n",
        ),
        (
            ("--merge",),
            "--- committed\n+++ after\n"
            "+ bounce profile New\n"
            "+ xn--bcher-kva.example\n"
            "~ both.example\n"
            "    bounce_profile: Default -> New\n"
            "    tls: PREFERRED -> REQUIRED_VERIFY\n",
        ),
        (
            ("--merge", "--replace-default"),
            "--- committed\n+++ after\n"
            "+ bounce profile New\n"
            "~ (Default)\n"
            "    ip_sort_pref: PREFER_V6 -> PREFER_V4\n"
            "    max_host_concurrency: 100 -> 200\n"
            "    max_messages_per_connection: 50 -> 20\n"
            "    limit_type: host -> MXIP\n"
            "    limit_apply: system -> VG\n"
            "    bounce_validation: false -> true\n"
            "    tls: NO -> REQUIRED\n"
            "+ xn--bcher-kva.example\n"
            "~ both.example\n"
            "    bounce_profile: Default -> New\n"
            "    tls: PREFERRED -> REQUIRED_VERIFY\n",
        ),
    ],
)
def test_import_dry_run(
    dc: Destconfig, incoming: Path, args: tuple[str, ...], expected: str
) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    assert dc("import", str(incoming), *args, "--dry-run") == Result(0, expected, "")
    assert snapshot(dc.home) == before


def test_import_of_the_same_table_changes_nothing(dc: Destconfig, tmp_path: Path) -> None:
    seed(dc.home, MIXED)
    before = snapshot(dc.home)
    for fmt in ("esa", "toml", "json"):
        path = tmp_path / f"same.{fmt}"
        path.write_bytes(formats()[fmt].dumps(MIXED))
        assert dc("import", str(path), "--format", fmt) == Result(0, NO_CHANGES, "")
        assert dc("import", str(path), "--format", fmt, "--merge") == Result(0, NO_CHANGES, "")
    assert snapshot(dc.home) == before


def test_import_of_a_full_format_replaces_the_whole_configuration(
    dc: Destconfig, tmp_path: Path
) -> None:
    seed(dc.home, CURRENT)
    incoming = Table(
        certificates=("Demo", "Prod"), settings=Settings(certificate="Prod")
    ).with_entry("x.example", Entry(ip_sort_pref=IpSort.REQUIRE_V6))
    for suffix, fmt in ((".toml", "toml"), (".json", "json")):
        seed(dc.home, CURRENT)
        path = tmp_path / f"full{suffix}"
        path.write_bytes(formats()[fmt].dumps(incoming))
        assert dc("import", str(path)) == Result(0, COMMITTED, "")
        assert Store(dc.home).load() == incoming


def test_import_merge_of_a_full_format_keeps_the_settings(dc: Destconfig, tmp_path: Path) -> None:
    seed(dc.home, CURRENT)
    incoming = Table(
        certificates=("Demo", "Prod"), settings=Settings(certificate="Prod"), bounce_profiles=("B",)
    ).with_entry("x.example", Entry(bounce_profile="B"))
    path = tmp_path / "full.json"
    path.write_bytes(formats()["json"].dumps(incoming))
    assert dc("import", str(path), "--merge") == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["settings"] == {"certificate": "Demo", "tls_alert": True}
    assert document["bounce_profiles"] == ["B", "Old"]
    assert document["default"] == CURRENT_DEFAULT
    assert document["entries"] == {**CURRENT_ENTRIES, "x.example": {"bounce_profile": "B"}}


def test_import_format_by_option_over_the_suffix(dc: Destconfig, tmp_path: Path) -> None:
    table = Table().with_entry("x.example", Entry(tls=Tls.PREFERRED))
    path = tmp_path / "table.txt"
    path.write_bytes(formats()["toml"].dumps(table))
    assert dc("import", str(path), "--format", "toml") == Result(0, COMMITTED, "")
    assert Store(dc.home).load() == table


def test_import_bom_and_crlf(dc: Destconfig, tmp_path: Path) -> None:
    path = tmp_path / "windows.cfg"
    path.write_bytes(b"\xef\xbb\xbf" + INCOMING.replace("\n", "\r\n").encode("utf-8"))
    assert dc("import", str(path)) == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == INCOMING_ENTRIES


BROKEN = """\
[DEFAULT]
ip_sort_pref = PREFER_V6
max_host_concurrency = 500
max_messages_per_connection = 50
limit_type = host
limit_apply = system
bounce_validation = off
tls = 9

[bad dest]
tls = 1

[ok.example]
limit_type = host
frobnicate = 1
"""


def broken_lines(name: str) -> str:
    return (
        f'destconfig: Error in "{name}" line 8: bad value "9" for tls; use 0 (NO), '
        "1 (PREFERRED), 2 (REQUIRED), 3 (PREFERRED_VERIFY), 4 (REQUIRED_VERIFY), "
        "5 (REQUIRED_VERIFY_HOSTED)\n"
        f'destconfig: Error in "{name}" line 10: invalid destination "bad dest"; use a domain '
        "(example.com), a subdomain (.example.com) or an IP address (192.0.2.1)\n"
        f'destconfig: Error in "{name}" line 13: limit_type needs max_host_concurrency or '
        "recipient_limit\n"
        f'destconfig: Error in "{name}" line 15: unknown key "frobnicate"; the keys are '
        "ip_sort_pref, max_host_concurrency, max_messages_per_connection, recipient_minutes, "
        "recipient_limit, limit_type, limit_apply, bounce_validation, bounce_profile, tls\n"
    )


@pytest.mark.parametrize(
    "args", [(), ("--merge",), ("--merge", "--replace-default"), ("--dry-run",)]
)
def test_import_of_a_broken_file_changes_nothing(
    dc: Destconfig, tmp_path: Path, args: tuple[str, ...]
) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    path = tmp_path / "broken.cfg"
    path.write_text(BROKEN, encoding="utf-8")
    assert dc("import", str(path), *args) == Result(1, "", broken_lines(str(path)) + NOT_CHANGED)
    assert snapshot(dc.home) == before


@pytest.mark.parametrize(
    ("name", "content", "lines"),
    [
        (
            "syntax.json",
            '{\n  "entries": {\n    "a.example" {}\n  }\n}\n',
            ["line 3: Expecting ':' delimiter"],
        ),
        (
            "model.json",
            '{"entries": {"a.example": {"limit_type": "host"}}}\n',
            [
                ": entries.a.example: limit_type and limit_apply need a concurrency or "
                "recipient limit"
            ],
        ),
        (
            "model.toml",
            '[entries."a.example"]\ntls = "SOMETIMES"\n',
            [
                ": entries.a.example.tls: Input should be 'NO', 'PREFERRED', 'REQUIRED', "
                "'PREFERRED_VERIFY', 'REQUIRED_VERIFY' or 'REQUIRED_VERIFY_HOSTED'"
            ],
        ),
        ("empty.cfg", "", ["line 1: there is no [DEFAULT] section"]),
    ],
)
def test_import_of_broken_files_of_other_formats(
    dc: Destconfig, tmp_path: Path, name: str, content: str, lines: list[str]
) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    expected = "".join(
        f'destconfig: Error in "{path}"{" " if line.startswith("line") else ""}{line}\n'
        for line in lines
    )
    assert dc("import", str(path)) == Result(1, "", expected + NOT_CHANGED)
    assert snapshot(dc.home) == before


# A file whose entry has DANE of its own and no TLS: under its own default (TLS Preferred)
# it imports; merged under the home's default (TLS No, CURRENT's) it breaks the DANE rule.
DANE_FILE_DEFAULT = """\
[DEFAULT]
ip_sort_pref = PREFER_V4
max_host_concurrency = 100
max_messages_per_connection = 10
limit_type = host
limit_apply = system
bounce_validation = 0
tls = {tls}
"""
DANE_ENTRY = "\n[x.example]\ndane = 2\n"
DANE_RULE = "x.example: DANE Opportunistic or Mandatory needs TLS; with TLS No, DANE must be No"


@pytest.mark.parametrize("args", [("--merge",), ("--merge", "--dry-run")])
def test_a_merge_refused_by_the_dane_rule_is_the_files_error(
    dc: Destconfig, tmp_path: Path, args: tuple[str, ...]
) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    path = tmp_path / "m1.cfg"
    path.write_text(DANE_FILE_DEFAULT.format(tls=1) + DANE_ENTRY, encoding="utf-8")
    refusal = f'destconfig: Error in "{path}": {DANE_RULE}\n'
    assert dc("import", str(path), *args) == Result(1, "", refusal + NOT_CHANGED)
    assert snapshot(dc.home) == before
    # A plain import of a file that breaks the rule itself: the same words, on its line.
    path.write_text(DANE_FILE_DEFAULT.format(tls=0) + DANE_ENTRY, encoding="utf-8")
    refusal = f'destconfig: Error in "{path}" line 11: {DANE_RULE}\n'
    assert dc("import", str(path)) == Result(1, "", refusal + NOT_CHANGED)
    assert snapshot(dc.home) == before


def test_import_of_a_missing_file(dc: Destconfig, tmp_path: Path) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    missing = tmp_path / "missing.cfg"
    refused(dc("import", str(missing)), f"cannot read {missing}: No such file or directory")
    refused(dc("import", str(tmp_path)), f"cannot read {tmp_path}: Is a directory")
    assert snapshot(dc.home) == before


def test_import_from_standard_input(dc: Destconfig) -> None:
    seed(dc.home, CURRENT)
    assert dc("import", "-", "--merge", stdin=INCOMING.encode()) == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {**CURRENT_ENTRIES, **INCOMING_ENTRIES}
    assert log_of(dc.home) == f"{TIME}\timport -\n"
    as_json = formats()["json"].dumps(MIXED)
    assert dc("import", "-", "--format", "json", stdin=as_json) == Result(0, COMMITTED, "")
    assert Store(dc.home).load() == MIXED


def test_import_of_a_broken_file_from_standard_input(dc: Destconfig) -> None:
    seed(dc.home, CURRENT)
    before = snapshot(dc.home)
    assert dc("import", "-", stdin=BROKEN.encode()) == Result(
        1, "", broken_lines("<stdin>") + NOT_CHANGED
    )
    assert snapshot(dc.home) == before


@pytest.mark.slow
def test_import_from_standard_input_in_a_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = destconfig("--home", str(home), "import", "-", stdin=INCOMING.encode())
    assert made.returncode == 0, made.stderr
    assert made.stderr == b""
    shown = destconfig("--home", str(home), "export", "-")
    assert shown.stdout == (
        b"[DEFAULT]\n"
        b"ip_sort_pref = PREFER_V4\n"
        b"max_host_concurrency = 200\n"
        b"max_messages_per_connection = 20\n"
        b"limit_type = MXIP\n"
        b"limit_apply = VG\n"
        b"bounce_validation = 1\n"
        b"tls = 2\n"
        b"\n"
        b"[both.example]\n"
        b"bounce_profile = New\n"
        b"tls = 4\n"
        b"\n"
        b"[xn--bcher-kva.example]\n"
        b"max_host_concurrency = 5\n"
        b"limit_type = MXIP\n"
        b"limit_apply = system\n"
    )
    broken = destconfig("--home", str(home), "import", "-", stdin=BROKEN.encode())
    assert (broken.returncode, broken.stdout) == (1, b"")
    assert broken.stderr == (broken_lines("<stdin>") + NOT_CHANGED).encode()


@pytest.mark.parametrize(
    ("args", "comment"),
    [(("--comment", "nightly sync"), "nightly sync"), (("--merge",), "import {file}")],
)
def test_import_comment(
    dc: Destconfig, incoming: Path, args: tuple[str, ...], comment: str
) -> None:
    assert dc("import", str(incoming), *args) == Result(0, COMMITTED, "")
    assert log_of(dc.home) == f"{TIME}\t{comment.format(file=incoming)}\n"


def test_import_empty_comment_is_kept(dc: Destconfig, incoming: Path) -> None:
    assert dc("import", str(incoming), "--comment", "") == Result(0, COMMITTED, "")
    assert log_of(dc.home) == f"{TIME}\t\n"


def test_import_keeps_a_rollback_copy_unless_told(dc: Destconfig, incoming: Path) -> None:
    seed(dc.home, CURRENT)
    before = (dc.home / "config.toml").read_bytes()
    dc.ok("import", str(incoming))
    assert (dc.home / "rollback" / "config-00000001-20261127T210644.toml").read_bytes() == before
    dc.ok("import", "-", "--no-rollback", stdin=formats()["esa"].dumps(MIXED))
    assert len(list((dc.home / "rollback").glob("*.toml"))) == 1


# diff


DIFF_A = (
    Table(
        certificates=("Demo", "Prod"),
        settings=Settings(tls_alert=True),
        bounce_profiles=("Bulk", "Old"),
        default=DefaultEntry(tls=Tls.PREFERRED),
    )
    .with_entry("a-only.example", Entry())
    .with_entry("both.example", Entry(tls=Tls.REQUIRED, bounce_profile="Bulk"))
    .with_entry("same.example", Entry(tls=Tls.NO))
)
DIFF_B = (
    Table(
        bounce_profiles=("Bulk", "New"),
        default=DefaultEntry(tls=Tls.REQUIRED, max_host_concurrency=100),
    )
    .with_entry("b-only.example", Entry(tls=Tls.PREFERRED))
    .with_entry(
        "both.example",
        Entry(
            tls=Tls.REQUIRED_VERIFY,
            max_host_concurrency=5,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
            bounce_profile="New",
        ),
    )
    .with_entry("same.example", Entry(tls=Tls.NO))
)


@pytest.fixture
def diff_files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.toml", tmp_path / "b.json"
    a.write_bytes(formats()["toml"].dumps(DIFF_A))
    b.write_bytes(formats()["json"].dumps(DIFF_B))
    return a, b


def test_diff_of_different_tables(dc: Destconfig, diff_files: tuple[Path, Path]) -> None:
    a, b = diff_files
    assert dc("diff", str(a), str(b)) == Result(
        1,
        f"--- {a}\n"
        f"+++ {b}\n"
        "~ settings\n"
        "    tls_alert: true -> false\n"
        "- certificate Prod\n"
        "- bounce profile Old\n"
        "+ bounce profile New\n"
        "~ (Default)\n"
        "    max_host_concurrency: 500 -> 100\n"
        "    tls: PREFERRED -> REQUIRED\n"
        "- a-only.example\n"
        "+ b-only.example\n"
        "~ both.example\n"
        "    max_host_concurrency: Default -> 5\n"
        "    limit_type: Default -> host\n"
        "    limit_apply: Default -> system\n"
        "    bounce_profile: Bulk -> New\n"
        "    tls: REQUIRED -> REQUIRED_VERIFY\n",
        "",
    )
    assert dc("diff", str(b), str(a)) == Result(
        1,
        f"--- {b}\n"
        f"+++ {a}\n"
        "~ settings\n"
        "    tls_alert: false -> true\n"
        "+ certificate Prod\n"
        "- bounce profile New\n"
        "+ bounce profile Old\n"
        "~ (Default)\n"
        "    max_host_concurrency: 100 -> 500\n"
        "    tls: REQUIRED -> PREFERRED\n"
        "- b-only.example\n"
        "+ a-only.example\n"
        "~ both.example\n"
        "    max_host_concurrency: 5 -> Default\n"
        "    limit_type: host -> Default\n"
        "    limit_apply: system -> Default\n"
        "    bounce_profile: New -> Bulk\n"
        "    tls: REQUIRED_VERIFY -> REQUIRED\n",
        "",
    )


def test_diff_json(dc: Destconfig, diff_files: tuple[Path, Path]) -> None:
    a, b = diff_files
    result = dc("diff", str(a), str(b), "--format", "json")
    assert (result.status, result.err) == (1, "")
    assert json.loads(result.out) == {
        "equal": False,
        "only_in_a": ["a-only.example"],
        "only_in_b": ["b-only.example"],
        "changed": {
            "both.example": {
                "max_host_concurrency": {"old": None, "new": 5},
                "limit_type": {"old": None, "new": "host"},
                "limit_apply": {"old": None, "new": "system"},
                "bounce_profile": {"old": "Bulk", "new": "New"},
                "tls": {"old": "REQUIRED", "new": "REQUIRED_VERIFY"},
            }
        },
        "default": {
            "max_host_concurrency": {"old": 500, "new": 100},
            "tls": {"old": "PREFERRED", "new": "REQUIRED"},
        },
        "settings": {"tls_alert": {"old": True, "new": False}},
        "bounce_profiles": {"only_in_a": ["Old"], "only_in_b": ["New"]},
        "certificates": {"only_in_a": ["Prod"], "only_in_b": []},
    }
    equal = dc("diff", str(a), str(a), "--format", "json")
    assert (equal.status, equal.err) == (0, "")
    assert json.loads(equal.out) == {
        "equal": True,
        "only_in_a": [],
        "only_in_b": [],
        "changed": {},
        "default": {},
        "settings": {},
        "bounce_profiles": {"only_in_a": [], "only_in_b": []},
        "certificates": {"only_in_a": [], "only_in_b": []},
    }


def test_diff_against_current(dc: Destconfig, diff_files: tuple[Path, Path]) -> None:
    a, b = diff_files
    seed(dc.home, DIFF_A)
    assert dc("diff", "current", str(a)) == Result(0, "", "")
    assert dc("diff", str(a), "current") == Result(0, "", "")
    assert dc("diff", "current", "current") == Result(0, "", "")
    # current stands for the committed table: the same text as with the file, bar the name
    file_to_file = dc("diff", str(a), str(b))
    assert dc("diff", "current", str(b)) == Result(
        1, file_to_file.out.replace(f"--- {a}\n", "--- current\n", 1), ""
    )
    back = dc("diff", str(b), str(a))
    assert dc("diff", str(b), "current") == Result(
        1, back.out.replace(f"+++ {a}\n", "+++ current\n", 1), ""
    )
    assert file_to_file.out.startswith(f"--- {a}\n+++ {b}\n~ settings\n")


def test_diff_of_a_fresh_home_against_an_entry(dc: Destconfig, tmp_path: Path) -> None:
    path = tmp_path / "one.cfg"
    path.write_bytes(
        formats()["esa"].dumps(Table().with_entry("example.com", Entry(tls=Tls.REQUIRED)))
    )
    assert dc("diff", "current", str(path)) == Result(
        1, f"--- current\n+++ {path}\n+ example.com\n", ""
    )
    assert dc("diff", str(path), "current") == Result(
        1, f"--- {path}\n+++ current\n- example.com\n", ""
    )


def test_diff_between_files_of_every_format_is_equal(dc: Destconfig, tmp_path: Path) -> None:
    table = MIXED  # factory settings and only profiles in use: every format carries it all
    seed(dc.home, table)
    names = []
    for suffix in (".cfg", ".toml", ".json"):
        path = tmp_path / f"t{suffix}"
        dc.ok("export", str(path))
        names.append(str(path))
    for a in [*names, "current"]:
        for b in [*names, "current"]:
            assert dc("diff", a, b) == Result(0, "", ""), (a, b)


def test_diff_usage_errors(dc: Destconfig) -> None:
    usage_error(dc("diff", "current"), "diff", "the following arguments are required: B")
    usage_error(
        dc("diff", "current", "current", "--format", "toml"),
        "diff",
        "argument --format: invalid choice: 'toml' (choose from 'text', 'json')",
    )


def test_diff_of_an_esa_export_against_current_is_equal(dc: Destconfig, tmp_path: Path) -> None:
    seed(dc.home, MIXED.with_settings(Settings(tls_alert=True)))
    path = tmp_path / "t.cfg"
    dc.ok("export", str(path))
    assert dc("diff", str(path), "current") == Result(0, "", "")
    assert dc("diff", "current", str(path)) == Result(0, "", "")


@pytest.mark.parametrize("kind", ["broken", "missing"])
def test_diff_of_an_unreadable_file_is_trouble_not_a_difference(
    dc: Destconfig, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"{kind}.cfg"
    if kind == "broken":
        path.write_text(BROKEN, encoding="utf-8")
        expected = broken_lines(str(path))
    else:
        expected = f"destconfig: cannot read {path}: No such file or directory\n"
    assert dc("diff", str(path), "current") == Result(2, "", expected)


# resolve


RESOLVE_TABLE = (
    Table()
    .with_entry("example.com", Entry(tls=Tls.PREFERRED))
    .with_entry(
        ".example.com",
        Entry(
            tls=Tls.REQUIRED,
            max_host_concurrency=20,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
        ),
    )
    .with_entry(".b.example.com", Entry(tls=Tls.PREFERRED_VERIFY))
    .with_entry("[192.0.2.1]", Entry(tls=Tls.REQUIRED_VERIFY))
    .with_entry("[2001:db8::1]", Entry(tls=Tls.REQUIRED_VERIFY_HOSTED))
    .with_entry("xn--bcher-kva.example", Entry(bounce_validation=True))
)
EXACT_BLOCK = """\
user@example.com: example.com (exact entry)
example.com
    IP Address Preference:           Default (Prefer IPv6)
    Concurrent Connections:          Default (500)
    Maximum Messages Per Connection: Default (50)
    Recipients Limit:                Default (No Limit)
    Apply Limits Per Destination:    Default (Entire Domain)
    Apply Limits Per ESA Hostname:   Default (System Wide)
    TLS Support:                     Preferred
    Bounce Verification:             Default (Off)
    Bounce Profile:                  Default
"""
PATTERN_BLOCK = """\
User@Mail.Example.COM: .example.com (nearest pattern)
.example.com
    IP Address Preference:           Default (Prefer IPv6)
    Concurrent Connections:          20
    Maximum Messages Per Connection: Default (50)
    Recipients Limit:                Default (No Limit)
    Apply Limits Per Destination:    Entire Domain
    Apply Limits Per ESA Hostname:   System Wide
    TLS Support:                     Required
    Bounce Verification:             Default (Off)
    Bounce Profile:                  Default
"""
DEFAULT_BLOCK = """\
nobody@example.net: (Default) (no entry)
(Default)
    IP Address Preference:           Prefer IPv6
    Concurrent Connections:          500
    Maximum Messages Per Connection: 50
    Recipients Limit:                No Limit
    Apply Limits Per Destination:    Entire Domain
    Apply Limits Per ESA Hostname:   System Wide
    TLS Support:                     No
    Bounce Verification:             Off
    Bounce Profile:                  (Default)
"""
INVALID = (
    'destconfig: Invalid recipient "{}". Enter an address (user@example.com) '
    "or a domain (example.com).\n"
)


def effective(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ip_sort_pref": "PREFER_V6",
        "max_host_concurrency": 500,
        "max_messages_per_connection": 50,
        "recipient_minutes": None,
        "recipient_limit": None,
        "limit_type": "host",
        "limit_apply": "system",
        "bounce_validation": False,
        "tls": "NO",
        "dane": "NO",
        "bounce_profile": None,
    }
    values.update(changes)
    return values


def test_resolve_text_exact_pattern_and_default(dc: Destconfig) -> None:
    seed(dc.home, RESOLVE_TABLE)
    assert dc("resolve", "user@example.com") == Result(0, EXACT_BLOCK, "")
    assert dc("resolve", "User@Mail.Example.COM") == Result(0, PATTERN_BLOCK, "")
    assert dc("resolve", "nobody@example.net") == Result(0, DEFAULT_BLOCK, "")
    assert dc(
        "resolve",
        "user@example.com",
        "User@Mail.Example.COM",
        "nobody@example.net",
        "--format",
        "text",
    ) == Result(0, f"{EXACT_BLOCK}\n{PATTERN_BLOCK}\n{DEFAULT_BLOCK}", "")


def test_resolve_text_block_equals_detail(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    for recipient, key in (
        ("a@example.com", "example.com"),
        ("a@x.example.com", ".example.com"),
        ("a@[192.0.2.1]", "[192.0.2.1]"),
        ("a@BÜCHER.example", "xn--bcher-kva.example"),
        ("a@example.org", "default"),
    ):
        out = dc.ok("resolve", recipient)
        assert out.split("\n", 1)[1] == dc.ok("detail", key)


def test_resolve_table(dc: Destconfig) -> None:
    seed(dc.home, RESOLVE_TABLE)
    assert dc(
        "resolve",
        "user@example.com",
        "user@x.b.example.com",
        "b.example.com",
        "user@[IPv6:2001:db8::1]",
        "nobody@example.net",
        "--format",
        "table",
    ) == Result(
        0,
        "RECIPIENT               DOMAIN          ENTRY          MATCH   TLS\n"
        "user@example.com        example.com     example.com    exact   Preferred\n"
        "user@x.b.example.com    x.b.example.com .b.example.com pattern Preferred - Verify\n"
        "b.example.com           b.example.com   .example.com   pattern Required\n"
        "user@[IPv6:2001:db8::1] [2001:db8::1]   [2001:db8::1]  exact   "
        "Required - Verify Hosted Domains\n"
        "nobody@example.net      example.net     (Default)      default No\n",
        "",
    )


def test_resolve_json(dc: Destconfig) -> None:
    seed(dc.home, RESOLVE_TABLE.with_default(DefaultEntry(recipient_limit=9, recipient_minutes=2)))
    result = dc(
        "resolve",
        "user@example.com",
        "user@a.b.example.com",
        "user@[192.0.2.1]",
        "user@Bücher.example",
        "user@example.net",
        "--format",
        "json",
    )
    assert (result.status, result.err) == (0, "")
    assert json.loads(result.out) == {
        "resolutions": [
            {
                "recipient": "user@example.com",
                "domain": "example.com",
                "entry": "example.com",
                "match": "exact",
                "effective": effective(tls="PREFERRED", recipient_limit=9, recipient_minutes=2),
            },
            {
                "recipient": "user@a.b.example.com",
                "domain": "a.b.example.com",
                "entry": ".b.example.com",
                "match": "pattern",
                "effective": effective(
                    tls="PREFERRED_VERIFY", recipient_limit=9, recipient_minutes=2
                ),
            },
            {
                "recipient": "user@[192.0.2.1]",
                "domain": "[192.0.2.1]",
                "entry": "[192.0.2.1]",
                "match": "exact",
                "effective": effective(
                    tls="REQUIRED_VERIFY", recipient_limit=9, recipient_minutes=2
                ),
            },
            {
                "recipient": "user@Bücher.example",
                "domain": "xn--bcher-kva.example",
                "domain_unicode": "bücher.example",
                "entry": "xn--bcher-kva.example",
                "entry_unicode": "bücher.example",
                "match": "exact",
                "effective": effective(
                    bounce_validation=True, recipient_limit=9, recipient_minutes=2
                ),
            },
            {
                "recipient": "user@example.net",
                "domain": "example.net",
                "entry": None,
                "match": "default",
                "effective": effective(recipient_limit=9, recipient_minutes=2),
            },
        ]
    }


def test_resolve_an_entrys_recipient_limit_comes_with_its_own_minutes(dc: Destconfig) -> None:
    table = Table(default=DefaultEntry(recipient_limit=9, recipient_minutes=2)).with_entry(
        "example.com",
        Entry(
            recipient_limit=50,
            recipient_minutes=30,
            limit_type=LimitType.MXIP,
            limit_apply=LimitApply.VG,
            bounce_profile="Bulk",
        ),
    )
    seed(dc.home, table.model_copy(update={"bounce_profiles": ("Bulk",)}))
    found = dc.document("resolve", "user@example.com")["resolutions"][0]
    assert found["effective"] == effective(
        recipient_limit=50,
        recipient_minutes=30,
        limit_type="MXIP",
        limit_apply="VG",
        bounce_profile="Bulk",
    )


@pytest.mark.parametrize(
    ("recipient", "domain", "entry", "match"),
    [
        ("user@example.com", "example.com", "example.com", "exact"),
        ("USER@EXAMPLE.COM", "example.com", "example.com", "exact"),
        ("example.com", "example.com", "example.com", "exact"),
        (" user@example.com ", "example.com", "example.com", "exact"),
        ("user@a.example.com", "a.example.com", ".example.com", "pattern"),
        ("user@b.example.com", "b.example.com", ".example.com", "pattern"),  # apex of .b
        ("user@a.b.example.com", "a.b.example.com", ".b.example.com", "pattern"),  # nearest
        ("user@x.y.b.example.com", "x.y.b.example.com", ".b.example.com", "pattern"),
        ("user@notexample.com", "notexample.com", None, "default"),
        ("user@example.com.test", "example.com.test", None, "default"),
        ("user@[192.0.2.1]", "[192.0.2.1]", "[192.0.2.1]", "exact"),
        ("[192.0.2.1]", "[192.0.2.1]", "[192.0.2.1]", "exact"),
        ("user@[192.0.2.11]", "[192.0.2.11]", None, "default"),
        ("user@[IPv6:2001:db8::1]", "[2001:db8::1]", "[2001:db8::1]", "exact"),
        ("user@[ipv6:2001:DB8:0:0:0:0:0:1]", "[2001:db8::1]", "[2001:db8::1]", "exact"),
        ("user@[IPv6:2001:db8::2]", "[2001:db8::2]", None, "default"),
        ("user@Bücher.example", "xn--bcher-kva.example", "xn--bcher-kva.example", "exact"),
        ("user@BÜCHER.EXAMPLE", "xn--bcher-kva.example", "xn--bcher-kva.example", "exact"),
        ("user@xn--bcher-kva.example", "xn--bcher-kva.example", "xn--bcher-kva.example", "exact"),
        ("user@www.bücher.example", "www.xn--bcher-kva.example", None, "default"),
        ('"a@b"@a.example.com', "a.example.com", ".example.com", "pattern"),
    ],
)
def test_resolve_rules(
    dc: Destconfig, recipient: str, domain: str, entry: str | None, match: str
) -> None:
    seed(dc.home, RESOLVE_TABLE)
    found = dc.document("resolve", recipient)["resolutions"]
    assert [
        (item["recipient"], item["domain"], item["entry"], item["match"]) for item in found
    ] == [(recipient, domain, entry, match)]


def test_a_pattern_does_not_match_its_own_apex(dc: Destconfig) -> None:
    seed(dc.home, Table().with_entry(".example.com", Entry(tls=Tls.REQUIRED)))
    assert dc("resolve", "user@example.com", "user@www.example.com", "--format", "table") == Result(
        0,
        "RECIPIENT            DOMAIN          ENTRY        MATCH   TLS\n"
        "user@example.com     example.com     (Default)    default No\n"
        "user@www.example.com www.example.com .example.com pattern Required\n",
        "",
    )


INVALID_RECIPIENTS = [
    ("bad@@", "bad@@"),
    ("user@", "user@"),
    ("", ""),
    ("user@.example.com", "user@.example.com"),
    (".example.com", ".example.com"),
    ("user@exa mple.com", "user@exa mple.com"),
    ("user@example.com.", "user@example.com."),
    ("user@-bad.example", "user@-bad.example"),
    ("user@[192.0.2.300]", "user@[192.0.2.300]"),
    ("user@[example.com]", "user@[example.com]"),
    ("user@[IPv6:zzz]", "user@[IPv6:zzz]"),
    ("user@[192.0.2.1", "user@[192.0.2.1"),
    ("user@exa\tmple.com", "user@exa\\tmple.com"),
    ("user@exa\x1bmple.com", "user@exa\\x1bmple.com"),
    ("a@b@c.com", "a@b@c.com"),
    ("@x.com", "@x.com"),
    ("  @x.com", "@x.com"),
]


@pytest.mark.parametrize(("recipient", "shown"), INVALID_RECIPIENTS)
def test_resolve_invalid_recipient(dc: Destconfig, recipient: str, shown: str) -> None:
    seed(dc.home, RESOLVE_TABLE)
    assert dc("resolve", recipient) == Result(1, "", INVALID.format(shown))
    assert dc("resolve", recipient, "--format", "table") == Result(1, "", INVALID.format(shown))
    json_result = dc("resolve", recipient, "--format", "json")
    assert (json_result.status, json_result.err) == (1, INVALID.format(shown))
    assert json.loads(json_result.out) == {"resolutions": []}


def test_resolve_valid_recipients_still_print_beside_invalid_ones(dc: Destconfig) -> None:
    seed(dc.home, RESOLVE_TABLE)
    errors = INVALID.format("bad@@") + INVALID.format("user@.example.com")
    args = ("bad@@", "user@example.com", "user@.example.com", "nobody@example.net")
    assert dc("resolve", *args) == Result(1, f"{EXACT_BLOCK}\n{DEFAULT_BLOCK}", errors)
    assert dc("resolve", *args, "--format", "table") == Result(
        1,
        "RECIPIENT          DOMAIN      ENTRY       MATCH   TLS\n"
        "user@example.com   example.com example.com exact   Preferred\n"
        "nobody@example.net example.net (Default)   default No\n",
        errors,
    )
    as_json = dc("resolve", *args, "--format", "json")
    assert (as_json.status, as_json.err) == (1, errors)
    assert [item["recipient"] for item in json.loads(as_json.out)["resolutions"]] == [
        "user@example.com",
        "nobody@example.net",
    ]


@pytest.mark.parametrize("domain", ["default", "all"])
def test_resolve_a_domain_named_like_a_reserved_word(dc: Destconfig, domain: str) -> None:
    seed(dc.home, RESOLVE_TABLE)
    result = dc("resolve", f"user@{domain}", "--format", "json")
    assert (result.status, result.err) == (0, "")
    assert json.loads(result.out)["resolutions"] == [
        {
            "recipient": f"user@{domain}",
            "domain": domain,
            "entry": None,
            "match": "default",
            "effective": effective(),
        }
    ]


def test_resolve_usage_errors(dc: Destconfig) -> None:
    usage_error(dc("resolve"), "resolve", "the following arguments are required: RECIPIENT")
    usage_error(
        dc("resolve", "a@example.com", "--format", "toml"),
        "resolve",
        "argument --format: invalid choice: 'toml' (choose from 'text', 'table', 'json')",
    )


def test_resolve_sees_committed_changes(dc: Destconfig) -> None:
    assert dc("resolve", "u@a.b.example.com", "--format", "table").out.endswith(" default No\n")
    dc.ok("new", ".example.com", "--tls", "REQUIRED")
    assert dc("resolve", "u@a.b.example.com", "--format", "table").out.endswith(
        " .example.com pattern Required\n"
    )
    dc.ok("new", ".b.example.com", "--tls", "REQUIRED_VERIFY")
    assert dc("resolve", "u@a.b.example.com", "--format", "table").out.endswith(
        " .b.example.com pattern Required - Verify\n"
    )
    dc.ok("new", "a.b.example.com")  # exact, TLS left at Default
    assert dc("resolve", "u@a.b.example.com", "--format", "table").out.endswith(
        " a.b.example.com exact No\n"
    )
    dc.ok("default", "--tls", "preferred")
    assert dc("resolve", "u@a.b.example.com", "--format", "table").out.endswith(
        " a.b.example.com exact Preferred\n"
    )


# The resolution table: tests/data/resolve, in the manner of Postfix's tls_policy.in/.ref.


def test_resolution_table(tmp_path: Path) -> None:
    """cases.ref was worked out by hand from the rules, then checked against the program."""
    home = str(tmp_path / "home")
    imported = destconfig("--home", home, "import", str(DATA / "table.cfg"))
    assert (imported.returncode, imported.stderr) == (0, b""), imported.stderr
    cases = (DATA / "cases.in").read_text(encoding="utf-8").split("\n")
    assert cases[-1] == ""
    shown = destconfig("--home", home, "resolve", "--format", "table", *cases[:-1])
    assert shown.stderr == b""
    assert shown.returncode == 0
    assert shown.stdout == (DATA / "cases.ref").read_bytes()


def test_resolution_table_file_is_the_table_it_means(dc: Destconfig) -> None:
    dc.ok("import", str(DATA / "table.cfg"))
    assert dc.document()["entries"] == {
        ".b.example.com": {"tls": "PREFERRED_VERIFY"},
        ".example.com": {"tls": "REQUIRED"},
        ".pattern.test": {"tls": "REQUIRED_VERIFY"},
        ".quiet.example.com": {"ip_sort_pref": "PREFER_V4"},
        "[192.0.2.1]": {"tls": "REQUIRED_VERIFY"},
        "[2001:db8::1]": {"tls": "REQUIRED_VERIFY_HOSTED"},
        "deep.b.example.com": {"tls": "REQUIRED_VERIFY_HOSTED"},
        "example.com": {"tls": "PREFERRED"},
        "upper.example.org": {"tls": "PREFERRED"},
        "xn--bcher-kva.example": {"tls": "PREFERRED_VERIFY"},
    }
    assert dc.document()["default"] == FACTORY_DEFAULT


# A round trip between two homes.


def test_round_trip_between_two_homes(dc: Destconfig, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"

    def on(home: Path, *args: str) -> Result:
        return dc(*args, home=home)

    for args in (
        ("default", "--concurrency", "100", "--tls", "preferred", "--ip-sort", "prefer-v4"),
        ("new", "example.com", "--tls", "required", "--bounce-profile", "Bulk"),
        ("new", ".example.com", "--concurrency", "20", "--limit-type", "MXIP"),
        ("new", "Bücher.example", "--recipient-limit", "50", "--recipient-minutes", "10"),
        ("new", "192.0.2.1", "--tls", "REQUIRED_VERIFY", "--bounce-verification", "on"),
        ("edit", ".example.com", "--limit-apply", "VG"),
    ):
        assert on(first, *args) == Result(0, COMMITTED, "")
    for args in (
        ("new", "example.com", "--tls", "preferred"),
        ("new", "[192.0.2.1]", "--tls", "required-verify", "--bounce-verification", "1"),
    ):
        assert on(second, *args) == Result(0, COMMITTED, "")

    exported_first, exported_second = tmp_path / "first.toml", tmp_path / "second.cfg"
    assert on(first, "export", str(exported_first)) == Result(0, "", "")
    assert on(second, "export", str(exported_second)) == Result(0, "", "")
    assert on(first, "diff", str(exported_first), str(exported_second)) == Result(
        1,
        f"--- {exported_first}\n"
        f"+++ {exported_second}\n"
        # an esa file holds no settings or profile list: only the tables are compared
        "~ (Default)\n"
        "    ip_sort_pref: PREFER_V4 -> PREFER_V6\n"
        "    max_host_concurrency: 100 -> 500\n"
        "    tls: PREFERRED -> NO\n"
        "- .example.com\n"
        "- xn--bcher-kva.example\n"
        "~ example.com\n"
        "    bounce_profile: Bulk -> Default\n"
        "    tls: REQUIRED -> PREFERRED\n",
        "",
    )

    # merged without the default: the entries agree, the default entries do not
    assert on(second, "import", str(exported_first), "--merge") == Result(0, COMMITTED, "")
    assert on(second, "diff", "current", str(exported_first)) == Result(
        1,
        f"--- current\n+++ {exported_first}\n"
        "~ (Default)\n"
        "    ip_sort_pref: PREFER_V6 -> PREFER_V4\n"
        "    max_host_concurrency: 500 -> 100\n"
        "    tls: NO -> PREFERRED\n",
        "",
    )
    assert on(second, "import", str(exported_first), "--merge", "--replace-default") == Result(
        0, COMMITTED, ""
    )
    assert on(second, "diff", "current", str(exported_first)) == Result(0, "", "")

    # the two homes now diff equal, whatever the formats of their exports
    for suffix in (".cfg", ".toml", ".json"):
        a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        on(first, "export", str(a))
        on(second, "export", str(b))
        assert a.read_bytes() == b.read_bytes()
        assert on(first, "diff", str(a), str(b)) == Result(0, "", "")
    assert on(first, "diff", str(tmp_path / "b.json"), "current") == Result(0, "", "")
    assert on(first, "list") == on(second, "list")
    assert on(first, "detail", "all") == on(second, "detail", "all")
    assert Store(first).load() == Store(second).load()
    assert tomllib.loads((first / "config.toml").read_text()) == tomllib.loads(
        (second / "config.toml").read_text()
    )
    assert toml_format.loads((first / "config.toml").read_bytes()) == Store(second).load()


def test_diff_header_escapes_file_names(dc: Destconfig, tmp_path: Path) -> None:
    path = tmp_path / "t\x1b[31m.cfg"
    path.write_bytes(formats()["esa"].dumps(Table().with_entry("a.example", Entry())))
    shown = str(tmp_path / "t\\x1b[31m.cfg")
    assert dc("diff", str(path), "current") == Result(
        1, f"--- {shown}\n+++ current\n- a.example\n", ""
    )


def test_a_postfix_merge_refused_by_the_dane_rule_is_the_directorys_error(
    dc: Destconfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal, worded the same, for a Postfix directory merged in."""
    from destconfig.model import Dane

    source = tmp_path / "source"
    seed(
        source,
        Table(default=DefaultEntry(tls=Tls.PREFERRED)).with_entry(
            "x.example", Entry(dane=Dane.MANDATORY)
        ),
    )
    exported = tmp_path / "postfix"
    exported.mkdir()
    done = Destconfig(source, monkeypatch)("export", str(exported), "--format", "postfix")
    assert done.status == 0, done
    seed(dc.home, CURRENT)  # its default: TLS No
    before = snapshot(dc.home)
    refusal = f'destconfig: Error in "{exported}": {DANE_RULE}\n'
    done = dc("import", str(exported), "--format", "postfix", "--merge")
    assert done == Result(1, "", refusal + NOT_CHANGED)
    assert snapshot(dc.home) == before
