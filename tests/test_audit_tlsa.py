"""The TLSA lookup of the audit against a DNS server on loopback: the AD bit asked for and
read, a signed zone trusted, an unsigned one not, timeouts and failures."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dns.exception
import dns.flags
import pytest

from destconfig.audit.lookups import AuditNetwork, parse_server, resolver
from destconfig.audit.tlsa import TlsaFound, TlsaRecord
from tests.audit_servers import Zone, dns_server

EE = "3 1 1 " + "ab" * 32
RECORD = TlsaRecord(3, 1, 1, bytes.fromhex("ab" * 32))


@pytest.fixture
def zone() -> Iterator[tuple[Zone, AuditNetwork]]:
    found = Zone(signed={"signed.test"})
    found.add("_25._tcp.mx.signed.test", "TLSA", EE)
    found.add("_25._tcp.mx.plain.test", "TLSA", EE)
    found.add("signed.test", "MX", "10 mx.signed.test.")
    found.add("insecure.test", "MX", "10 mx.signed.test.")
    with dns_server(found) as server:
        yield found, AuditNetwork(resolver(parse_server(server)), own_addresses=True, timeout=2)


def test_records_of_a_signed_zone_are_trusted(zone: tuple[Zone, AuditNetwork]) -> None:
    served, network = zone
    network.mail_exchangers("signed.test", 2.0)
    found = network.tlsa("mx.signed.test", "signed.test", 2.0)
    assert found == TlsaFound("_25._tcp.mx.signed.test", (RECORD,), authenticated=True)
    assert found.usable == (RECORD,)
    asked = [flags for name, kind, flags in served.asked if kind == "TLSA"]
    assert asked and all(flags & dns.flags.AD for flags in asked)


def test_records_without_the_ad_bit_are_not_used(zone: tuple[Zone, AuditNetwork]) -> None:
    found = zone[1].tlsa("mx.plain.test", "plain.test", 2.0)
    assert found.usable == ()
    assert found.note == (
        "the TLSA records at _25._tcp.mx.plain.test are not used: the TLSA answer is not "
        "authenticated"
    )


def test_records_under_an_insecure_mx_are_not_used(zone: tuple[Zone, AuditNetwork]) -> None:
    network = zone[1]
    network.mail_exchangers("insecure.test", 2.0)
    found = network.tlsa("mx.signed.test", "insecure.test", 2.0)
    assert found.usable == ()
    assert found.note.endswith("the MX answer of insecure.test is not authenticated")


def test_no_records(zone: tuple[Zone, AuditNetwork]) -> None:
    assert zone[1].tlsa("mx.none.test", "none.test", 2.0) == TlsaFound("_25._tcp.mx.none.test")


def test_a_silent_server_is_a_timeout(zone: tuple[Zone, AuditNetwork]) -> None:
    zone[0].silent.add("_25._tcp.mx.quiet.test")
    started = time.monotonic()
    found = zone[1].tlsa("mx.quiet.test", "quiet.test", 0.5)
    assert time.monotonic() - started < 1.5
    assert found.unknown == "the TLSA lookup of _25._tcp.mx.quiet.test timed out after 0.5 seconds"


def test_a_failing_lookup_cannot_be_told(zone: tuple[Zone, AuditNetwork]) -> None:
    zone[0].failing.add("_25._tcp.mx.fail.test")
    found = zone[1].tlsa("mx.fail.test", "fail.test", 2.0)
    assert found.unknown.startswith("the TLSA lookup of _25._tcp.mx.fail.test failed (")


def test_a_system_without_resolvers_fails_each_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    import dns.resolver

    def unconfigured(self: dns.resolver.Resolver, *, configure: bool = True) -> None:
        if configure:
            raise dns.resolver.NoResolverConfiguration("no nameservers")
        original(self, configure=False)

    original = dns.resolver.Resolver.__init__
    monkeypatch.setattr(dns.resolver.Resolver, "__init__", unconfigured)
    network = AuditNetwork(resolver(None), own_addresses=True, timeout=1)
    found = network.tlsa("mx.example.test", "example.test", 1.0)
    assert found.unknown.startswith("the TLSA lookup of _25._tcp.mx.example.test failed (")


class _Refusing:
    """A resolver whose failure reads like a timeout: only its type may decide."""

    def __init__(self, words: str) -> None:
        self.words = words

    def resolve(self, *_args: object, **_kwargs: object) -> object:
        raise dns.exception.DNSException(self.words)


def test_a_failure_worded_like_a_timeout_is_a_failure() -> None:
    name = "_25._tcp.mx.worded.test"
    words = f"the TLSA lookup of {name} timed out after 2 seconds"
    network = AuditNetwork(_Refusing(words), own_addresses=True, timeout=2)
    found = network.tlsa("mx.worded.test", "worded.test", 2.0)
    assert found == TlsaFound(name, unknown=f"the TLSA lookup of {name} failed ({words})")
