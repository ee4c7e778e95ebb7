"""The model: field ranges, the pairing rules, profile names, Table validators and operations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from destconfig.model import (
    DEMO_CERTIFICATE,
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Settings,
    Table,
    Tls,
    has_limits,
    is_profile_name,
)

LIMITS: dict[str, Any] = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}


# --- ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "lo", "hi", "extra"),
    [
        ("max_host_concurrency", 1, 1000, LIMITS),
        ("max_messages_per_connection", 1, 1000, {}),
    ],
)
def test_entry_number_ranges(field: str, lo: int, hi: int, extra: dict[str, Any]) -> None:
    assert getattr(Entry(**{field: lo}, **extra), field) == lo
    assert getattr(Entry(**{field: hi}, **extra), field) == hi
    for bad in (lo - 1, hi + 1, -1, 10**12):
        with pytest.raises(ValidationError):
            Entry(**{field: bad}, **extra)


def test_recipient_ranges() -> None:
    assert Entry(recipient_minutes=1, recipient_limit=0, **LIMITS).recipient_limit == 0
    top = Entry(recipient_minutes=60, recipient_limit=1_000_000_000, **LIMITS)
    assert (top.recipient_minutes, top.recipient_limit) == (60, 1_000_000_000)
    for minutes, limit in ((0, 5), (61, 5), (1, -1), (1, 1_000_000_001)):
        with pytest.raises(ValidationError):
            Entry(recipient_minutes=minutes, recipient_limit=limit, **LIMITS)


def test_default_entry_ranges() -> None:
    top = DefaultEntry(max_host_concurrency=1000, max_messages_per_connection=1000)
    assert (top.max_host_concurrency, top.max_messages_per_connection) == (1000, 1000)
    low = DefaultEntry(max_host_concurrency=1, max_messages_per_connection=1)
    assert (low.max_host_concurrency, low.max_messages_per_connection) == (1, 1)
    with pytest.raises(ValidationError):
        DefaultEntry(max_host_concurrency=0)
    with pytest.raises(ValidationError):
        DefaultEntry(max_messages_per_connection=1001)
    with pytest.raises(ValidationError):
        DefaultEntry(recipient_minutes=61, recipient_limit=5)


@pytest.mark.parametrize("value", [True, "5", 5.0])
def test_numbers_are_strict_integers(value: object) -> None:
    with pytest.raises(ValidationError):
        Entry(max_host_concurrency=value, **LIMITS)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Entry(colour="blue")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Table(extra=1)  # type: ignore[call-arg]


def test_models_are_frozen() -> None:
    entry = Entry()
    with pytest.raises(ValidationError):
        entry.tls = Tls.REQUIRED  # type: ignore[misc]
    table = Table()
    with pytest.raises(ValidationError):
        table.default = DefaultEntry(max_host_concurrency=1)  # type: ignore[misc]


# --- pairing rules ------------------------------------------------------------------------


def test_recipient_limit_and_minutes_go_together() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Entry(recipient_limit=10, **LIMITS)
    with pytest.raises(ValidationError, match="go together"):
        Entry(recipient_minutes=10, **LIMITS)
    with pytest.raises(ValidationError, match="go together"):
        DefaultEntry(recipient_limit=10)
    with pytest.raises(ValidationError, match="go together"):
        DefaultEntry(recipient_minutes=10)
    assert DefaultEntry(recipient_limit=10, recipient_minutes=5).recipient_limit == 10


@pytest.mark.parametrize(
    "limit",
    [
        {"max_host_concurrency": 10},
        {"recipient_minutes": 60, "recipient_limit": 10},
    ],
)
def test_a_concurrency_or_recipient_limit_needs_limit_type_and_apply(
    limit: dict[str, int],
) -> None:
    with pytest.raises(ValidationError):
        Entry(**limit)
    with pytest.raises(ValidationError):
        Entry(**limit, limit_type=LimitType.MXIP)
    with pytest.raises(ValidationError):
        Entry(**limit, limit_apply=LimitApply.VG)
    entry = Entry(**limit, limit_type=LimitType.MXIP, limit_apply=LimitApply.VG)
    assert (entry.limit_type, entry.limit_apply) == (LimitType.MXIP, LimitApply.VG)
    assert entry.has_limits


@pytest.mark.parametrize(
    "others",
    [
        {},
        {"max_messages_per_connection": 10},  # messages-per-connection is not one of them
        {"tls": Tls.REQUIRED, "ip_sort_pref": IpSort.PREFER_V4},
    ],
)
def test_limit_type_and_apply_need_a_limit(others: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Entry(**others, limit_type=LimitType.HOST)
    with pytest.raises(ValidationError):
        Entry(**others, limit_apply=LimitApply.SYSTEM)
    with pytest.raises(ValidationError):
        Entry(**others, **LIMITS)
    assert not Entry(**others).has_limits


def test_a_draft_has_limits_by_the_entry_s_rule() -> None:
    """The dialogues' and the options' drafts are plain dicts, missing keys and all.

    (A messages-per-connection limit is no limit here, though LIST shows it as rate
    limiting: tests/test_render.py.)
    """
    assert has_limits({"max_host_concurrency": 5})
    assert has_limits({"recipient_limit": 0, "recipient_minutes": 60})
    assert not has_limits({"max_messages_per_connection": 5, "recipient_limit": None})
    assert not has_limits({})
    assert has_limits(Entry(max_host_concurrency=5, **LIMITS).__dict__)


def test_entry_defaults_are_all_default() -> None:
    assert Entry().model_dump() == {
        "ip_sort_pref": None,
        "max_host_concurrency": None,
        "max_messages_per_connection": None,
        "recipient_minutes": None,
        "recipient_limit": None,
        "limit_type": None,
        "limit_apply": None,
        "bounce_validation": None,
        "bounce_profile": None,
        "tls": None,
        "dane": None,
    }


def test_factory_configuration() -> None:
    table = Table()
    assert table.entries == {}
    assert table.certificates == (DEMO_CERTIFICATE,)
    assert table.bounce_profiles == ()
    assert table.settings == Settings(certificate="Demo", tls_alert=False)
    default = table.default
    assert default.max_host_concurrency == 500
    assert default.max_messages_per_connection == 50
    assert default.recipient_limit is None
    assert default.recipient_minutes is None
    assert default.limit_type is LimitType.HOST
    assert default.limit_apply is LimitApply.SYSTEM
    assert default.tls is Tls.NO
    assert default.bounce_validation is False
    assert default.ip_sort_pref is IpSort.PREFER_V6


# --- profile names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "Z",
        "bulk",
        "Bulk-1",
        "a_b.c-d",
        "a" * 64,
        "A" + "9" * 63,
        "default1",
        "Defaults",
        "my-default",
        "new",
        "profile",
        "NewProfile",
    ],
)
def test_valid_profile_names(name: str) -> None:
    assert is_profile_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 65,
        "A" + "9" * 64,
        "1bulk",
        "9",
        "-bulk",
        "_bulk",
        ".bulk",
        "bulk profile",
        " bulk",
        "bulk ",
        "bulk!",
        "bulk/1",
        "default",
        "Default",
        "DEFAULT",
        "dEfAuLt",
        "new profile",
        "New Profile",
        "NEW PROFILE",
        "bülk",  # letters are ASCII letters
        "\u00e9t\u00e9",
        "bulk\n",
    ],
)
def test_invalid_profile_names(name: str) -> None:
    assert not is_profile_name(name)


def test_entry_refuses_an_invalid_profile_name() -> None:
    with pytest.raises(ValidationError):
        Entry(bounce_profile="1bulk")
    with pytest.raises(ValidationError):
        Entry(bounce_profile="Default")
    assert Entry(bounce_profile="bulk").bounce_profile == "bulk"


# --- Table validators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "Example.com",
        " example.com",
        "192.0.2.1",  # an address is stored in brackets
        "[2001:DB8::1]",
        "[2001:db8:0:0:0:0:0:1]",
        "bücher.de",  # stored as its A-label
        "default",
        "all",
        "",
        "example..com",
    ],
)
def test_table_refuses_keys_not_in_stored_form(key: str) -> None:
    with pytest.raises(ValidationError):
        Table(entries={key: Entry()})


@pytest.mark.parametrize(
    "key", ["example.com", ".example.com", "[192.0.2.1]", "[2001:db8::1]", "xn--bcher-kva.de"]
)
def test_table_accepts_stored_keys(key: str) -> None:
    assert list(Table(entries={key: Entry()}).entries) == [key]


def test_table_refuses_an_unknown_profile() -> None:
    with pytest.raises(ValidationError, match="not a known profile"):
        Table(entries={"example.com": Entry(bounce_profile="bulk")})
    table = Table(bounce_profiles=("bulk",), entries={"example.com": Entry(bounce_profile="bulk")})
    assert table.entries["example.com"].bounce_profile == "bulk"


def test_table_refuses_invalid_profile_names_in_its_list() -> None:
    with pytest.raises(ValidationError):
        Table(bounce_profiles=("default",))
    with pytest.raises(ValidationError):
        Table(bounce_profiles=("1bulk",))


def test_profiles_are_sorted_in_code_point_order_without_duplicates() -> None:
    table = Table(bounce_profiles=("bulk", "Zeta", "alpha", "bulk", "Bulk"))
    assert table.bounce_profiles == ("Bulk", "Zeta", "alpha", "bulk")


def test_certificates_always_include_demo() -> None:
    assert Table(certificates=()).certificates == ("Demo",)
    assert Table(certificates=("Mine",)).certificates == ("Demo", "Mine")
    assert Table(certificates=("Zeta", "Demo", "Alpha", "Zeta")).certificates == (
        "Alpha",
        "Demo",
        "Zeta",
    )


@pytest.mark.parametrize("name", ["", "bad\x1bname", "tab\there"])
def test_certificate_names_must_be_printable(name: str) -> None:
    with pytest.raises(ValidationError):
        Table(certificates=(name,))


def test_the_certificate_in_use_must_be_known() -> None:
    with pytest.raises(ValidationError, match="unknown certificate"):
        Table(settings=Settings(certificate="Mine"))
    table = Table(certificates=("Mine",), settings=Settings(certificate="Mine"))
    assert table.settings.certificate == "Mine"


# --- operations ---------------------------------------------------------------------------

ENTRY = Entry(tls=Tls.REQUIRED)


def snapshot(table: Table) -> dict[str, Any]:
    return table.model_dump()


def test_with_entry_adds_the_entry_and_keeps_the_original() -> None:
    table = Table()
    before = snapshot(table)
    changed = table.with_entry("example.com", ENTRY)
    assert changed.entries == {"example.com": ENTRY}
    assert snapshot(table) == before
    assert table.entries == {}
    assert changed != table


def test_with_entry_replaces_an_existing_entry() -> None:
    table = Table().with_entry("example.com", ENTRY)
    replaced = table.with_entry("example.com", Entry(tls=Tls.NO))
    assert replaced.entries == {"example.com": Entry(tls=Tls.NO)}
    assert table.entries == {"example.com": ENTRY}


def test_with_entry_makes_a_new_profile_known() -> None:
    table = Table(bounce_profiles=("zulu",))
    changed = table.with_entry("example.com", Entry(bounce_profile="alpha"))
    assert changed.bounce_profiles == ("alpha", "zulu")
    assert table.bounce_profiles == ("zulu",)
    # A known profile is not added twice.
    again = changed.with_entry("example.org", Entry(bounce_profile="zulu"))
    assert again.bounce_profiles == ("alpha", "zulu")
    # The result is a valid table.
    assert Table.model_validate(again.model_dump()) == again


def test_profiles_stay_known_when_their_entry_goes() -> None:
    table = Table().with_entry("example.com", Entry(bounce_profile="bulk"))
    assert table.without_entry("example.com").bounce_profiles == ("bulk",)
    assert table.cleared().bounce_profiles == ("bulk",)


def test_without_entry_keeps_the_original() -> None:
    table = Table().with_entry("example.com", ENTRY).with_entry(".example.org", Entry())
    smaller = table.without_entry("example.com")
    assert list(smaller.entries) == [".example.org"]
    assert set(table.entries) == {"example.com", ".example.org"}


def test_cleared_keeps_the_default_and_the_original() -> None:
    default = DefaultEntry(tls=Tls.PREFERRED)
    table = Table().with_default(default).with_entry("example.com", ENTRY)
    cleared = table.cleared()
    assert cleared.entries == {}
    assert cleared.default == default
    assert table.entries == {"example.com": ENTRY}


def test_with_default_and_with_settings_keep_the_original() -> None:
    table = Table()
    before = snapshot(table)
    default = DefaultEntry(max_host_concurrency=7, recipient_minutes=1, recipient_limit=0)
    assert table.with_default(default).default == default
    assert table.with_settings(Settings(tls_alert=True)).settings.tls_alert is True
    assert snapshot(table) == before
    assert table.default == DefaultEntry()


def test_tables_compare_by_value_not_by_insertion_order() -> None:
    one = Table().with_entry("b.example", ENTRY).with_entry("a.example", Entry())
    two = Table().with_entry("a.example", Entry()).with_entry("b.example", ENTRY)
    assert one == two
    assert one != two.with_entry("a.example", ENTRY)


def test_sorted_keys_is_plain_code_point_order() -> None:
    keys = ["example.com", ".example.com", "[192.0.2.1]", "[2001:db8::1]", "a.example", "xn--a"]
    table = Table()
    for key in keys:
        table = table.with_entry(key, Entry())
    assert table.sorted_keys() == [
        ".example.com",
        "[192.0.2.1]",
        "[2001:db8::1]",
        "a.example",
        "example.com",
        "xn--a",
    ]


@given(st.dictionaries(st.sampled_from(["a.example", "b.example", "[192.0.2.1]"]), st.booleans()))
def test_a_table_built_by_operations_validates(entries: dict[str, bool]) -> None:
    table = Table()
    for key, bounce in entries.items():
        table = table.with_entry(key, Entry(bounce_validation=bounce))
    assert Table.model_validate(table.model_dump()) == table
    assert table.sorted_keys() == sorted(entries)
