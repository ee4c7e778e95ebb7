"""One-shot commands: list, detail, new, edit, delete, default, setup, clear.

Each test runs the real command line, ``destconfig.cli.main(argv, env)``, in this
process with in-memory streams and the fixed clock of the replays (so that
``Changes committed: TIME`` and the rollback file names are exact); a few run a
real process to see the bytes a user sees. Text outputs are compared as whole
strings; JSON and TOML outputs are parsed. The import, export, diff and resolve
commands are in ``test_commands_files.py``, which shares this module's harness.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from destconfig import store as store_module
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
from tests.helpers import ROOT, Result, run_cli, run_process, run_session

TIME = "Fri Nov 27 21:06:44 2026 UTC"  # FIXED_TIME as commit prints it
COMMITTED = f"Changes committed: {TIME}\n"
NO_CHANGES = "There are no changes to commit.\n"
STAMP = "20261127T210644"  # FIXED_TIME in rollback file names


# The harness.


class Destconfig:
    """Runs ``destconfig --home HOME ARGS...`` in this process (:func:`run_cli`)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, stdin: bytes | None = None, home: Path | None = None) -> Result:
        return self.argv("--home", str(home or self.home), *args, stdin=stdin)

    def argv(self, *argv: str, stdin: bytes | None = None) -> Result:
        """The command line exactly as given (no ``--home`` added)."""
        return run_cli(None, *argv, stdin=stdin or b"")

    def ok(self, *args: str, stdin: bytes | None = None) -> str:
        """A command that must succeed silently on stderr; its standard output."""
        result = self(*args, stdin=stdin)
        assert (result.status, result.err) == (0, ""), result
        return result.out

    def document(self, *args: str) -> dict[str, Any]:
        """``list --format json`` (or *args* with ``--format json``), parsed."""
        parsed: dict[str, Any] = json.loads(self.ok(*(args or ("list",)), "--format", "json"))
        return parsed


def make_destconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Destconfig:
    """The harness on ``tmp_path/home``."""
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps its usage lines to the terminal
    return Destconfig(tmp_path / "home", monkeypatch)


@pytest.fixture
def dc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Destconfig:
    return make_destconfig(tmp_path, monkeypatch)


def seed(home: Path, table: Table) -> None:
    """Commit *table* as the home's configuration (as a previous session would have)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_bytes(toml_format.dumps(table))


def snapshot(home: Path) -> dict[str, bytes]:
    """Every file of the home but the lock: what a refused change must leave alone."""
    if not home.exists():
        return {}
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def log_of(home: Path) -> str:
    return (home / "commits.log").read_text(encoding="utf-8")


def usage_error(result: Result, command: str, message: str) -> None:
    """A refused command line: ``destconfig: COMMAND: MESSAGE``, then where the help is."""
    where = f"{command}: " if command else ""
    assert result == Result(
        2,
        "",
        f"destconfig: {where}{message}\n"
        f"destconfig: try 'destconfig {command} --help' for more information\n".replace(
            "destconfig  --help", "destconfig --help"
        ),
    )


def refused(result: Result, message: str) -> None:
    """A refused change: one ``destconfig: MESSAGE`` line on stderr, exit status 1."""
    assert result == Result(1, "", f"destconfig: {message}\n")


FACTORY_DEFAULT = {
    "ip_sort_pref": "PREFER_V6",
    "max_host_concurrency": 500,
    "max_messages_per_connection": 50,
    "limit_type": "host",
    "limit_apply": "system",
    "bounce_validation": False,
    "tls": "NO",
}

FULL = Entry(
    ip_sort_pref=IpSort.PREFER_V4,
    max_host_concurrency=10,
    max_messages_per_connection=7,
    recipient_minutes=5,
    recipient_limit=100,
    limit_type=LimitType.MXIP,
    limit_apply=LimitApply.VG,
    bounce_validation=True,
    bounce_profile="Bulk",
    tls=Tls.REQUIRED,
)
FULL_DOC = {
    "ip_sort_pref": "PREFER_V4",
    "max_host_concurrency": 10,
    "max_messages_per_connection": 7,
    "recipient_minutes": 5,
    "recipient_limit": 100,
    "limit_type": "MXIP",
    "limit_apply": "VG",
    "bounce_validation": True,
    "bounce_profile": "Bulk",
    "tls": "REQUIRED",
}
FULL_DETAIL = """\
example.com
    IP Address Preference:           Prefer IPv4
    Concurrent Connections:          10
    Maximum Messages Per Connection: 7
    Recipients Limit:                100 per 5 minutes
    Apply Limits Per Destination:    Each Mail Exchanger IP Address
    Apply Limits Per ESA Hostname:   Each Virtual Gateway
    TLS Support:                     Required
    Bounce Verification:             On
    Bounce Profile:                  Bulk
"""
FACTORY_DEFAULT_DETAIL = """\
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


def full_table() -> Table:
    return Table(bounce_profiles=("Bulk",)).with_entry("example.com", FULL)


# A table with a bit of everything, for LIST and DETAIL.

MIXED = (
    Table(
        bounce_profiles=("LongProfileName",),
        default=DefaultEntry(
            ip_sort_pref=IpSort.REQUIRE_V4,
            recipient_limit=500,
            recipient_minutes=60,
            bounce_validation=True,
            tls=Tls.PREFERRED,
        ),
    )
    .with_entry("example.com", Entry(tls=Tls.REQUIRED))
    .with_entry(
        ".example.com",
        Entry(
            max_host_concurrency=10,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
            bounce_validation=False,
            ip_sort_pref=IpSort.PREFER_V4,
        ),
    )
    .with_entry(
        "[192.0.2.1]", Entry(tls=Tls.NO, bounce_profile="LongProfileName", bounce_validation=True)
    )
    .with_entry(
        "xn--bcher-kva.example",
        Entry(ip_sort_pref=IpSort.REQUIRE_V6, max_messages_per_connection=5),
    )
)
MIXED_LIST = """\
                      Rate             Bounce       Bounce          IP Version
Domain                Limiting TLS     Verification Profile         Preference
===================== ======== ======= ============ =============== ============
.example.com          On       Default Off          Default         Prefer IPv4
[192.0.2.1]           Default  Off     On           LongProfileName Default
example.com           Default  On      Default      Default         Default
xn--bcher-kva.example On       Default Default      Default         Require IPv6
(Default)             On       On      On           (Default)       Require IPv4
"""
MIXED_DETAIL_ALL = """\
.example.com
    IP Address Preference:           Prefer IPv4
    Concurrent Connections:          10
    Maximum Messages Per Connection: Default (50)
    Recipients Limit:                Default (500 per 60 minutes)
    Apply Limits Per Destination:    Entire Domain
    Apply Limits Per ESA Hostname:   System Wide
    TLS Support:                     Default (Preferred)
    Bounce Verification:             Off
    Bounce Profile:                  Default

[192.0.2.1]
    IP Address Preference:           Default (Require IPv4)
    Concurrent Connections:          Default (500)
    Maximum Messages Per Connection: Default (50)
    Recipients Limit:                Default (500 per 60 minutes)
    Apply Limits Per Destination:    Default (Entire Domain)
    Apply Limits Per ESA Hostname:   Default (System Wide)
    TLS Support:                     No
    Bounce Verification:             On
    Bounce Profile:                  LongProfileName

example.com
    IP Address Preference:           Default (Require IPv4)
    Concurrent Connections:          Default (500)
    Maximum Messages Per Connection: Default (50)
    Recipients Limit:                Default (500 per 60 minutes)
    Apply Limits Per Destination:    Default (Entire Domain)
    Apply Limits Per ESA Hostname:   Default (System Wide)
    TLS Support:                     Required
    Bounce Verification:             Default (On)
    Bounce Profile:                  Default

xn--bcher-kva.example
    IP Address Preference:           Require IPv6
    Concurrent Connections:          Default (500)
    Maximum Messages Per Connection: 5
    Recipients Limit:                Default (500 per 60 minutes)
    Apply Limits Per Destination:    Default (Entire Domain)
    Apply Limits Per ESA Hostname:   Default (System Wide)
    TLS Support:                     Default (Preferred)
    Bounce Verification:             Default (On)
    Bounce Profile:                  Default

(Default)
    IP Address Preference:           Require IPv4
    Concurrent Connections:          500
    Maximum Messages Per Connection: 50
    Recipients Limit:                500 per 60 minutes
    Apply Limits Per Destination:    Entire Domain
    Apply Limits Per ESA Hostname:   System Wide
    TLS Support:                     Preferred
    Bounce Verification:             On
    Bounce Profile:                  (Default)
"""


# list


def test_list_of_a_fresh_home_is_the_factory_table(dc: Destconfig) -> None:
    assert dc("list") == Result(
        0,
        "          Rate             Bounce       Bounce    IP Version\n"
        "Domain    Limiting TLS     Verification Profile   Preference\n"
        "========= ======== ======= ============ ========= ============\n"
        "(Default) On       Off     Off          (Default) Prefer IPv6\n",
        "",
    )


def test_list_text_is_the_list_table(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    assert dc("list") == Result(0, MIXED_LIST, "")
    assert dc("list", "--format", "text") == Result(0, MIXED_LIST, "")


def test_list_text_equals_the_shells_list(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    out = dc.ok("list")
    shell = run_session(dc.home, "destconfig\nlist\n\n").stdout
    assert f"\n[]> list\n\n{out}\nChoose the operation you want to perform:\n" in shell


def test_list_json_and_toml_are_the_configuration_document(dc: Destconfig) -> None:
    table = (
        Table(bounce_profiles=("Bulk",), settings=Settings(tls_alert=True))
        .with_entry("example.com", Entry(tls=Tls.REQUIRED, bounce_profile="Bulk"))
        .with_entry(
            "[2001:db8::1]",
            Entry(
                recipient_limit=9,
                recipient_minutes=3,
                limit_type=LimitType.MXIP,
                limit_apply=LimitApply.SYSTEM,
            ),
        )
    )
    seed(dc.home, table)
    expected = {
        "settings": {"certificate": "Demo", "tls_alert": True},
        "certificates": ["Demo"],
        "bounce_profiles": ["Bulk"],
        "default": FACTORY_DEFAULT,
        "entries": {
            "[2001:db8::1]": {
                "recipient_minutes": 3,
                "recipient_limit": 9,
                "limit_type": "MXIP",
                "limit_apply": "system",
            },
            "example.com": {"bounce_profile": "Bulk", "tls": "REQUIRED"},
        },
    }
    as_json = dc.ok("list", "--format", "json")
    assert json.loads(as_json) == expected
    assert list(json.loads(as_json)["entries"]) == ["[2001:db8::1]", "example.com"]  # LIST order
    assert tomllib.loads(dc.ok("list", "--format", "toml")) == expected


def test_list_of_a_damaged_configuration_exits_2_and_leaves_it(dc: Destconfig) -> None:
    dc.home.mkdir()
    damaged = b"[default]\nmax_host_concurrency = 5000\n"
    (dc.home / "config.toml").write_bytes(damaged)
    for args in (("list",), ("new", "example.com"), ("detail", "all"), ("export", "-")):
        assert dc(*args) == Result(
            2,
            "",
            f"destconfig: {dc.home / 'config.toml'} is not a valid configuration:\n"
            "destconfig:   default.max_host_concurrency: Input should be less than or equal "
            "to 1000\n",
        )
    assert (dc.home / "config.toml").read_bytes() == damaged


def test_list_bad_format_is_a_usage_error(dc: Destconfig) -> None:
    usage_error(
        dc("list", "--format", "yaml"),
        "list",
        "argument --format: invalid choice: 'yaml' (choose from 'text', 'json', 'toml')",
    )


# detail


def test_detail_of_an_entry_is_the_detail_block(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    assert dc("detail", "example.com") == Result(0, FULL_DETAIL, "")


def test_detail_of_an_entry_left_at_default_shows_the_effective_values(dc: Destconfig) -> None:
    seed(dc.home, Table().with_entry("example.com", Entry(tls=Tls.REQUIRED)))
    assert dc("detail", "example.com") == Result(
        0,
        "example.com\n"
        "    IP Address Preference:           Default (Prefer IPv6)\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Required\n"
        "    Bounce Verification:             Default (Off)\n"
        "    Bounce Profile:                  Default\n",
        "",
    )


def test_detail_default_and_all(dc: Destconfig) -> None:
    assert dc("detail", "default") == Result(0, FACTORY_DEFAULT_DETAIL, "")
    seed(dc.home, MIXED)
    assert dc("detail", "all") == Result(0, MIXED_DETAIL_ALL, "")
    assert dc("detail", "ALL").out == MIXED_DETAIL_ALL
    default_block = MIXED_DETAIL_ALL[MIXED_DETAIL_ALL.index("(Default)\n") :]
    assert dc("detail", "Default") == Result(0, default_block, "")


def test_detail_equals_the_shells_detail(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    for answer in ("all", "default", "example.com", "[192.0.2.1]", "xn--bcher-kva.example"):
        out = dc.ok("detail", answer)
        shell = run_session(dc.home, f"destconfig\ndetail\n{answer}\n\n").stdout
        assert f"\n[]> {answer}\n\n{out}\nChoose the operation you want to perform:\n" in shell


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("EXAMPLE.com", "example.com"),
        (" example.com ", "example.com"),
        ("192.0.2.1", "[192.0.2.1]"),
        ("[192.0.2.1]", "[192.0.2.1]"),
        ("Bücher.example", "xn--bcher-kva.example"),
        (".EXAMPLE.COM", ".example.com"),
    ],
)
def test_detail_normalises_the_destination(dc: Destconfig, typed: str, key: str) -> None:
    seed(dc.home, MIXED)
    out = dc.ok("detail", typed)
    assert out.startswith(f"{key}\n    IP Address Preference:")
    assert out == dc.ok("detail", key)


def test_detail_of_a_missing_entry_exits_1(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    assert dc("detail", "nope.example") == Result(
        1, "", 'destconfig: "nope.example" was not found in the destination control table.\n'
    )
    # a pattern is not its apex, nor the apex its pattern
    assert dc("detail", "b.example.com").status == 1
    assert dc("detail", "www.example.com").status == 1


def test_detail_of_an_invalid_destination_is_a_usage_error(dc: Destconfig) -> None:
    usage_error(
        dc("detail", "bad dest"),
        "detail",
        'argument DEST|default|all: Invalid destination "bad dest". Enter a domain '
        "(example.com), a subdomain (.example.com) or an IP address (192.0.2.1).",
    )


def test_detail_json_and_toml(dc: Destconfig) -> None:
    seed(dc.home, MIXED)
    entry = {
        "destination": "example.com",
        "settings": {"tls": "REQUIRED"},
        "effective": {
            "ip_sort_pref": "REQUIRE_V4",
            "max_host_concurrency": 500,
            "max_messages_per_connection": 50,
            "recipient_minutes": 60,
            "recipient_limit": 500,
            "limit_type": "host",
            "limit_apply": "system",
            "bounce_validation": True,
            "tls": "REQUIRED",
            "dane": "NO",
        },
    }
    default_settings = {
        "ip_sort_pref": "REQUIRE_V4",
        "max_host_concurrency": 500,
        "max_messages_per_connection": 50,
        "recipient_minutes": 60,
        "recipient_limit": 500,
        "limit_type": "host",
        "limit_apply": "system",
        "bounce_validation": True,
        "tls": "PREFERRED",
        "dane": "NO",
    }
    default = {
        "destination": "(Default)",
        "settings": default_settings,
        "effective": default_settings,
    }
    assert dc.document("detail", "example.com") == {"details": [entry]}
    assert tomllib.loads(dc.ok("detail", "example.com", "--format", "toml")) == {"details": [entry]}
    assert dc.document("detail", "default") == {"details": [default]}
    everything = dc.document("detail", "all")["details"]
    assert [item["destination"] for item in everything] == [
        ".example.com",
        "[192.0.2.1]",
        "example.com",
        "xn--bcher-kva.example",
        "(Default)",
    ]
    assert everything[2] == entry
    assert everything[-1] == default
    assert everything[1] == {
        "destination": "[192.0.2.1]",
        "settings": {"bounce_validation": True, "bounce_profile": "LongProfileName", "tls": "NO"},
        "effective": {
            **default_settings,
            "bounce_profile": "LongProfileName",
            "tls": "NO",
        },
    }
    assert tomllib.loads(dc.ok("detail", "all", "--format", "toml"))["details"] == everything


def test_detail_json_of_a_missing_entry_exits_1(dc: Destconfig) -> None:
    assert dc("detail", "nope.example", "--format", "json") == Result(
        1, "", 'destconfig: "nope.example" was not found in the destination control table.\n'
    )


# new


NEW_SETTINGS = [
    (
        ("--concurrency", "10"),
        {"max_host_concurrency": 10, "limit_type": "host", "limit_apply": "system"},
    ),
    (
        ("--concurrency", "1000"),
        {"max_host_concurrency": 1000, "limit_type": "host", "limit_apply": "system"},
    ),
    (
        ("--concurrency", "1"),
        {"max_host_concurrency": 1, "limit_type": "host", "limit_apply": "system"},
    ),
    (("--messages-per-connection", "7"), {"max_messages_per_connection": 7}),
    (
        ("--recipient-limit", "100"),
        {
            "recipient_minutes": 60,
            "recipient_limit": 100,
            "limit_type": "host",
            "limit_apply": "system",
        },
    ),
    (
        ("--recipient-limit", "0", "--recipient-minutes", "1"),
        {
            "recipient_minutes": 1,
            "recipient_limit": 0,
            "limit_type": "host",
            "limit_apply": "system",
        },
    ),
    (
        ("--recipient-limit", "1000000000", "--recipient-minutes", "60"),
        {
            "recipient_minutes": 60,
            "recipient_limit": 1000000000,
            "limit_type": "host",
            "limit_apply": "system",
        },
    ),
    (
        ("--concurrency", "5", "--limit-type", "MXIP", "--limit-apply", "VG"),
        {"max_host_concurrency": 5, "limit_type": "MXIP", "limit_apply": "VG"},
    ),
    (
        ("--concurrency", "5", "--limit-type", "1", "--limit-apply", "1"),
        {"max_host_concurrency": 5, "limit_type": "MXIP", "limit_apply": "VG"},
    ),
    (
        ("--concurrency", "5", "--limit-type", "0", "--limit-apply", "0"),
        {"max_host_concurrency": 5, "limit_type": "host", "limit_apply": "system"},
    ),
    (
        ("--recipient-limit", "5", "--limit-type", "mxip"),
        {
            "recipient_minutes": 60,
            "recipient_limit": 5,
            "limit_type": "MXIP",
            "limit_apply": "system",
        },
    ),
    (
        ("--concurrency", "5", "--limit-apply", "vg"),
        {"max_host_concurrency": 5, "limit_type": "host", "limit_apply": "VG"},
    ),
    (("--tls", "NO"), {"tls": "NO"}),
    (("--tls", "PREFERRED"), {"tls": "PREFERRED"}),
    (("--tls", "REQUIRED"), {"tls": "REQUIRED"}),
    (("--tls", "PREFERRED_VERIFY"), {"tls": "PREFERRED_VERIFY"}),
    (("--tls", "REQUIRED_VERIFY"), {"tls": "REQUIRED_VERIFY"}),
    (("--tls", "REQUIRED_VERIFY_HOSTED"), {"tls": "REQUIRED_VERIFY_HOSTED"}),
    (("--tls", "no"), {"tls": "NO"}),
    (("--tls", "Required"), {"tls": "REQUIRED"}),
    (("--tls", "required-verify"), {"tls": "REQUIRED_VERIFY"}),
    (("--tls", "PREFERRED-VERIFY"), {"tls": "PREFERRED_VERIFY"}),
    (("--tls", "required_verify_hosted"), {"tls": "REQUIRED_VERIFY_HOSTED"}),
    (("--tls", "required-verify-hosted"), {"tls": "REQUIRED_VERIFY_HOSTED"}),
    (("--bounce-verification", "on"), {"bounce_validation": True}),
    (("--bounce-verification", "OFF"), {"bounce_validation": False}),
    (("--bounce-verification", "1"), {"bounce_validation": True}),
    (("--bounce-verification", "0"), {"bounce_validation": False}),
    (("--ip-sort", "prefer-v4"), {"ip_sort_pref": "PREFER_V4"}),
    (("--ip-sort", "PREFER_V6"), {"ip_sort_pref": "PREFER_V6"}),
    (("--ip-sort", "require-v4"), {"ip_sort_pref": "REQUIRE_V4"}),
    (("--ip-sort", "Require-V6"), {"ip_sort_pref": "REQUIRE_V6"}),
    (
        (
            "--concurrency",
            "20",
            "--messages-per-connection",
            "3",
            "--recipient-limit",
            "40",
            "--recipient-minutes",
            "15",
            "--limit-type",
            "MXIP",
            "--limit-apply",
            "VG",
            "--tls",
            "preferred",
            "--bounce-verification",
            "on",
            "--ip-sort",
            "require-v6",
        ),
        {
            "ip_sort_pref": "REQUIRE_V6",
            "max_host_concurrency": 20,
            "max_messages_per_connection": 3,
            "recipient_minutes": 15,
            "recipient_limit": 40,
            "limit_type": "MXIP",
            "limit_apply": "VG",
            "bounce_validation": True,
            "tls": "PREFERRED",
        },
    ),
]


@pytest.mark.parametrize(("args", "expected"), NEW_SETTINGS)
def test_new_with_each_setting(
    dc: Destconfig, args: tuple[str, ...], expected: dict[str, Any]
) -> None:
    assert dc("new", "example.com", *args) == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {"example.com": expected}


def test_new_with_a_bounce_profile_makes_it_known(dc: Destconfig) -> None:
    assert dc("new", "example.com", "--bounce-profile", "Bulk-mail_2.0") == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["entries"] == {"example.com": {"bounce_profile": "Bulk-mail_2.0"}}
    assert document["bounce_profiles"] == ["Bulk-mail_2.0"]
    assert "\nexample.com Default  Default Default      Bulk-mail_2.0 Default\n" in dc.ok("list")


SETTING_FLAGS = (
    "--concurrency",
    "--messages-per-connection",
    "--recipient-limit",
    "--recipient-minutes",
    "--limit-type",
    "--limit-apply",
    "--tls",
    "--bounce-verification",
    "--bounce-profile",
    "--ip-sort",
)


@pytest.mark.parametrize("flag", SETTING_FLAGS)
def test_new_with_default_leaves_the_setting_at_default(dc: Destconfig, flag: str) -> None:
    assert dc("new", "example.com", flag, "default") == Result(0, COMMITTED, "")
    assert dc("new", "example.org", flag, "DEFAULT") == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {"example.com": {}, "example.org": {}}
    assert dc.document()["bounce_profiles"] == []


def test_new_with_every_setting_at_default(dc: Destconfig) -> None:
    args = [part for flag in SETTING_FLAGS for part in (flag, "default")]
    assert dc("new", "example.com", *args) == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {"example.com": {}}


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Example.COM", "example.com"),
        (".Example.com", ".example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("192.0.2.1", "[192.0.2.1]"),
        ("[192.0.2.1]", "[192.0.2.1]"),
        ("2001:DB8:0:0::1", "[2001:db8::1]"),
        ("[2001:db8::1]", "[2001:db8::1]"),
    ],
)
def test_new_stores_the_normalised_destination(dc: Destconfig, typed: str, key: str) -> None:
    assert dc("new", typed, "--tls", "REQUIRED") == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {key: {"tls": "REQUIRED"}}
    assert log_of(dc.home) == f"{TIME}\tnew {key}\n"


@pytest.mark.parametrize("spelling", ["example.com", "EXAMPLE.com", " example.com"])
def test_new_on_an_existing_entry_exits_1_and_commits_nothing(
    dc: Destconfig, spelling: str
) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    refused(dc("new", spelling, "--tls", "PREFERRED"), 'An entry for "example.com" already exists.')
    assert snapshot(dc.home) == before


def test_new_on_an_existing_idna_entry_names_it_by_its_stored_key(dc: Destconfig) -> None:
    dc.ok("new", "bücher.example")
    refused(dc("new", "BÜCHER.example"), 'An entry for "xn--bcher-kva.example" already exists.')


BAD_VALUES = [
    ("--concurrency", "0", "a number from 1 to 1000"),
    ("--concurrency", "1001", "a number from 1 to 1000"),
    ("--concurrency", "ten", "a number from 1 to 1000"),
    ("--concurrency", "-5", "a number from 1 to 1000"),
    ("--concurrency", "+5", "a number from 1 to 1000"),
    ("--concurrency", "5.0", "a number from 1 to 1000"),
    ("--messages-per-connection", "0", "a number from 1 to 1000"),
    ("--messages-per-connection", "1001", "a number from 1 to 1000"),
    ("--recipient-limit", "1000000001", "a number from 0 to 1000000000"),
    ("--recipient-limit", "none", "a number from 0 to 1000000000"),
    ("--recipient-minutes", "0", "a number from 1 to 60"),
    ("--recipient-minutes", "61", "a number from 1 to 60"),
    ("--limit-type", "domain", "host (or 0), MXIP (or 1)"),
    ("--limit-type", "2", "host (or 0), MXIP (or 1)"),
    ("--limit-apply", "2", "system (or 0), VG (or 1)"),
    ("--limit-apply", "gateway", "system (or 0), VG (or 1)"),
    (
        "--tls",
        "required verify",
        "NO, PREFERRED, REQUIRED, PREFERRED_VERIFY, REQUIRED_VERIFY, REQUIRED_VERIFY_HOSTED",
    ),
    ("--bounce-verification", "yes", "0 (or off), 1 (or on)"),
    (
        "--bounce-profile",
        "9lives",
        "a profile name: a letter, then letters, digits, '-', '_' or '.' (64 at most)",
    ),
    (
        "--bounce-profile",
        "New Profile",
        "a profile name: a letter, then letters, digits, '-', '_' or '.' (64 at most)",
    ),
    (
        "--bounce-profile",
        "P" * 65,
        "a profile name: a letter, then letters, digits, '-', '_' or '.' (64 at most)",
    ),
    ("--ip-sort", "IPv6", "PREFER_V4, PREFER_V6, REQUIRE_V4, REQUIRE_V6"),
    ("--ip-sort", "prefer v4", "PREFER_V4, PREFER_V6, REQUIRE_V4, REQUIRE_V6"),
]


@pytest.mark.parametrize(("flag", "value", "allowed"), BAD_VALUES)
@pytest.mark.parametrize("command", ["new", "edit"])
def test_bad_values_are_usage_errors(
    dc: Destconfig, command: str, flag: str, value: str, allowed: str
) -> None:
    usage_error(
        dc(command, "example.com", flag, value),
        command,
        f"argument {flag}: bad value {value!r}; use {allowed} or default",
    )
    assert not dc.home.exists()  # refused before anything was touched


@pytest.mark.parametrize(
    "dest", ["bad dest", "default", "ALL", "user@example.com", "192.0.2.300", ".", "x-.example"]
)
@pytest.mark.parametrize("command", ["new", "edit", "delete"])
def test_invalid_destinations_are_usage_errors(dc: Destconfig, command: str, dest: str) -> None:
    usage_error(
        dc(command, dest),
        command,
        f'argument DEST: Invalid destination "{dest}". Enter a domain (example.com), '
        "a subdomain (.example.com) or an IP address (192.0.2.1).",
    )
    assert not dc.home.exists()


def test_invalid_destination_with_a_control_character_is_escaped(dc: Destconfig) -> None:
    usage_error(
        dc("new", "exa\x1bmple.com"),
        "new",
        'argument DEST: Invalid destination "exa\\x1bmple.com". Enter a domain (example.com), '
        "a subdomain (.example.com) or an IP address (192.0.2.1).",
    )


@pytest.mark.parametrize(
    ("args", "command", "message"),
    [
        (("new",), "new", "the following arguments are required: DEST"),
        (("edit",), "edit", "the following arguments are required: DEST"),
        (("delete",), "delete", "the following arguments are required: DEST"),
        (("detail",), "detail", "the following arguments are required: DEST|default|all"),
        (("new", "example.com", "--tls"), "new", "argument --tls: expected one argument"),
        (("new", "a.example", "b.example"), "new", "unrecognized arguments: b.example"),
        (("new", "example.com", "--frobnicate"), "new", "unrecognized arguments: --frobnicate"),
    ],
)
def test_malformed_command_lines_are_usage_errors(
    dc: Destconfig, args: tuple[str, ...], command: str, message: str
) -> None:
    usage_error(dc(*args), command, message)
    assert not dc.home.exists()


def test_unknown_command_is_a_usage_error(dc: Destconfig) -> None:
    result = dc("frobnicate")
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(
        "destconfig: argument COMMAND: invalid choice: 'frobnicate' (choose from 'replay', "
    )
    assert result.err.endswith(")\ndestconfig: try 'destconfig --help' for more information\n")
    assert result.err.count("\n") == 2


# The recipient pair and the limit choices.


def test_recipient_limit_alone_gets_60_minutes(dc: Destconfig) -> None:
    dc.ok("new", "example.com", "--recipient-limit", "25")
    assert dc.document()["entries"]["example.com"] == {
        "recipient_minutes": 60,
        "recipient_limit": 25,
        "limit_type": "host",
        "limit_apply": "system",
    }
    assert "    Recipients Limit:                25 per 60 minutes\n" in dc.ok(
        "detail", "example.com"
    )


REFUSED_LIMITS = [
    # (entry before, args, message)
    (None, ("--recipient-minutes", "5"), "--recipient-minutes needs --recipient-limit"),
    (None, ("--limit-type", "MXIP"), "--limit-type needs --concurrency or --recipient-limit"),
    (None, ("--limit-apply", "VG"), "--limit-apply needs --concurrency or --recipient-limit"),
    (
        None,
        ("--limit-type", "MXIP", "--limit-apply", "VG"),
        "--limit-type and --limit-apply need --concurrency or --recipient-limit",
    ),
    (
        None,
        ("--limit-type", "host", "--concurrency", "default"),
        "--limit-type needs --concurrency or --recipient-limit",
    ),
    (
        None,
        ("--messages-per-connection", "5", "--limit-apply", "system"),
        "--limit-apply needs --concurrency or --recipient-limit",
    ),
    (
        Entry(max_messages_per_connection=5),
        ("--limit-type", "MXIP"),
        "--limit-type needs --concurrency or --recipient-limit",
    ),
    (
        Entry(max_messages_per_connection=5),
        ("--recipient-minutes", "5"),
        "--recipient-minutes needs --recipient-limit",
    ),
    (
        Entry(max_host_concurrency=5, limit_type=LimitType.MXIP, limit_apply=LimitApply.VG),
        ("--concurrency", "default", "--limit-apply", "VG"),
        "--limit-apply needs --concurrency or --recipient-limit",
    ),
]


@pytest.mark.parametrize(("entry", "args", "message"), REFUSED_LIMITS)
def test_limit_rules_refuse_the_change_and_commit_nothing(
    dc: Destconfig, entry: Entry | None, args: tuple[str, ...], message: str
) -> None:
    table = Table().with_entry("other.example", Entry(tls=Tls.REQUIRED))
    if entry is not None:
        table = table.with_entry("example.com", entry)
    seed(dc.home, table)
    before = snapshot(dc.home)
    command = "new" if entry is None else "edit"
    refused(dc(command, "example.com", *args), message)
    refused(dc(command, "example.com", *args, "--dry-run"), message)
    assert snapshot(dc.home) == before


EDIT_FULL = [
    # (args, what the entry becomes, starting from FULL_DOC)
    (("--concurrency", "20"), {**FULL_DOC, "max_host_concurrency": 20}),
    (("--messages-per-connection", "9"), {**FULL_DOC, "max_messages_per_connection": 9}),
    (("--recipient-limit", "9"), {**FULL_DOC, "recipient_limit": 9}),  # minutes stay 5
    (("--recipient-minutes", "30"), {**FULL_DOC, "recipient_minutes": 30}),  # limit stays
    (("--limit-type", "host"), {**FULL_DOC, "limit_type": "host"}),
    (("--limit-apply", "0"), {**FULL_DOC, "limit_apply": "system"}),
    (("--tls", "REQUIRED_VERIFY_HOSTED"), {**FULL_DOC, "tls": "REQUIRED_VERIFY_HOSTED"}),
    (("--tls", "preferred-verify"), {**FULL_DOC, "tls": "PREFERRED_VERIFY"}),
    (("--bounce-verification", "off"), {**FULL_DOC, "bounce_validation": False}),
    (("--bounce-profile", "Other"), {**FULL_DOC, "bounce_profile": "Other"}),
    (("--ip-sort", "require-v6"), {**FULL_DOC, "ip_sort_pref": "REQUIRE_V6"}),
    # default: back to Default
    (
        ("--concurrency", "default"),
        {k: v for k, v in FULL_DOC.items() if k != "max_host_concurrency"},
    ),
    (
        ("--messages-per-connection", "default"),
        {k: v for k, v in FULL_DOC.items() if k != "max_messages_per_connection"},
    ),
    (
        ("--recipient-limit", "default"),
        {k: v for k, v in FULL_DOC.items() if not k.startswith("recipient_")},
    ),
    (
        ("--recipient-minutes", "default"),
        {k: v for k, v in FULL_DOC.items() if not k.startswith("recipient_")},
    ),
    (
        ("--recipient-limit", "default", "--recipient-minutes", "7"),
        {k: v for k, v in FULL_DOC.items() if not k.startswith("recipient_")},
    ),
    (
        ("--recipient-limit", "8", "--recipient-minutes", "default"),
        {k: v for k, v in FULL_DOC.items() if not k.startswith("recipient_")},
    ),
    (("--limit-type", "default"), {**FULL_DOC, "limit_type": "host"}),
    (("--limit-apply", "default"), {**FULL_DOC, "limit_apply": "system"}),
    (("--tls", "default"), {k: v for k, v in FULL_DOC.items() if k != "tls"}),
    (
        ("--bounce-verification", "default"),
        {k: v for k, v in FULL_DOC.items() if k != "bounce_validation"},
    ),
    (("--bounce-profile", "default"), {k: v for k, v in FULL_DOC.items() if k != "bounce_profile"}),
    (("--ip-sort", "default"), {k: v for k, v in FULL_DOC.items() if k != "ip_sort_pref"}),
    # the last limit goes: the limit choices go with it
    (
        ("--concurrency", "default", "--recipient-limit", "default"),
        {
            "ip_sort_pref": "PREFER_V4",
            "max_messages_per_connection": 7,
            "bounce_validation": True,
            "bounce_profile": "Bulk",
            "tls": "REQUIRED",
        },
    ),
    (
        tuple(part for flag in SETTING_FLAGS for part in (flag, "default")),
        {},
    ),
]


@pytest.mark.parametrize(("args", "expected"), EDIT_FULL)
def test_edit_each_setting(dc: Destconfig, args: tuple[str, ...], expected: dict[str, Any]) -> None:
    seed(dc.home, full_table())
    assert dc("edit", "example.com", *args) == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {"example.com": expected}


def test_edit_a_new_profile_joins_the_known_ones_and_default_keeps_them(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    dc.ok("edit", "example.com", "--bounce-profile", "Other")
    assert dc.document()["bounce_profiles"] == ["Bulk", "Other"]
    dc.ok("edit", "example.com", "--bounce-profile", "default")
    assert dc.document()["bounce_profiles"] == ["Bulk", "Other"]


def test_the_last_limit_going_drops_the_limit_choices(dc: Destconfig) -> None:
    dc.ok("new", "example.com", "--concurrency", "5", "--limit-type", "MXIP", "--limit-apply", "VG")
    dc.ok("new", "example.org", "--recipient-limit", "5", "--limit-apply", "VG")
    dc.ok("edit", "example.com", "--concurrency", "default")
    dc.ok("edit", "example.org", "--recipient-minutes", "default")
    assert dc.document()["entries"] == {"example.com": {}, "example.org": {}}
    assert dc.ok("detail", "example.com") == (
        "example.com\n"
        "    IP Address Preference:           Default (Prefer IPv6)\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Default (No)\n"
        "    Bounce Verification:             Default (Off)\n"
        "    Bounce Profile:                  Default\n"
    )


def test_a_limit_added_later_fills_the_choices(dc: Destconfig) -> None:
    dc.ok("new", "example.com", "--messages-per-connection", "4")
    dc.ok("edit", "example.com", "--recipient-limit", "10", "--limit-type", "MXIP")
    assert dc.document()["entries"]["example.com"] == {
        "max_messages_per_connection": 4,
        "recipient_minutes": 60,
        "recipient_limit": 10,
        "limit_type": "MXIP",
        "limit_apply": "system",
    }


def test_edit_changes_only_what_is_given(dc: Destconfig) -> None:
    seed(dc.home, full_table().with_entry("example.org", Entry(tls=Tls.PREFERRED)))
    dc.ok("edit", "EXAMPLE.com", "--tls", "REQUIRED_VERIFY")
    assert dc.document()["entries"] == {
        "example.com": {**FULL_DOC, "tls": "REQUIRED_VERIFY"},
        "example.org": {"tls": "PREFERRED"},
    }


@pytest.mark.parametrize(
    "args", [(), ("--tls", "REQUIRED"), ("--tls", "required"), ("--limit-type", "MXIP")]
)
def test_edit_without_a_change_commits_nothing(dc: Destconfig, args: tuple[str, ...]) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    assert dc("edit", "example.com", *args) == Result(0, NO_CHANGES, "")
    assert snapshot(dc.home) == before


def test_edit_of_a_missing_entry_exits_1_and_commits_nothing(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    message = '"nope.example" was not found in the destination control table.'
    refused(dc("edit", "nope.example", "--tls", "PREFERRED"), message)
    refused(dc("edit", "NOPE.example", "--tls", "PREFERRED", "--dry-run"), message)
    # a pattern is not its apex
    refused(
        dc("edit", ".example.com", "--tls", "PREFERRED"),
        '".example.com" was not found in the destination control table.',
    )
    assert snapshot(dc.home) == before


# delete


def test_delete_one_and_several(dc: Destconfig) -> None:
    seed(
        dc.home,
        full_table()
        .with_entry("a.example", Entry())
        .with_entry("[192.0.2.1]", Entry(tls=Tls.NO))
        .with_entry("xn--bcher-kva.example", Entry()),
    )
    assert dc("delete", "a.example") == Result(0, COMMITTED, "")
    assert list(dc.document()["entries"]) == ["[192.0.2.1]", "example.com", "xn--bcher-kva.example"]
    assert dc("delete", "192.0.2.1", "Bücher.example", "EXAMPLE.COM") == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["entries"] == {}
    assert document["bounce_profiles"] == ["Bulk"]  # profiles stay known
    assert log_of(dc.home) == (
        f"{TIME}\tdelete a.example\n{TIME}\tdelete [192.0.2.1] xn--bcher-kva.example example.com\n"
    )


def test_delete_the_same_entry_twice_in_one_command(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    assert dc("delete", "example.com", "Example.com") == Result(0, COMMITTED, "")
    assert dc.document()["entries"] == {}


@pytest.mark.parametrize(
    "dests",
    [
        ("missing.example",),
        ("example.com", "missing.example"),
        ("missing.example", "example.com"),
        ("example.org", "example.com", "missing.example"),
    ],
)
def test_delete_with_a_missing_entry_removes_none(dc: Destconfig, dests: tuple[str, ...]) -> None:
    seed(dc.home, full_table().with_entry("example.org", Entry()))
    before = snapshot(dc.home)
    refused(
        dc("delete", *dests),
        '"missing.example" was not found in the destination control table.',
    )
    assert snapshot(dc.home) == before
    assert list(dc.document()["entries"]) == ["example.com", "example.org"]


def test_delete_names_the_first_missing_entry(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    refused(
        dc("delete", "first.example", "example.com", "second.example"),
        '"first.example" was not found in the destination control table.',
    )


# default


DEFAULT_SETTINGS = [
    (("--concurrency", "100"), {"max_host_concurrency": 100}),
    (("--messages-per-connection", "10"), {"max_messages_per_connection": 10}),
    (("--recipient-limit", "100"), {"recipient_limit": 100, "recipient_minutes": 60}),
    (("--recipient-limit", "0"), {"recipient_limit": 0, "recipient_minutes": 60}),
    (
        ("--recipient-limit", "5", "--recipient-minutes", "2"),
        {"recipient_limit": 5, "recipient_minutes": 2},
    ),
    (("--limit-type", "MXIP"), {"limit_type": "MXIP"}),
    (("--limit-type", "1"), {"limit_type": "MXIP"}),
    (("--limit-apply", "VG"), {"limit_apply": "VG"}),
    (("--tls", "required-verify"), {"tls": "REQUIRED_VERIFY"}),
    (("--tls", "REQUIRED_VERIFY_HOSTED"), {"tls": "REQUIRED_VERIFY_HOSTED"}),
    (("--bounce-verification", "on"), {"bounce_validation": True}),
    (("--ip-sort", "require-v4"), {"ip_sort_pref": "REQUIRE_V4"}),
    (("--ip-sort", "prefer-v4"), {"ip_sort_pref": "PREFER_V4"}),
]


@pytest.mark.parametrize(("args", "changed"), DEFAULT_SETTINGS)
def test_default_with_each_setting(
    dc: Destconfig, args: tuple[str, ...], changed: dict[str, Any]
) -> None:
    seed(dc.home, full_table())
    assert dc("default", *args) == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["default"] == {**FACTORY_DEFAULT, **changed}
    assert document["entries"] == {"example.com": FULL_DOC}
    assert log_of(dc.home) == f"{TIME}\tdefault\n"


def test_default_values_show_through_entries_left_at_default(dc: Destconfig) -> None:
    dc.ok("new", "example.com")
    dc.ok("default", "--tls", "REQUIRED", "--recipient-limit", "30", "--ip-sort", "prefer-v4")
    assert dc.ok("detail", "example.com") == (
        "example.com\n"
        "    IP Address Preference:           Default (Prefer IPv4)\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (30 per 60 minutes)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Default (Required)\n"
        "    Bounce Verification:             Default (Off)\n"
        "    Bounce Profile:                  Default\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--recipient-limit", "none"),
        ("--recipient-limit", "NONE"),
        ("--recipient-limit", "default"),
        ("--recipient-limit", "none", "--recipient-minutes", "5"),
    ],
)
def test_default_recipient_limit_none_removes_the_pair(
    dc: Destconfig, args: tuple[str, ...]
) -> None:
    seed(dc.home, Table(default=DefaultEntry(recipient_limit=500, recipient_minutes=10)))
    assert dc("default", *args) == Result(0, COMMITTED, "")
    assert dc.document()["default"] == FACTORY_DEFAULT
    assert "    Recipients Limit:                No Limit\n" in dc.ok("detail", "default")


def test_default_recipient_limit_none_without_one_changes_nothing(dc: Destconfig) -> None:
    assert dc("default", "--recipient-limit", "none") == Result(0, NO_CHANGES, "")
    assert not (dc.home / "config.toml").exists()


def test_default_recipient_minutes_alone(dc: Destconfig) -> None:
    refused(
        dc("default", "--recipient-minutes", "5"), "--recipient-minutes needs --recipient-limit"
    )
    assert not (dc.home / "config.toml").exists()
    seed(dc.home, Table(default=DefaultEntry(recipient_limit=500, recipient_minutes=10)))
    assert dc("default", "--recipient-minutes", "3") == Result(0, COMMITTED, "")
    assert dc.document()["default"] == {
        **FACTORY_DEFAULT,
        "recipient_limit": 500,
        "recipient_minutes": 3,
    }


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        (
            "--tls",
            "default",
            "argument --tls: bad value 'default'; use NO, PREFERRED, REQUIRED, "
            "PREFERRED_VERIFY, REQUIRED_VERIFY, REQUIRED_VERIFY_HOSTED",
        ),
        (
            "--concurrency",
            "default",
            "argument --concurrency: bad value 'default'; use a number from 1 to 1000",
        ),
        (
            "--recipient-minutes",
            "none",
            "argument --recipient-minutes: bad value 'none'; use a number from 1 to 60",
        ),
        (
            "--recipient-limit",
            "-1",
            "argument --recipient-limit: bad value '-1'; use a number from 0 to 1000000000",
        ),
        (
            "--ip-sort",
            "default",
            "argument --ip-sort: bad value 'default'; use PREFER_V4, PREFER_V6, REQUIRE_V4, "
            "REQUIRE_V6",
        ),
    ],
)
def test_default_bad_values_are_usage_errors(
    dc: Destconfig, flag: str, value: str, message: str
) -> None:
    usage_error(dc("default", flag, value), "default", message)
    assert not dc.home.exists()


def test_default_has_no_bounce_profile(dc: Destconfig) -> None:
    usage_error(
        dc("default", "--bounce-profile", "Bulk"),
        "default",
        "argument --bounce-profile: the default entry has no bounce profile: the system's "
        "default profile applies to every destination without one of its own",
    )
    assert not dc.home.exists()


def test_default_without_options_changes_nothing(dc: Destconfig) -> None:
    assert dc("default") == Result(0, NO_CHANGES, "")
    assert dc("default", "--tls", "NO", "--concurrency", "500") == Result(0, NO_CHANGES, "")
    assert not (dc.home / "config.toml").exists()


# setup


def test_setup_tls_alert(dc: Destconfig) -> None:
    assert dc("setup", "--tls-alert", "on") == Result(0, COMMITTED, "")
    assert dc.document()["settings"] == {"certificate": "Demo", "tls_alert": True}
    assert dc("setup", "--tls-alert", "on") == Result(0, NO_CHANGES, "")
    assert dc("setup", "--tls-alert", "off") == Result(0, COMMITTED, "")
    assert dc.document()["settings"] == {"certificate": "Demo", "tls_alert": False}
    assert log_of(dc.home) == f"{TIME}\tsetup\n{TIME}\tsetup\n"


def test_setup_certificate(dc: Destconfig) -> None:
    seed(dc.home, Table(certificates=("Demo", "Prod"), settings=Settings(certificate="Prod")))
    assert dc("setup", "--certificate", "Demo") == Result(0, COMMITTED, DEMO_WARNING + "\n")
    assert dc.document()["settings"] == {"certificate": "Demo", "tls_alert": False}
    assert dc("setup", "--certificate", "Demo") == Result(0, NO_CHANGES, DEMO_WARNING + "\n")
    assert dc("setup", "--certificate", "Prod", "--tls-alert", "on") == Result(0, COMMITTED, "")
    assert dc.document()["settings"] == {"certificate": "Prod", "tls_alert": True}


def test_setup_without_options_changes_nothing(dc: Destconfig) -> None:
    assert dc("setup") == Result(0, NO_CHANGES, "")
    assert dc("setup", "--certificate", "Demo", "--tls-alert", "off") == Result(
        0, NO_CHANGES, DEMO_WARNING + "\n"
    )
    assert not (dc.home / "config.toml").exists()


@pytest.mark.parametrize(
    ("certificate", "message"),
    [
        ("Other", 'unknown certificate "Other"; the certificates are Demo, Prod'),
        ("demo", 'unknown certificate "demo"; the certificates are Demo, Prod'),
        ("x\x1by", 'unknown certificate "x\\x1by"; the certificates are Demo, Prod'),
    ],
)
def test_setup_unknown_certificate_is_refused(
    dc: Destconfig, certificate: str, message: str
) -> None:
    seed(dc.home, Table(certificates=("Demo", "Prod"), settings=Settings(certificate="Prod")))
    before = snapshot(dc.home)
    refused(dc("setup", "--certificate", certificate, "--tls-alert", "on"), message)
    assert snapshot(dc.home) == before


def test_setup_bad_tls_alert_is_a_usage_error(dc: Destconfig) -> None:
    usage_error(
        dc("setup", "--tls-alert", "yes"),
        "setup",
        "argument --tls-alert: invalid choice: 'yes' (choose from 'on', 'off')",
    )


DEMO_WARNING = (
    'The "Demo" certificate is for testing only and does not keep delivery private. '
    "Install a certificate of your own for production use."
)


def test_setup_certificate_demo_warns_as_the_shell_does(dc: Destconfig) -> None:
    seed(dc.home, Table(certificates=("Demo", "Prod"), settings=Settings(certificate="Prod")))
    result = dc("setup", "--certificate", "Demo")
    assert result.status == 0
    assert DEMO_WARNING in result.out + result.err


# clear


def test_clear_needs_yes(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    assert dc("clear") == Result(
        2, "", "destconfig: clear removes every entry: confirm with --yes\n"
    )
    assert dc("clear", "--dry-run") == Result(
        2, "", "destconfig: clear removes every entry: confirm with --yes\n"
    )
    assert snapshot(dc.home) == before


def test_clear_removes_every_entry_and_keeps_the_rest(dc: Destconfig) -> None:
    table = MIXED.with_settings(Settings(tls_alert=True))
    seed(dc.home, table)
    assert dc("clear", "--yes") == Result(0, COMMITTED, "")
    document = dc.document()
    assert document["entries"] == {}
    assert document["default"] == table.default.model_dump(mode="json", exclude_none=True)
    assert document["settings"] == {"certificate": "Demo", "tls_alert": True}
    assert document["bounce_profiles"] == ["LongProfileName"]
    assert dc("clear", "--yes") == Result(0, NO_CHANGES, "")
    assert log_of(dc.home) == f"{TIME}\tclear\n"


# --dry-run


DRY_RUNS = [
    (("new", "new.example", "--tls", "REQUIRED"), "--- committed\n+++ after\n+ new.example\n"),
    (
        ("edit", "example.com", "--tls", "REQUIRED_VERIFY", "--concurrency", "default"),
        "--- committed\n+++ after\n"
        "~ example.com\n"
        "    max_host_concurrency: 10 -> Default\n"
        "    tls: REQUIRED -> REQUIRED_VERIFY\n",
    ),
    (
        ("edit", "example.com", "--recipient-minutes", "default", "--bounce-verification", "off"),
        "--- committed\n+++ after\n"
        "~ example.com\n"
        "    recipient_minutes: 5 -> Default\n"
        "    recipient_limit: 100 -> Default\n"
        "    bounce_validation: true -> false\n",
    ),
    (
        ("edit", "example.com", "--bounce-profile", "Other"),
        "--- committed\n+++ after\n"
        "+ bounce profile Other\n"
        "~ example.com\n"
        "    bounce_profile: Bulk -> Other\n",
    ),
    (
        ("delete", "example.com", "example.org"),
        "--- committed\n+++ after\n- example.com\n- example.org\n",
    ),
    (
        ("default", "--concurrency", "100", "--recipient-limit", "7"),
        "--- committed\n+++ after\n"
        "~ (Default)\n"
        "    max_host_concurrency: 500 -> 100\n"
        "    recipient_minutes: Default -> 60\n"
        "    recipient_limit: Default -> 7\n",
    ),
    (
        ("setup", "--tls-alert", "on"),
        "--- committed\n+++ after\n~ settings\n    tls_alert: false -> true\n",
    ),
    (("clear", "--yes"), "--- committed\n+++ after\n- example.com\n- example.org\n"),
]


@pytest.mark.parametrize(("args", "expected"), DRY_RUNS)
def test_dry_run_prints_the_change_and_commits_nothing(
    dc: Destconfig, args: tuple[str, ...], expected: str
) -> None:
    seed(dc.home, full_table().with_entry("example.org", Entry()))
    before = snapshot(dc.home)
    assert dc(*args, "--dry-run") == Result(0, expected, "")
    assert snapshot(dc.home) == before


def test_dry_run_on_a_fresh_home_writes_no_configuration(dc: Destconfig) -> None:
    assert dc("new", "example.com", "--dry-run") == Result(
        0, "--- committed\n+++ after\n+ example.com\n", ""
    )
    assert snapshot(dc.home) == {}


def test_dry_run_without_a_change_prints_nothing(dc: Destconfig) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    assert dc("edit", "example.com", "--tls", "REQUIRED", "--dry-run") == Result(0, "", "")
    assert dc("setup", "--dry-run") == Result(0, "", "")
    assert snapshot(dc.home) == before


# Commits: comments, the log, rollback copies, the lock.


def test_each_command_logs_its_default_comment(dc: Destconfig) -> None:
    dc.ok("new", "Example.COM", "--tls", "REQUIRED")
    dc.ok("edit", "example.com", "--tls", "PREFERRED")
    dc.ok("new", "b.example")
    dc.ok("delete", "b.example")
    dc.ok("default", "--tls", "PREFERRED")
    dc.ok("setup", "--tls-alert", "on")
    dc.ok("clear", "--yes")
    assert log_of(dc.home) == (
        f"{TIME}\tnew example.com\n"
        f"{TIME}\tedit example.com\n"
        f"{TIME}\tnew b.example\n"
        f"{TIME}\tdelete b.example\n"
        f"{TIME}\tdefault\n"
        f"{TIME}\tsetup\n"
        f"{TIME}\tclear\n"
    )


@pytest.mark.parametrize(
    ("comment", "logged"),
    [
        ("enable TLS for example.com", "enable TLS for example.com"),
        ("", ""),
        ("  spaced  ", "  spaced  "),
        ("tab\there", "tab\\there"),
        ("two\nlines", "two\\nlines"),
        ("Bücher ✓", "Bücher ✓"),
    ],
)
def test_comment_goes_to_the_log(dc: Destconfig, comment: str, logged: str) -> None:
    assert dc("new", "example.com", "--comment", comment) == Result(0, COMMITTED, "")
    assert log_of(dc.home) == f"{TIME}\t{logged}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("edit", "example.com", "--tls", "PREFERRED"),
        ("delete", "example.com"),
        ("default", "--tls", "PREFERRED"),
        ("setup", "--tls-alert", "on"),
        ("clear", "--yes"),
    ],
)
def test_comment_on_every_change_command(dc: Destconfig, args: tuple[str, ...]) -> None:
    seed(dc.home, full_table())
    assert dc(*args, "--comment", "by script") == Result(0, COMMITTED, "")
    assert log_of(dc.home) == f"{TIME}\tby script\n"


def test_rollback_copies_and_no_rollback(dc: Destconfig) -> None:
    dc.ok("new", "a.example")
    factory = toml_format.dumps(Table())
    assert (dc.home / "rollback" / f"config-00000001-{STAMP}.toml").read_bytes() == factory
    after_first = (dc.home / "config.toml").read_bytes()
    dc.ok("new", "b.example")
    assert (dc.home / "rollback" / f"config-00000002-{STAMP}.toml").read_bytes() == after_first
    assert dc("new", "c.example", "--no-rollback") == Result(0, COMMITTED, "")
    assert sorted(path.name for path in (dc.home / "rollback").glob("*.toml")) == [
        f"config-00000001-{STAMP}.toml",
        f"config-00000002-{STAMP}.toml",
    ]
    dc.ok("delete", "c.example", "--comment", "undo")
    third = dc.home / "rollback" / f"config-00000003-{STAMP}.toml"
    assert third.read_bytes() == toml_format.dumps(
        Table()
        .with_entry("a.example", Entry())
        .with_entry("b.example", Entry())
        .with_entry("c.example", Entry())
    )


def test_no_rollback_on_the_first_commit_keeps_no_copy(dc: Destconfig) -> None:
    dc.ok("new", "a.example", "--no-rollback")
    assert not (dc.home / "rollback").exists()
    assert Store(dc.home).load() == Table().with_entry("a.example", Entry())


def test_commit_writes_the_configuration_the_shell_reads(dc: Destconfig) -> None:
    dc.ok("new", "example.com", "--tls", "PREFERRED_VERIFY")
    assert Store(dc.home).load() == Table().with_entry(
        "example.com", Entry(tls=Tls.PREFERRED_VERIFY)
    )
    assert (dc.home / "config.toml").stat().st_mode & 0o777 == 0o600
    shell = run_session(dc.home, "destconfig\nlist\n\n").stdout
    assert "\nexample.com Default  On      Default      Default   Default\n" in shell
    assert not list(dc.home.glob(".config.toml.*"))  # no temporary file left


def test_a_change_waits_for_the_lock_and_gives_up(
    dc: Destconfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.2)
    lock = FileLock(dc.home / ".lock")
    with lock:
        refused(dc("new", "other.example"), f"{dc.home} is locked by another process")
        refused(dc("clear", "--yes"), f"{dc.home} is locked by another process")
    assert snapshot(dc.home) == before
    assert dc("new", "other.example") == Result(0, COMMITTED, "")


def test_a_refused_change_on_a_fresh_home_leaves_no_configuration(dc: Destconfig) -> None:
    refused(
        dc("edit", "example.com", "--tls", "PREFERRED"),
        '"example.com" was not found in the destination control table.',
    )
    assert snapshot(dc.home) == {}


# Options after the command.


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("list", "--format", "json"),
        ("detail", "all"),
        ("new", "example.com"),
        ("default", "--tls", "PREFERRED"),
        ("setup", "--tls-alert", "on"),
        ("export", "-"),
        ("diff", "current", "current"),
        ("resolve", "user@example.com"),
    ],
)
def test_home_may_follow_the_command(dc: Destconfig, args: tuple[str, ...]) -> None:
    other = dc.home.parent / "other"
    seed(other, Table().with_entry("example.org", Entry(tls=Tls.REQUIRED)))
    after = dc.argv(*args, "--home", str(other))
    before = dc.argv("--home", str(other), *args)
    assert after.status == 0 and after.err == ""
    if args[0] not in ("new", "default", "setup"):
        assert after == before
    assert not dc.home.exists()


def test_home_after_the_command_wins_over_the_one_before(dc: Destconfig) -> None:
    other = dc.home.parent / "other"
    assert dc.argv("--home", str(dc.home), "new", "example.com", "--home", str(other)) == Result(
        0, COMMITTED, ""
    )
    assert (other / "config.toml").exists()
    assert not (dc.home / "config.toml").exists()


def test_home_from_the_environment(dc: Destconfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTCONFIG_HOME", str(dc.home))
    assert dc.argv("new", "example.com") == Result(0, COMMITTED, "")
    assert dc.argv("list").out.endswith(
        "\nexample.com Default  Default Default      Default   Default\n"
        "(Default)   On       Off     Off          (Default) Prefer IPv6\n"
    )


# Real processes: the bytes a user sees.


destconfig = functools.partial(run_process, None)
"""``python -m destconfig ARGS...`` as a real process (``DESTCONFIG_HOME`` unset)."""


COMMITTED_LINE = re.compile(
    rb"Changes committed: [A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \d{4} \S+\n"
)


@pytest.mark.slow
def test_process_changes_and_shows_them(tmp_path: Path) -> None:
    home = str(tmp_path)
    made = destconfig("--home", home, "new", "Bücher.example", "--tls", "required-verify")
    assert made.returncode == 0, made.stderr
    assert COMMITTED_LINE.fullmatch(made.stdout)
    assert made.stderr == b""
    listed = destconfig("list", "--home", home)
    assert listed.returncode == 0
    assert listed.stderr == b""
    assert listed.stdout == (
        b"                      Rate             Bounce       Bounce    IP Version\n"
        b"Domain                Limiting TLS     Verification Profile   Preference\n"
        b"===================== ======== ======= ============ ========= ============\n"
        b"xn--bcher-kva.example Default  On      Default      Default   Default\n"
        b"(Default)             On       Off     Off          (Default) Prefer IPv6\n"
    )
    detail = destconfig("detail", "bücher.example", "--home", home)
    assert detail.stdout.startswith(b"xn--bcher-kva.example\n    IP Address Preference:")
    assert b"\n    TLS Support:                     Required - Verify\n" in detail.stdout


@pytest.mark.slow
def test_process_errors_go_to_stderr_with_their_status(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert destconfig("--home", home, "new", "example.com").returncode == 0
    config = (tmp_path / "config.toml").read_bytes()
    again = destconfig("--home", home, "new", "example.com")
    assert (again.returncode, again.stdout, again.stderr) == (
        1,
        b"",
        b'destconfig: An entry for "example.com" already exists.\n',
    )
    missing = destconfig("--home", home, "delete", "example.com", "nope.example")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        b"",
        b'destconfig: "nope.example" was not found in the destination control table.\n',
    )
    bad = destconfig("--home", home, "edit", "example.com", "--tls", "7")
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert bad.stderr == (
        b"destconfig: edit: argument --tls: bad value '7'; use NO, PREFERRED, "
        b"REQUIRED, PREFERRED_VERIFY, REQUIRED_VERIFY, REQUIRED_VERIFY_HOSTED or default (not "
        b"a number: the table file counts the settings from 0, the menu from 1)\n"
        b"destconfig: try 'destconfig edit --help' for more information\n"
    )
    unsure = destconfig("--home", home, "clear")
    assert (unsure.returncode, unsure.stdout, unsure.stderr) == (
        2,
        b"",
        b"destconfig: clear removes every entry: confirm with --yes\n",
    )
    assert (tmp_path / "config.toml").read_bytes() == config


@pytest.mark.slow
def test_process_output_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    home = str(tmp_path)
    destconfig("--home", home, "new", "example.com", "--comment", "x")
    refusal = destconfig(
        "--home", home, "setup", "--certificate", "Zertifikat-ü", env={"PYTHONIOENCODING": "ascii"}
    )
    assert refusal.returncode == 1
    assert refusal.stderr == (
        'destconfig: unknown certificate "Zertifikat-ü"; the certificates are Demo\n'.encode()
    )


@pytest.mark.slow
def test_process_help_of_every_command() -> None:
    for command in (
        "list",
        "detail",
        "new",
        "edit",
        "delete",
        "default",
        "setup",
        "clear",
        "import",
        "export",
        "diff",
        "resolve",
    ):
        shown = destconfig(command, "--help")
        assert shown.returncode == 0
        assert shown.stdout.startswith(f"usage: destconfig {command} ".encode())
        assert b"--home HOME" in shown.stdout
        assert shown.stderr == b""


CHANGE_COMMANDS: list[tuple[str, ...]] = [
    ("new", "x.example"),
    ("edit", "example.com", "--tls", "PREFERRED"),
    ("delete", "example.com"),
    ("default", "--tls", "PREFERRED"),
    ("setup", "--tls-alert", "on"),
    ("clear", "--yes"),
]


@pytest.mark.parametrize("args", CHANGE_COMMANDS)
def test_every_change_command_has_the_commit_options(dc: Destconfig, args: tuple[str, ...]) -> None:
    seed(dc.home, full_table())
    before = snapshot(dc.home)
    dry = dc(*args, "--dry-run", "--no-rollback", "--comment", "c")
    assert dry.status == 0 and dry.err == "" and dry.out.startswith("--- committed\n+++ after\n")
    assert snapshot(dc.home) == before
    assert dc(*args, "--no-rollback", "--comment", "c") == Result(0, COMMITTED, "")
    assert log_of(dc.home) == f"{TIME}\tc\n"
    assert not (dc.home / "rollback").exists()


# Crashes: a traceback is always a bug.


@pytest.mark.parametrize("below", [False, True])
def test_a_home_that_cannot_be_made_is_reported(
    dc: Destconfig, tmp_path: Path, below: bool
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory\n")
    home = blocker / "home" if below else blocker
    reason = "Not a directory" if below else "File exists"
    assert dc("new", "example.com", home=home) == Result(
        2, "", f"destconfig: cannot use the home {home}: {reason}\n"
    )
    assert blocker.read_bytes() == b"not a directory\n"


FACTORY_DEFAULT_ROW = b"(Default) On       Off     Off          (Default) Prefer IPv6\n"


def _closed_stdout_run(*args: str) -> subprocess.CompletedProcess[bytes]:
    """A process whose standard output is a pipe nobody reads (as in ``| head -1``)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "destconfig", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={key: value for key, value in os.environ.items() if key != "DESTCONFIG_HOME"},
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("detail", "all"),
        ("export", "-"),
        ("resolve", "user@example.com"),
        ("new", "x.example"),
    ],
)
def test_a_closed_standard_output_is_not_a_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _closed_stdout_run("--home", str(tmp_path), *args)
    assert b"Traceback" not in result.stderr
    assert b"BrokenPipeError" not in result.stderr


def test_a_closed_standard_input_does_not_stop_list(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "destconfig", "--home", str(tmp_path), "list"],
        capture_output=True,
        preexec_fn=lambda: os.close(0),
        cwd=ROOT,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.endswith(FACTORY_DEFAULT_ROW)


def test_a_closed_standard_error_does_not_fail_list(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "destconfig", "--home", str(tmp_path), "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(2),
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.endswith(FACTORY_DEFAULT_ROW)
