"""MTA-STS for the audit: the record and the policy parsed strictly (RFC 8461 §3), and the
policy fetched from an HTTPS server on loopback within its limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from destconfig.audit import mtasts
from destconfig.audit.fetch import https_context
from destconfig.audit.lookups import AuditNetwork, parse_server, resolver
from destconfig.audit.mtasts import Mode, Policy, PolicyError, StsFound
from tests.audit_servers import Reply, Zone, dns_server, free_port, policy, policy_server
from tests.tlsservers import Pki

# --- the record ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("v=STSv1; id=20160831085700Z;", "20160831085700Z"),
        ("v=STSv1;id=abc", "abc"),
        ("v=STSv1; id=abc; ext=value", "abc"),
    ],
)
def test_a_record_that_parses(text: str, found: str) -> None:
    assert mtasts.parse_record(text) == found


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v=STSv1;", "the record has no id field"),
        ("v=STSv1; id=a-b", "the record's id is not 1 to 32 letters and digits"),
        ("v=STSv1; id=" + "a" * 33, "the record's id is not 1 to 32 letters and digits"),
        ("v=STSv1; id=a; id=b", "the record has two id fields"),
        ("v=STSv1; id", "the record has a field that is not name=value: 'id'"),
        ("v=STSv2; id=a", "the record does not start with v=STSv1"),
    ],
)
def test_a_record_that_does_not_parse(text: str, reason: str) -> None:
    with pytest.raises(PolicyError) as refused:
        mtasts.parse_record(text)
    assert str(refused.value) == reason


def test_exactly_one_record_claims_sts() -> None:
    assert mtasts.one_record(["v=spf1 -all", "v=STSv1; id=a"]) == "a"
    with pytest.raises(PolicyError, match="2 TXT records start with v=STSv1, not one"):
        mtasts.one_record(["v=STSv1; id=a", "v=STSv1; id=b"])


# --- the policy ------------------------------------------------------------------------------


def test_a_policy_that_parses() -> None:
    body = b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmx: *.example.net\r\n"
    body += b"max_age: 604800\r\nreport: x\r\n"
    assert mtasts.parse_policy(body) == Policy(
        Mode.ENFORCE, ("mail.example.test", "*.example.net"), 604800
    )


def test_mode_none_needs_no_mx() -> None:
    assert mtasts.parse_policy(b"version: STSv1\nmode: none\nmax_age: 0") == Policy(
        Mode.NONE, (), 0
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"mode: enforce\nmx: a.test\nmax_age: 1\n", "the policy has no version: STSv1 field"),
        (b"version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n", "no version: STSv1"),
        (b"version: STSv1\nmode: Enforce\nmx: a.test\nmax_age: 1\n", "not enforce, testing"),
        (b"version: STSv1\nmode: enforce\nmx: a.test\n", "max_age is not a number"),
        (b"version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n", "max_age is not a number"),
        (b"version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n", "over 31557600"),
        (b"version: STSv1\nmode: enforce\nmax_age: 1\n", "mode is enforce but it has no mx"),
        (b"version: STSv1\nmode: enforce\nmode: none\nmx: a.test\nmax_age: 1\n", "a second mode"),
        (b"version: STSv1\nmode: enforce\nmx: a*.test\nmax_age: 1\n", "is not a host name"),
        (b"version: STSv1\nmode: enforce\nmx: *.*.test\nmax_age: 1\n", "is not a host name"),
        (b"version: STSv1\nmode: enforce\nmx: test\nmax_age: 1\n", "is not a host name"),
        (b"version: STSv1\nmode enforce\nmx: a.test\nmax_age: 1\n", "line 2 is not a field"),
        (b"version: STSv1\n\nmode: enforce\nmx: a.test\nmax_age: 1\n", "line 2 is not a field"),
        (b"version: STSv1\nmode: enforce\rmx: a.test\nmax_age: 1\n", "line 2 is not a field"),
        ("version: STSv1\nmode: enforce\nmx: é.test\n".encode(), "not ASCII"),
        (b"x" * 65537, "longer than 65536 bytes"),
    ],
)
def test_a_policy_that_does_not_parse(body: bytes, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason.replace("*", r"\*").replace(".", r"\.")):
        mtasts.parse_policy(body)


def test_mx_patterns_match_one_label() -> None:
    found = Policy(Mode.ENFORCE, ("*.example.test", "mail.example.net"), 1)
    assert found.allows("mx1.example.test")
    assert found.allows("MAIL.example.net.")
    assert not found.allows("example.test")
    assert not found.allows("a.b.example.test")


# --- fetched from loopback -------------------------------------------------------------------


@dataclass
class Site:
    zone: Zone
    network: AuditNetwork
    port: int
    pki: Pki

    def sts(self, domain: str, timeout: float = 2.0) -> StsFound:
        return self.network.sts(
            domain, port=self.port, timeout=timeout, context=https_context(self.pki.ca_file)
        )


DOMAINS = ("good.test", "notfound.test", "html.test", "broken.test", "slow.test", "big.test")


@pytest.fixture
def site(pki: Pki) -> Iterator[Site]:
    zone = Zone()
    for domain in DOMAINS:
        zone.add(f"_mta-sts.{domain}", "TXT", '"v=STSv1; id=1;"')
        zone.add(f"mta-sts.{domain}", "A", "127.0.0.1")
    replies = {
        "mta-sts.good.test": Reply(policy("enforce", "mx1.good.test")),
        "mta-sts.html.test": Reply(policy("enforce", "mx1.html.test"), content_type="text/html"),
        "mta-sts.broken.test": Reply(b"version: STSv1\nmode: enforce\n"),
        "mta-sts.slow.test": Reply(policy("enforce", "mx1.slow.test"), trickle=True),
        "mta-sts.big.test": Reply(b"x" * 70000),
    }
    context = pki.issue(*(f"mta-sts.{domain}" for domain in DOMAINS))
    port = free_port("127.0.0.1")
    with dns_server(zone) as server, policy_server("127.0.0.1", port, context, replies):
        made = resolver(parse_server(server))
        yield Site(zone, AuditNetwork(made, own_addresses=True, timeout=2.0), port, pki)


def test_an_enforce_policy_is_fetched_and_parsed(site: Site) -> None:
    assert site.sts("good.test") == StsFound(Policy(Mode.ENFORCE, ("mx1.good.test",), 86400))


def test_the_txt_query_asks_for_the_ad_bit(site: Site) -> None:
    import dns.flags

    site.sts("good.test")
    flags = [flags for name, kind, flags in site.zone.asked if kind == "TXT"]
    assert flags and all(flag & dns.flags.AD for flag in flags)


def test_no_record_no_policy(site: Site) -> None:
    assert site.sts("nothing.test") == StsFound()


def test_a_policy_that_is_not_there(site: Site) -> None:
    assert site.sts("notfound.test") == StsFound(
        note="the MTA-STS policy cannot be fetched: "
        "https://mta-sts.notfound.test/.well-known/mta-sts.txt answered 404"
    )


def test_a_policy_not_served_as_text(site: Site) -> None:
    assert site.sts("html.test").note == (
        "the MTA-STS policy cannot be fetched: the policy is served as text/html, not text/plain"
    )


def test_a_policy_that_does_not_parse_is_none(site: Site) -> None:
    assert site.sts("broken.test") == StsFound(
        note="the MTA-STS policy does not parse: the policy's max_age is not a number of seconds"
    )


def test_a_policy_too_long_is_none(site: Site) -> None:
    assert site.sts("big.test").note == (
        "the MTA-STS policy cannot be fetched: the policy is longer than 65536 bytes"
    )


def test_a_certificate_for_another_name_is_refused(site: Site, pki: Pki) -> None:
    site.zone.add("_mta-sts.other.test", "TXT", '"v=STSv1; id=1;"')
    site.zone.add("mta-sts.other.test", "A", "127.0.0.1")
    found = site.sts("other.test")
    assert found.policy is None
    assert found.note.startswith(
        "the MTA-STS policy cannot be fetched: the certificate of mta-sts.other.test is not "
        "verified (Hostname mismatch"
    )


def test_a_published_record_that_does_not_parse(site: Site) -> None:
    site.zone.add("_mta-sts.bad.test", "TXT", '"v=STSv1; id=!"')
    assert site.sts("bad.test") == StsFound(
        note="the TXT record at _mta-sts.bad.test does not parse: "
        "the record's id is not 1 to 32 letters and digits"
    )


def test_a_trickling_policy_server_is_left_within_the_timeout(site: Site) -> None:
    started = time.monotonic()
    found = site.sts("slow.test", timeout=1.0)
    assert time.monotonic() - started < 2.5
    assert found == StsFound(
        unknown="the MTA-STS policy cannot be fetched: "
        "fetching the policy from mta-sts.slow.test timed out after 1 second"
    )


def test_a_silent_dns_server_is_a_timeout(site: Site) -> None:
    site.zone.silent.add("_mta-sts.quiet.test")
    started = time.monotonic()
    found = site.sts("quiet.test", timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert found == StsFound(
        unknown="the TXT lookup of _mta-sts.quiet.test timed out after 0.5 seconds"
    )


def test_a_failing_dns_server_is_no_policy(site: Site) -> None:
    site.zone.failing.add("_mta-sts.fail.test")
    found = site.sts("fail.test")
    assert found.policy is None and not found.unknown
    assert found.note.startswith("the TXT lookup of _mta-sts.fail.test failed (")


def test_a_policy_server_that_refuses_the_connection(site: Site) -> None:
    site.zone.add("_mta-sts.down.test", "TXT", '"v=STSv1; id=1;"')
    site.zone.add("mta-sts.down.test", "A", "127.0.0.9")  # nothing listens there
    found = site.sts("down.test")
    assert found == StsFound(
        note="the MTA-STS policy cannot be fetched: the connection to 127.0.0.9 on port "
        f"{site.port} failed (connection refused)"
    )
