"""The MX lookup of tlsverify, against a DNS server on loopback (never the real DNS)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.resolver
import dns.rrset
import pytest

from destconfig.tlsverify.probe import LookupFailed, SystemNetwork


@contextlib.contextmanager
def dns_server(mode: str) -> Iterator[dns.resolver.Resolver]:
    """A UDP DNS server on 127.0.0.1 answering every question as *mode* says, and a
    resolver that asks it (and nothing else)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = server.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if mode == "silent":
                continue
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            name = query.question[0].name
            if mode == "nxdomain":
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif mode == "mx":
                reply.answer.append(
                    dns.rrset.from_text(
                        name, 300, "IN", "MX", "20 mx2.example.test.", "10 mx1.example.test."
                    )
                )
            elif mode == "null-mx":
                reply.answer.append(dns.rrset.from_text(name, 300, "IN", "MX", "0 ."))
            server.sendto(reply.to_wire(), peer)  # "no-answer": NOERROR, nothing in it

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    resolver = dns.resolver.Resolver(configure=False)  # reads no system configuration
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.getsockname()[1]
    try:
        yield resolver
    finally:
        stop.set()
        thread.join(2)
        server.close()


def test_mail_exchangers_come_in_preference_order() -> None:
    with dns_server("mx") as resolver:
        found = SystemNetwork(resolver).mail_exchangers("example.test", 2.0)
    assert found == ["mx1.example.test", "mx2.example.test"]


def test_no_mx_record_is_an_empty_list() -> None:
    with dns_server("no-answer") as resolver:
        assert SystemNetwork(resolver).mail_exchangers("example.test", 2.0) == []


def test_a_domain_that_does_not_exist() -> None:
    with dns_server("nxdomain") as resolver, pytest.raises(LookupFailed) as failed:
        SystemNetwork(resolver).mail_exchangers("nowhere.example.test", 2.0)
    assert str(failed.value) == "the domain nowhere.example.test does not exist"


def test_a_null_mx_accepts_no_mail() -> None:
    with dns_server("null-mx") as resolver, pytest.raises(LookupFailed) as failed:
        SystemNetwork(resolver).mail_exchangers("example.test", 2.0)
    assert str(failed.value) == "example.test publishes a null MX: it accepts no mail"


@pytest.mark.slow
def test_a_silent_server_times_out_within_the_limit() -> None:
    started = time.monotonic()
    with dns_server("silent") as resolver, pytest.raises(LookupFailed) as failed:
        SystemNetwork(resolver).mail_exchangers("example.test", 0.5)
    assert str(failed.value) == "the MX lookup timed out after 0.5 seconds"
    assert time.monotonic() - started < 2.0


def test_an_address_needs_no_lookup() -> None:
    assert SystemNetwork().addresses("127.0.0.1", 25) == ["127.0.0.1"]
