"""The Postfix and KumoMTA exports as files: content, round trip, losses, hand-written input.

What a running Postfix makes of the files is proven in ``test_postfix_live.py``;
here the files themselves, read back by the reader of what Postfix lines mean.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.destinations import is_address
from destconfig.formats import esa, kumomta, postfix, toml
from destconfig.formats.postfix import DEFAULT_KEY, Loss, PostfixError, rate_of, recipients_of
from destconfig.model import (
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Table,
    Tls,
    effective,
)
from destconfig.resolve import lookup_keys, resolve
from tests.strategies import tables

EXAMPLES = Path(__file__).parent.parent / "examples"
DIR = "/etc/postfix/destconfig"
LIMITED = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}


def lines(data: bytes) -> list[str]:
    return data.decode().split("\n")


def live(data: bytes) -> list[str]:
    """The lines Postfix reads (no comments, no blanks)."""
    return [line for line in lines(data) if line and not line.startswith("#")]


def test_an_entry_left_at_default_under_a_pattern_gets_its_own_line() -> None:
    table = Table(
        default=DefaultEntry(tls=Tls.PREFERRED),
        entries={
            ".example.com": Entry(
                tls=Tls.REQUIRED,
                max_host_concurrency=5,
                limit_type=LimitType.HOST,
                limit_apply=LimitApply.SYSTEM,
            ),
            "a.example.com": Entry(),
            "b.example.com": Entry(tls=Tls.NO),
            "other.example": Entry(),
        },
    )
    files = postfix.render(table, DIR).files
    assert live(files["tls_policy"]) == [
        ".example.com encrypt",
        "a.example.com may",  # the default entry's, not the pattern's
        "b.example.com none",
    ]
    assert live(files["transport"]) == [
        ".example.com dc_c5:",
        "a.example.com smtp:",  # the default entry's limits, not the pattern's
        "b.example.com smtp:",
    ]


def test_every_tls_setting_has_its_policy() -> None:
    entries = {f"t{number}.example": Entry(tls=tls) for number, tls in enumerate(Tls)}
    files = postfix.render(Table(entries=entries), DIR).files
    assert live(files["tls_policy"]) == [
        "t0.example none",
        "t1.example may",
        "t2.example encrypt",
        "t3.example may",
        "t4.example verify match=nexthop:hostname",
        "t5.example verify match=nexthop:hostname",
    ]


def test_main_cf_names_the_maps_and_the_default_entry() -> None:
    table = Table(
        default=DefaultEntry(
            tls=Tls.REQUIRED_VERIFY_HOSTED,
            max_host_concurrency=20,
            max_messages_per_connection=1,
            recipient_limit=120,
            recipient_minutes=1,
            ip_sort_pref=IpSort.PREFER_V4,
        )
    )
    main = live(postfix.render(table, DIR, "lmdb").files["main.cf"])
    assert main == [
        f"smtp_tls_policy_maps = lmdb:{DIR}/tls_policy",
        f"transport_maps = lmdb:{DIR}/transport",
        "smtp_tls_security_level = verify",
        "smtp_tls_verify_cert_match = nexthop, hostname",
        "default_destination_concurrency_limit = 20",
        "smtp_connection_cache_on_demand = no",
        "smtp_connection_reuse_count_limit = 0",
        "smtp_tls_connection_reuse = no",
        "default_destination_rate_delay = 2s",
        "default_destination_recipient_limit = 3",
        "default_destination_concurrency_failed_cohort_limit = 10",
        "smtp_address_preference = ipv4",
    ]
    for forbidden in ("relayhost", "default_transport", "inet_interfaces", "mydestination"):
        assert not any(line.startswith(forbidden) for line in main)


def test_entries_with_the_same_limits_share_one_clone() -> None:
    limited = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}
    table = Table(
        entries={
            "a.example": Entry(max_host_concurrency=3, max_messages_per_connection=10, **limited),
            "b.example": Entry(max_host_concurrency=3, max_messages_per_connection=10, **limited),
            "c.example": Entry(recipient_limit=30, recipient_minutes=1, **limited),
            "d.example": Entry(ip_sort_pref=IpSort.REQUIRE_V6),
        }
    )
    files = postfix.render(table, DIR).files
    assert live(files["transport"]) == [
        "a.example dc_c3_m10:",
        "b.example dc_c3_m10:",
        "c.example dc_r2per5s:",
        "d.example dc_o6:",
    ]
    assert live(files["master.cf"]) == [
        "dc_c3_m10 unix - - n - 6 smtp",
        "  -o smtp_connection_reuse_count_limit=9",
        "  -o smtp_tls_connection_reuse=yes",
        "dc_o6 unix - - n - 500 smtp",
        "  -o inet_protocols=ipv6",
        "dc_r2per5s unix - - n - 500 smtp",
    ]
    main = live(files["main.cf"])
    assert "dc_c3_m10_destination_concurrency_limit = 3" in main
    assert "dc_r2per5s_destination_rate_delay = 5s" in main
    assert "dc_r2per5s_destination_recipient_limit = 2" in main
    assert not any(line.startswith("smtp ") for line in live(files["master.cf"]))


@pytest.mark.parametrize(
    ("limit", "minutes", "rate"),
    [(30, 1, (2, 5)), (1000, 1, (16, 1)), (1, 60, (2, 7200)), (7, 7, (2, 141)), (60, 1, (2, 3))],
)
def test_a_recipient_limit_becomes_a_whole_delay(
    limit: int, minutes: int, rate: tuple[int, int]
) -> None:
    assert rate_of(limit, minutes) == rate


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(2, 200), st.integers(2, 1_000_000_000)), st.integers(1, 60))
def test_no_window_of_the_minutes_holds_more_than_the_limit(limit: int, minutes: int) -> None:
    """Postfix waits the delay d after each delivery ends before the next begins, so a
    window of T seconds meets at most T // d + 1 deliveries of at most R recipients."""
    per, delay = rate_of(limit, minutes)
    window = 60 * minutes
    assert 2 <= per <= postfix.MOST_PER_DELIVERY and delay >= 1
    assert (window // delay + 1) * per <= limit
    # The shortest such delay: one second less would let a window meet too many.
    assert delay == 1 or (window // (delay - 1) + 1) * 2 > limit
    # Read back, the lines say the most recipients a window of the minutes read meets.
    held, over = recipients_of((per, delay))
    assert 1 <= over <= 60 and (60 * over // delay + 1) * per == held


def test_a_limit_of_one_recipient_is_lost_and_says_what_is_held() -> None:
    assert rate_of(1, 60) == (2, 7200)
    assert postfix.rate_loss(1, 60) == (
        "a limit of 1 cannot be held: up to 2 recipients in any 60 minutes, as deliveries of "
        "at most 2 recipients each 7200 s after the last ended (at most 1 delivery in any 60 "
        "minutes); a rate delay makes the concurrency 1"
    )
    assert postfix.rate_loss(30, 1) == (
        "never more than 30 recipients in any minute, as deliveries of at most 2 recipients "
        "each 5 s after the last ended (at most 13 deliveries in any minute); a rate delay "
        "makes the concurrency 1"
    )


def test_losses_are_reported_once_per_entry_and_setting() -> None:
    table = Table(
        default=DefaultEntry(max_host_concurrency=5, max_messages_per_connection=1),
        bounce_profiles=("bulk",),
        entries={
            "a.example": Entry(
                tls=Tls.PREFERRED,
                max_host_concurrency=50,
                limit_type=LimitType.MXIP,
                limit_apply=LimitApply.VG,
                bounce_profile="bulk",
                bounce_validation=True,
            ),
            "b.example": Entry(tls=Tls.REQUIRED),
        },
    )
    losses = postfix.render(table, DIR).losses
    assert [(loss.key, loss.setting) for loss in losses] == [
        (DEFAULT_KEY, "ip_sort_pref"),
        ("a.example", "max_host_concurrency"),
        ("a.example", "limit_type"),
        ("a.example", "limit_apply"),
        ("a.example", "bounce_validation"),
        ("a.example", "bounce_profile"),
        ("a.example", "tls"),
    ]
    assert str(losses[2]) == "a.example: limit_type: counted per domain, not per MX IP address"


def test_the_default_entrys_require_is_written_commented_out() -> None:
    table = Table(default=DefaultEntry(ip_sort_pref=IpSort.REQUIRE_V4))
    exported = postfix.render(table, DIR)
    assert "# inet_protocols = ipv4" in lines(exported.files["main.cf"])
    assert (
        Loss(
            DEFAULT_KEY,
            "ip_sort_pref",
            "inet_protocols in main.cf would change the whole instance: the line is written "
            "commented out",
        )
        in exported.losses
    )


@pytest.mark.parametrize("name", ["destinations.cfg", "destinations.toml"])
def test_the_examples_read_back_identical(name: str) -> None:
    data = (EXAMPLES / name).read_bytes()
    table = esa.loads(data) if name.endswith(".cfg") else toml.loads(data)
    exported = postfix.render(table, DIR)
    imported = postfix.parse(exported.files, DIR)
    assert (imported.table, imported.warnings, imported.whole) == (table, [], True)


@settings(max_examples=60, deadline=None)
@given(tables())
def test_any_table_reads_back_identical(table: Table) -> None:
    imported = postfix.parse(postfix.render(table, DIR).files, DIR)
    assert (imported.table, imported.warnings) == (table, [])


@settings(max_examples=60, deadline=None)
@given(tables())
def test_what_the_lines_say_is_what_the_table_says(table: Table) -> None:
    """Read without their comments, the lines give each entry's and the default's TLS
    and limits as the table has them, up to the approximations."""
    files = postfix.render(table, DIR).files
    bare = {
        name: b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"# destconfig"))
        for name, data in files.items()
    }
    read = postfix.parse(bare, DIR).table
    for key, entry in table.entries.items():
        got = read.entries.get(key, Entry())
        if entry.tls is not None or entry.dane is not None:
            # The policy says TLS and DANE in one word, of the values that apply.
            said = effective(entry, table.default)
            found = effective(got, read.default)
            assert postfix._tls_word(found["tls"], found["dane"]) == postfix._tls_word(
                said["tls"], said["dane"]
            )
        if entry.max_host_concurrency is not None:
            assert got.max_host_concurrency == entry.max_host_concurrency


def test_a_hand_written_configuration_is_read_with_a_warning_for_each_setting() -> None:
    files = {
        "tls_policy": b"example.com encrypt\n.partner.example  verify\n  match=hostname\n",
        "transport": b"bulk.example slow:\n",
        "master.cf": b"slow unix - - n - 4 smtp\n  -o smtp_connection_reuse_count_limit=9\n",
        "main.cf": b"smtp_tls_security_level = may\nslow_destination_concurrency_limit = 4\n",
    }
    imported = postfix.parse(files, DIR)
    assert imported.whole is False
    assert imported.table.entries == {
        ".partner.example": Entry(tls=Tls.REQUIRED_VERIFY_HOSTED),
        "bulk.example": Entry(
            max_host_concurrency=4,
            max_messages_per_connection=10,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.SYSTEM,
        ),
        "example.com": Entry(tls=Tls.REQUIRED),
    }
    assert imported.table.default.tls is Tls.PREFERRED
    assert imported.warnings == [
        "tls_policy line 2: .partner.example: tls: read approximately from Postfix",
        "transport line 1: bulk.example: max_host_concurrency: read approximately from Postfix",
        "transport line 1: bulk.example: max_messages_per_connection: read approximately "
        "from Postfix",
        "tls_policy line 1: example.com: tls: read approximately from Postfix",
        "main.cf: (Default): tls: read approximately from Postfix",
    ]


def test_an_edited_line_wins_over_its_comment() -> None:
    table = Table(entries={"a.example": Entry(tls=Tls.PREFERRED), "b.example": Entry()})
    files = dict(postfix.render(table, DIR).files)
    files["tls_policy"] = files["tls_policy"].replace(b"a.example may", b"a.example encrypt")
    imported = postfix.parse(files, DIR)
    assert imported.table.entries["a.example"] == Entry(tls=Tls.REQUIRED)
    assert imported.warnings == [
        "tls_policy line 3: a.example: tls: the Postfix line differs from its comment; "
        "the line is taken"
    ]


def test_problems_name_each_file_and_line_and_nothing_is_read() -> None:
    files = {
        "tls_policy": b"# ok\nexample.com sometimes\nbad..name none\n",
        "transport": b"x.example\n",
        "main.cf": b"smtp_tls_security_level = may\nthis is not a parameter\n",
    }
    with pytest.raises(PostfixError) as raised:
        postfix.parse(files, DIR)
    found = {
        name: [(p.line, p.reason) for p in problems]
        for name, problems in raised.value.problems.items()
    }
    assert found == {
        "main.cf": [(2, "not a name = value line")],
        "tls_policy": [
            (2, 'unknown TLS policy "sometimes"'),
            (3, '"bad..name" is not a destination'),
        ],
        "transport": [(1, "a transport line is a destination and transport:nexthop")],
    }


def test_kumomta_shaping_file() -> None:
    limited = {"limit_type": LimitType.HOST, "limit_apply": LimitApply.SYSTEM}
    table = Table(
        default=DefaultEntry(tls=Tls.PREFERRED),
        entries={
            ".partner.example": Entry(tls=Tls.REQUIRED_VERIFY_HOSTED),
            "bulk.example": Entry(recipient_limit=100, recipient_minutes=1, **limited),
            "[192.0.2.1]": Entry(tls=Tls.NO),
        },
    )
    data, losses = kumomta.render(table)
    assert data.startswith(kumomta.HEADER.encode())
    assert tomllib.loads(data.decode()) == {
        "default": {
            "enable_tls": "OpportunisticInsecure",
            "connection_limit": 500,
            "max_deliveries_per_connection": 50,
        },
        "bulk.example": {
            "mx_rollup": False,
            "enable_tls": "OpportunisticInsecure",
            "connection_limit": 500,
            "max_deliveries_per_connection": 50,
            "max_message_rate": "100/min",
        },
        "provider": {
            ".partner.example": {
                "match": [{"DomainSuffix": ".partner.example"}],
                "enable_tls": "Required",
                "connection_limit": 500,
                "max_deliveries_per_connection": 50,
            }
        },
    }
    assert [(loss.key, loss.setting) for loss in losses] == [
        (DEFAULT_KEY, "ip_sort_pref"),
        ("[192.0.2.1]", "destination"),
    ]


@settings(max_examples=80, deadline=None)
@given(tables(), st.lists(st.sampled_from(["a", "mx", "b.c"]), max_size=2))
def test_resolve_takes_the_first_lookup_key_the_table_has(table: Table, labels: list[str]) -> None:
    """The order Postfix's maps are looked up in (held to a running Postfix by
    test_postfix_live) is the order resolve finds an entry in."""
    for key in table.entries:
        domain = key.lstrip(".")
        if labels and not is_address(domain):
            domain = ".".join([*labels, domain])
        first = next((each for each in lookup_keys(domain) if each in table.entries), None)
        assert resolve(table, f"user@{domain}").key == first


@settings(max_examples=100, deadline=None)
@given(tables())
def test_the_entry_comment_is_the_models_own_json(table: Table) -> None:
    for entry in table.entries.values():
        own = entry.model_dump(mode="json", exclude_none=True)
        assert postfix._entry_json(entry) == postfix._compact(own)


@settings(max_examples=200, deadline=None)
@given(tables())
def test_the_lines_of_an_entry_worked_out_in_halves_are_the_plain_ones(table: Table) -> None:
    """The render's fast path (each half of an entry's values worked out once) against
    the entry's own model JSON and the catalogue's losses."""
    halves: postfix._Halves = ({}, {})
    for entry in table.entries.values():
        fast = postfix._written(tuple(entry.__dict__.values()), table.default, halves)
        assert fast == postfix._written_plainly(entry, table.default)


def test_the_default_entrys_losses_come_together_before_the_entries() -> None:
    table = Table(
        default=DefaultEntry(max_host_concurrency=50, ip_sort_pref=IpSort.REQUIRE_V4),
        entries={"a.example": Entry(tls=Tls.PREFERRED)},
    )
    losses = postfix.render(table, DIR).losses
    assert [(loss.key, loss.setting) for loss in losses] == [
        (DEFAULT_KEY, "max_host_concurrency"),
        (DEFAULT_KEY, "max_messages_per_connection"),
        (DEFAULT_KEY, "ip_sort_pref"),
        ("a.example", "tls"),
    ]


def test_every_parameter_the_export_owns_is_written_whatever_the_table_sets() -> None:
    """postconf -e never removes a parameter: each one an export may write is written by
    every export, at Postfix's own value where the table sets nothing."""

    def parameters(default: DefaultEntry) -> dict[str, str]:
        main = live(postfix.render(Table(default=default), DIR).files["main.cf"])
        return dict(line.split(" = ", 1) for line in main)

    plain = parameters(DefaultEntry(max_messages_per_connection=1, ip_sort_pref=IpSort.REQUIRE_V6))
    full = parameters(
        DefaultEntry(
            tls=Tls.REQUIRED_VERIFY,
            max_messages_per_connection=5,
            recipient_limit=100,
            recipient_minutes=1,
            ip_sort_pref=IpSort.PREFER_V4,
        )
    )
    assert plain.keys() == full.keys()
    assert {name: plain[name] for name in postfix.NEUTRAL} == {
        **postfix.NEUTRAL,
        "smtp_connection_cache_on_demand": "no",
    }
    assert [name for name, value in postfix.NEUTRAL.items() if full[name] == value] == [
        "smtp_connection_cache_on_demand"  # Postfix's own: the connection cache's on
    ]


def test_kumomta_names_the_bounce_settings_it_does_not_write() -> None:
    table = Table(
        bounce_profiles=("bulk",),
        entries={"a.example": Entry(bounce_validation=True, bounce_profile="bulk")},
    )
    _, losses = kumomta.render(table)
    assert [str(loss) for loss in losses if loss.key == "a.example"] == [
        "a.example: bounce_validation: not written: KumoMTA's shaping has no such setting",
        "a.example: bounce_profile: not written: KumoMTA's shaping has no such setting",
    ]


def test_a_patterns_concurrency_is_shared_by_the_names_under_it_and_said_so() -> None:
    """Postfix counts each name under a pattern as a destination of its own, but the
    pattern's smtp service has one process limit for them all."""
    table = Table(
        entries={
            ".small.example": Entry(max_host_concurrency=3, tls=Tls.PREFERRED, **LIMITED),
            ".large.example": Entry(max_host_concurrency=50, **LIMITED),
            "one.example": Entry(max_host_concurrency=3, **LIMITED),
        }
    )
    losses = [str(loss) for loss in postfix.render(table, DIR).losses if loss.key != DEFAULT_KEY]
    shared = (
        "the names under the pattern share the service's {0} processes, where the appliance "
        "allows {0} connections to each"
    )
    assert losses == [
        ".large.example: max_host_concurrency: Postfix ramps up to it from "
        f"initial_destination_concurrency (5); {shared.format(50)}",
        f".small.example: max_host_concurrency: {shared.format(3)}",
        f".small.example: tls: {postfix._loss('tls', Tls.PREFERRED)}",
    ]
