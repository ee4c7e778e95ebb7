"""LIST and DETAIL (spec §7): exact strings, whole strings."""

from __future__ import annotations

from pathlib import Path

from destconfig.model import (
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Table,
    Tls,
)
from destconfig.render.detail import render_all, render_default, render_entry
from destconfig.render.listing import render_list
from tests.helpers import run_session

SEED = Table().with_entry("example.com", Entry(tls=Tls.REQUIRED))
HOST_SYSTEM = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}


# --- LIST ---------------------------------------------------------------------------------


def test_list_seed_table() -> None:
    assert render_list(SEED) == (
        "            Rate             Bounce       Bounce    IP Version\n"
        "Domain      Limiting TLS     Verification Profile   Preference\n"
        "=========== ======== ======= ============ ========= ============\n"
        "example.com Default  On      Default      Default   Default\n"
        "(Default)   On       Off     Off          (Default) Prefer IPv6"
    )


def test_list_factory_table_has_only_the_default_row() -> None:
    assert render_list(Table()) == (
        "          Rate             Bounce       Bounce    IP Version\n"
        "Domain    Limiting TLS     Verification Profile   Preference\n"
        "========= ======== ======= ============ ========= ============\n"
        "(Default) On       Off     Off          (Default) Prefer IPv6"
    )


def test_list_every_cell_variant() -> None:
    table = (
        Table(bounce_profiles=("bulk",))
        .with_default(
            DefaultEntry(tls=Tls.REQUIRED, bounce_validation=True, ip_sort_pref=IpSort.REQUIRE_V6)
        )
        .with_entry("a.example", Entry(max_host_concurrency=10, **HOST_SYSTEM))
        .with_entry("b.example", Entry(max_messages_per_connection=5))
        .with_entry(
            "c.example",
            Entry(
                recipient_minutes=60,
                recipient_limit=100,
                limit_type=LimitType.MXIP,
                limit_apply=LimitApply.VG,
            ),
        )
        .with_entry("d.example", Entry(tls=Tls.NO))
        .with_entry("e.example", Entry(tls=Tls.PREFERRED_VERIFY, bounce_validation=True))
        .with_entry("f.example", Entry(bounce_validation=False, ip_sort_pref=IpSort.PREFER_V4))
        .with_entry("g.example", Entry(ip_sort_pref=IpSort.REQUIRE_V4))
        .with_entry("h.example", Entry(ip_sort_pref=IpSort.REQUIRE_V6, bounce_profile="bulk"))
        .with_entry("i.example", Entry(ip_sort_pref=IpSort.PREFER_V6))
        .with_entry("j.example", Entry(tls=Tls.REQUIRED_VERIFY_HOSTED))
    )
    assert render_list(table) == (
        "          Rate             Bounce       Bounce    IP Version\n"
        "Domain    Limiting TLS     Verification Profile   Preference\n"
        "========= ======== ======= ============ ========= ============\n"
        "a.example On       Default Default      Default   Default\n"
        "b.example On       Default Default      Default   Default\n"
        "c.example On       Default Default      Default   Default\n"
        "d.example Default  Off     Default      Default   Default\n"
        "e.example Default  On      On           Default   Default\n"
        "f.example Default  Default Off          Default   Prefer IPv4\n"
        "g.example Default  Default Default      Default   Require IPv4\n"
        "h.example Default  Default Default      bulk      Require IPv6\n"
        "i.example Default  Default Default      Default   Prefer IPv6\n"
        "j.example Default  On      Default      Default   Default\n"
        "(Default) On       On      On           (Default) Require IPv6"
    )


def test_list_default_row_with_every_tls_setting() -> None:
    for tls, cell in [
        (Tls.NO, "Off"),
        (Tls.PREFERRED, "On "),
        (Tls.REQUIRED, "On "),
        (Tls.PREFERRED_VERIFY, "On "),
        (Tls.REQUIRED_VERIFY, "On "),
        (Tls.REQUIRED_VERIFY_HOSTED, "On "),
    ]:
        table = Table().with_default(DefaultEntry(tls=tls, ip_sort_pref=IpSort.PREFER_V4))
        last = render_list(table).split("\n")[-1]
        assert last == f"(Default) On       {cell}     Off          (Default) Prefer IPv4"


def test_list_long_keys_widen_the_domain_column_in_code_point_order() -> None:
    table = (
        Table()
        .with_entry("subdomain.mail.example.org", Entry())
        .with_entry("[2001:db8::1]", Entry(tls=Tls.PREFERRED))
        .with_entry(".example.com", Entry(bounce_validation=True))
    )
    pad = " " * 17  # "subdomain.mail.example.org" is 26 characters
    assert render_list(table) == (
        "                           Rate             Bounce       Bounce    IP Version\n"
        "Domain" + " " * 21 + "Limiting TLS     Verification Profile   Preference\n"
        "==========================" + " ======== ======= ============ ========= ============\n"
        ".example.com" + " " * 15 + "Default  Default On           Default   Default\n"
        "[2001:db8::1]" + " " * 14 + "Default  On      Default      Default   Default\n"
        "subdomain.mail.example.org Default  Default Default      Default   Default\n"
        "(Default)" + pad + " On       Off     Off          (Default) Prefer IPv6"
    )


def test_list_long_profile_names_widen_the_profile_column() -> None:
    profile = "quarantine-after-3-days"  # 23 characters
    table = Table().with_entry("example.com", Entry(bounce_profile=profile))
    assert render_list(table) == (
        "            Rate             Bounce       Bounce                  IP Version\n"
        "Domain      Limiting TLS     Verification Profile                 Preference\n"
        "=========== ======== ======= ============ ======================= ============\n"
        "example.com Default  Default Default      quarantine-after-3-days Default\n"
        "(Default)   On       Off     Off          (Default)               Prefer IPv6"
    )


def test_list_profile_of_nine_characters_keeps_the_minimum_width() -> None:
    table = Table().with_entry("example.com", Entry(bounce_profile="abcdefghi"))
    lines = render_list(table).split("\n")
    assert lines[2] == "=========== ======== ======= ============ ========= ============"
    assert lines[3] == "example.com Default  Default Default      abcdefghi Default"


def test_list_a_long_profile_name_no_entry_uses_does_not_widen_the_column() -> None:
    table = Table(bounce_profiles=("quarantine-after-3-days", "bulk")).with_entry(
        "example.com", Entry(bounce_profile="bulk")
    )
    assert render_list(table) == (
        "            Rate             Bounce       Bounce    IP Version\n"
        "Domain      Limiting TLS     Verification Profile   Preference\n"
        "=========== ======== ======= ============ ========= ============\n"
        "example.com Default  Default Default      bulk      Default\n"
        "(Default)   On       Off     Off          (Default) Prefer IPv6"
    )


def test_list_lines_have_no_trailing_spaces() -> None:
    table = SEED.with_entry("x.example", Entry(max_messages_per_connection=1))
    text = render_list(table)
    assert not text.endswith("\n")
    for line in text.split("\n"):
        assert line == line.rstrip(" ")


# --- DETAIL -------------------------------------------------------------------------------

SPEC_EXAMPLE_BLOCK = (
    "example.com\n"
    "    IP Address Preference:           Default (Prefer IPv6)\n"
    "    Concurrent Connections:          Default (500)\n"
    "    Maximum Messages Per Connection: Default (50)\n"
    "    Recipients Limit:                Default (No Limit)\n"
    "    Apply Limits Per Destination:    Default (Entire Domain)\n"
    "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
    "    TLS Support:                     Required\n"
    "    Bounce Verification:             Default (Off)\n"
    "    Bounce Profile:                  Default"
)

FACTORY_DEFAULT_BLOCK = (
    "(Default)\n"
    "    IP Address Preference:           Prefer IPv6\n"
    "    Concurrent Connections:          500\n"
    "    Maximum Messages Per Connection: 50\n"
    "    Recipients Limit:                No Limit\n"
    "    Apply Limits Per Destination:    Entire Domain\n"
    "    Apply Limits Per ESA Hostname:   System Wide\n"
    "    TLS Support:                     No\n"
    "    Bounce Verification:             Off\n"
    "    Bounce Profile:                  (Default)"
)

RICH_DEFAULT = DefaultEntry(
    ip_sort_pref=IpSort.PREFER_V4,
    max_host_concurrency=20,
    max_messages_per_connection=10,
    recipient_minutes=30,
    recipient_limit=1000,
    limit_type=LimitType.MXIP,
    limit_apply=LimitApply.VG,
    tls=Tls.REQUIRED_VERIFY,
    bounce_validation=True,
)


def test_detail_spec_example() -> None:
    assert render_entry("example.com", SEED.entries["example.com"], SEED.default) == (
        SPEC_EXAMPLE_BLOCK
    )


def test_detail_entry_with_nothing_set() -> None:
    assert render_entry("example.org", Entry(), DefaultEntry()) == (
        "example.org\n"
        "    IP Address Preference:           Default (Prefer IPv6)\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Default (No)\n"
        "    Bounce Verification:             Default (Off)\n"
        "    Bounce Profile:                  Default"
    )


def test_detail_entry_with_nothing_set_shows_the_effective_default() -> None:
    assert render_entry(".example.org", Entry(), RICH_DEFAULT) == (
        ".example.org\n"
        "    IP Address Preference:           Default (Prefer IPv4)\n"
        "    Concurrent Connections:          Default (20)\n"
        "    Maximum Messages Per Connection: Default (10)\n"
        "    Recipients Limit:                Default (1000 per 30 minutes)\n"
        "    Apply Limits Per Destination:    Default (Each Mail Exchanger IP Address)\n"
        "    Apply Limits Per ESA Hostname:   Default (Each Virtual Gateway)\n"
        "    TLS Support:                     Default (Required - Verify)\n"
        "    Bounce Verification:             Default (On)\n"
        "    Bounce Profile:                  Default"
    )


def test_detail_entry_with_everything_set() -> None:
    entry = Entry(
        ip_sort_pref=IpSort.REQUIRE_V4,
        max_host_concurrency=10,
        max_messages_per_connection=5,
        recipient_minutes=1,
        recipient_limit=0,
        limit_type=LimitType.MXIP,
        limit_apply=LimitApply.VG,
        bounce_validation=True,
        bounce_profile="bulk",
        tls=Tls.REQUIRED_VERIFY_HOSTED,
    )
    assert render_entry("[192.0.2.1]", entry, DefaultEntry()) == (
        "[192.0.2.1]\n"
        "    IP Address Preference:           Require IPv4\n"
        "    Concurrent Connections:          10\n"
        "    Maximum Messages Per Connection: 5\n"
        "    Recipients Limit:                0 per 1 minutes\n"
        "    Apply Limits Per Destination:    Each Mail Exchanger IP Address\n"
        "    Apply Limits Per ESA Hostname:   Each Virtual Gateway\n"
        "    TLS Support:                     Required - Verify Hosted Domains\n"
        "    Bounce Verification:             On\n"
        "    Bounce Profile:                  bulk"
    )


def test_detail_explicit_off_and_no_are_not_default() -> None:
    entry = Entry(
        tls=Tls.NO,
        bounce_validation=False,
        max_host_concurrency=500,
        limit_type=LimitType.HOST,
        limit_apply=LimitApply.SYSTEM,
    )
    assert render_entry("example.net", entry, DefaultEntry()) == (
        "example.net\n"
        "    IP Address Preference:           Default (Prefer IPv6)\n"
        "    Concurrent Connections:          500\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Entire Domain\n"
        "    Apply Limits Per ESA Hostname:   System Wide\n"
        "    TLS Support:                     No\n"
        "    Bounce Verification:             Off\n"
        "    Bounce Profile:                  Default"
    )


def test_detail_every_tls_and_ip_word() -> None:
    tls_words = {
        Tls.NO: "No",
        Tls.PREFERRED: "Preferred",
        Tls.REQUIRED: "Required",
        Tls.PREFERRED_VERIFY: "Preferred - Verify",
        Tls.REQUIRED_VERIFY: "Required - Verify",
        Tls.REQUIRED_VERIFY_HOSTED: "Required - Verify Hosted Domains",
    }
    for tls, word in tls_words.items():
        lines = render_entry("e.example", Entry(tls=tls), DefaultEntry()).split("\n")
        assert lines[7] == "    TLS Support:                     " + word
    ip_words = {
        IpSort.PREFER_V4: "Prefer IPv4",
        IpSort.PREFER_V6: "Prefer IPv6",
        IpSort.REQUIRE_V4: "Require IPv4",
        IpSort.REQUIRE_V6: "Require IPv6",
    }
    for ip, word in ip_words.items():
        lines = render_default(DefaultEntry(ip_sort_pref=ip)).split("\n")
        assert lines[1] == "    IP Address Preference:           " + word


def test_detail_factory_default_block() -> None:
    assert render_default(DefaultEntry()) == FACTORY_DEFAULT_BLOCK


def test_detail_default_block_with_a_recipient_limit() -> None:
    assert render_default(RICH_DEFAULT) == (
        "(Default)\n"
        "    IP Address Preference:           Prefer IPv4\n"
        "    Concurrent Connections:          20\n"
        "    Maximum Messages Per Connection: 10\n"
        "    Recipients Limit:                1000 per 30 minutes\n"
        "    Apply Limits Per Destination:    Each Mail Exchanger IP Address\n"
        "    Apply Limits Per ESA Hostname:   Each Virtual Gateway\n"
        "    TLS Support:                     Required - Verify\n"
        "    Bounce Verification:             On\n"
        "    Bounce Profile:                  (Default)"
    )


def test_detail_all_in_list_order_then_the_default() -> None:
    table = (
        Table()
        .with_entry("example.com", Entry(tls=Tls.REQUIRED))
        .with_entry("[192.0.2.1]", Entry(bounce_validation=True))
        .with_entry(".a.example", Entry(ip_sort_pref=IpSort.REQUIRE_V6))
    )
    assert render_all(table) == (
        ".a.example\n"
        "    IP Address Preference:           Require IPv6\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Default (No)\n"
        "    Bounce Verification:             Default (Off)\n"
        "    Bounce Profile:                  Default\n"
        "\n"
        "[192.0.2.1]\n"
        "    IP Address Preference:           Default (Prefer IPv6)\n"
        "    Concurrent Connections:          Default (500)\n"
        "    Maximum Messages Per Connection: Default (50)\n"
        "    Recipients Limit:                Default (No Limit)\n"
        "    Apply Limits Per Destination:    Default (Entire Domain)\n"
        "    Apply Limits Per ESA Hostname:   Default (System Wide)\n"
        "    TLS Support:                     Default (No)\n"
        "    Bounce Verification:             On\n"
        "    Bounce Profile:                  Default\n"
        "\n" + SPEC_EXAMPLE_BLOCK + "\n"
        "\n" + FACTORY_DEFAULT_BLOCK
    )


def test_detail_all_of_an_empty_table_is_the_default_block() -> None:
    assert render_all(Table()) == FACTORY_DEFAULT_BLOCK


# --- the renderers as the shell prints them -----------------------------------------------

SEED_ANSWERS = "destconfig\nnew\nexample.com\nN\nN\nN\nY\n3\nN\nN\nN\n"
MENU_TAIL = "\n\nChoose the operation you want to perform:\n"


def test_shell_list_prints_the_seed_table_as_a_block(tmp_path: Path) -> None:
    out = run_session(tmp_path, SEED_ANSWERS + "list\n").stdout
    assert "[]> list\n\n" + render_list(SEED) + MENU_TAIL in out


def test_shell_detail_prints_the_spec_example(tmp_path: Path) -> None:
    out = run_session(tmp_path, SEED_ANSWERS + "detail\n Example.COM \n").stdout
    assert (
        "\nEnter the domain name to view, DEFAULT to view details for the default,\n"
        "or ALL to view details for all.\n"
        "[]>  Example.COM \n"
        "\n" + SPEC_EXAMPLE_BLOCK + MENU_TAIL
    ) in out


def test_shell_detail_default_and_all(tmp_path: Path) -> None:
    out = run_session(tmp_path, SEED_ANSWERS + "detail\ndefault\ndetail\nALL\n").stdout
    assert "[]> default\n\n" + FACTORY_DEFAULT_BLOCK + MENU_TAIL in out
    assert "[]> ALL\n\n" + SPEC_EXAMPLE_BLOCK + "\n\n" + FACTORY_DEFAULT_BLOCK + MENU_TAIL in out


def test_shell_detail_unknown_and_invalid_destinations(tmp_path: Path) -> None:
    out = run_session(tmp_path, SEED_ANSWERS + "detail\nexample.org\ndetail\nbad_name\n").stdout
    assert (
        "[]> example.org\n"
        '"example.org" was not found in the destination control table.\n'
        "\nChoose the operation you want to perform:\n"
    ) in out
    assert (
        "[]> bad_name\n"
        '"bad_name" was not found in the destination control table.\n'
        "\nChoose the operation you want to perform:\n"
    ) in out
