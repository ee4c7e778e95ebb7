"""tlsverify against real SMTP servers on loopback: what the probe finds, what it logs, and
what each of the six TLS settings would do with it.

Every server listens on 127.0.0.1 and presents a certificate of a throwaway
authority; names reach it through a fake network, never DNS. The expected
delivery of each scenario under each setting is written out by hand from the
table of the six settings and the two identity rules, not computed.
"""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from destconfig.model import Entry, Table, Tls
from destconfig.tlsverify import probe
from destconfig.tlsverify.check import Verdict, run_check
from destconfig.tlsverify.decision import Certificate, Delivery, Facts, Stage, outcomes
from destconfig.tlsverify.options import check_ca_file
from destconfig.tlsverify.probe import Target, parse_target
from tests.tlsservers import (
    FakeNetwork,
    Pki,
    Recorder,
    Script,
    closed_port,
    loopback_network,
    scripted_server,
    smtp_server,
)

DOMAIN = "example.test"
MX = "mx1.example.test"
TIMEOUT = 2.0

# The TLS line of the log: the servers speak TLS 1.3 only, with OpenSSL's first suite.
TLS_UP = "TLS connection established: protocol TLSv1.3, cipher TLS_AES_256_GCM_SHA384."


pytestmark = pytest.mark.usefixtures("loopback_only")


def check(
    pki: Pki,
    port: int,
    *,
    table: Table | None = None,
    domain: str = DOMAIN,
    host: str = MX,
    network: FakeNetwork | None = None,
    timeout: float = TIMEOUT,
) -> Verdict:
    """run_check against the server on *port*, reached as *host*; the log must match."""
    seen: list[str] = []
    verdict = run_check(
        table if table is not None else Table(),
        domain,
        Target(host, port),
        log=seen.append,
        timeout=timeout,
        ca_file=pki.ca_file,
        network=network if network is not None else loopback_network(MX),
    )
    assert seen == verdict.log  # each line went out as it happened, and was kept
    return verdict


def lines(text: str, port: int) -> list[str]:
    """Expected log lines, ``{port}`` standing for the server's port."""
    return text.replace("{port}", str(port)).split("\n")


# --- the scenarios -------------------------------------------------------------------------

Server = Callable[[Pki], AbstractContextManager[int]]

SCENARIOS: dict[str, Server] = {
    # (1) the SAN names the recipient domain
    "san-domain": lambda pki: smtp_server(pki.issue(DOMAIN)),
    # (2) the SAN names the MX host only, no CN
    "san-mx-only": lambda pki: smtp_server(pki.build(common_name=None, dns_names=[MX])),
    # (3) a CN and no subjectAltName extension at all
    "cn-no-san": lambda pki: smtp_server(pki.build(common_name=MX, dns_names=None)),
    # (4) the SAN list does not match, the CN does
    "san-other-cn-mx": lambda pki: smtp_server(pki.issue("other.example.net", common_name=MX)),
    # (5) a wildcard SAN, no CN
    "wildcard": lambda pki: smtp_server(pki.issue("*.example.test")),
    # (6) a trusted authority, names that match, dates that ended yesterday
    "expired": lambda pki: smtp_server(pki.issue(DOMAIN, expired=True)),
    # (7) signed by its own key, names that match
    "self-signed": lambda pki: smtp_server(
        pki.build(common_name=MX, dns_names=[DOMAIN], self_signed=True)
    ),
    # (8) STARTTLS not in the EHLO reply
    "no-starttls": lambda pki: smtp_server(None),
    # (9) STARTTLS offered, answered with 454
    "starttls-454": lambda pki: smtp_server(pki.issue(DOMAIN), refuse_starttls=True),
    # (10) 220 to STARTTLS, then the handshake breaks, three ways
    "fin-after-220": lambda pki: scripted_server(Script.FIN_AFTER_220),
    "rst-after-220": lambda pki: scripted_server(Script.RST_AFTER_220),
    "garbage-after-220": lambda pki: scripted_server(Script.GARBAGE_AFTER_220),
}


def run_scenario(pki: Pki, name: str) -> tuple[int, Verdict]:
    with SCENARIOS[name](pki) as port:
        return port, check(pki, port)


# --- delivery under the six settings -------------------------------------------------------

# A cell: (delivery, verified); verified is None where the setting does not verify.
CLEAR = (Delivery.CLEAR, None)
ENCRYPTED = (Delivery.ENCRYPTED, None)
VERIFIED = (Delivery.ENCRYPTED, True)
UNVERIFIED = (Delivery.ENCRYPTED, False)
QUEUED = (Delivery.NOT_DELIVERED, None)
REJECTED = (Delivery.NOT_DELIVERED, False)  # not delivered: the certificate failed its check

SETTINGS = (
    Tls.NO,
    Tls.PREFERRED,
    Tls.REQUIRED,
    Tls.PREFERRED_VERIFY,
    Tls.REQUIRED_VERIFY,
    Tls.REQUIRED_VERIFY_HOSTED,
)

Cell = tuple[Delivery, bool | None]

#            scenario              No     Preferred  Required   Pref-Verify Req-Verify Req-Hosted
DELIVERY: list[tuple[str, tuple[Cell, Cell, Cell, Cell, Cell, Cell]]] = [
    ("san-domain", (CLEAR, ENCRYPTED, ENCRYPTED, VERIFIED, VERIFIED, VERIFIED)),
    ("san-mx-only", (CLEAR, ENCRYPTED, ENCRYPTED, UNVERIFIED, REJECTED, VERIFIED)),
    ("cn-no-san", (CLEAR, ENCRYPTED, ENCRYPTED, VERIFIED, VERIFIED, VERIFIED)),
    ("san-other-cn-mx", (CLEAR, ENCRYPTED, ENCRYPTED, VERIFIED, VERIFIED, REJECTED)),
    ("wildcard", (CLEAR, ENCRYPTED, ENCRYPTED, UNVERIFIED, REJECTED, VERIFIED)),
    ("expired", (CLEAR, ENCRYPTED, ENCRYPTED, UNVERIFIED, REJECTED, REJECTED)),
    ("self-signed", (CLEAR, ENCRYPTED, ENCRYPTED, UNVERIFIED, REJECTED, REJECTED)),
    ("no-starttls", (CLEAR, CLEAR, QUEUED, CLEAR, QUEUED, QUEUED)),
    ("starttls-454", (CLEAR, CLEAR, QUEUED, CLEAR, QUEUED, QUEUED)),
    ("fin-after-220", (CLEAR, QUEUED, QUEUED, QUEUED, QUEUED, QUEUED)),
    ("rst-after-220", (CLEAR, QUEUED, QUEUED, QUEUED, QUEUED, QUEUED)),
    ("garbage-after-220", (CLEAR, QUEUED, QUEUED, QUEUED, QUEUED, QUEUED)),
]


def test_every_scenario_has_a_row() -> None:
    assert [scenario for scenario, _ in DELIVERY] == list(SCENARIOS)


@pytest.mark.parametrize(("scenario", "cells"), DELIVERY, ids=[row[0] for row in DELIVERY])
def test_delivery_under_each_setting(pki: Pki, scenario: str, cells: tuple[Cell, ...]) -> None:
    expected = dict(zip(SETTINGS, cells, strict=True))
    _, verdict = run_scenario(pki, scenario)
    found = outcomes(verdict.facts)
    assert list(found) == list(SETTINGS)
    assert {setting: (each.delivery, each.verified) for setting, each in found.items()} == expected
    for setting, each in found.items():
        assert each.goes_ahead is (expected[setting][0] is not Delivery.NOT_DELIVERED)
    # The factory table governs: the default entry, TLS No.
    assert (verdict.key, verdict.setting) == (None, Tls.NO)
    assert verdict.outcome == found[Tls.NO]


# --- the facts -----------------------------------------------------------------------------

HANDSHAKE = "the TLS handshake failed after the server's 220 reply"

FACTS: dict[str, tuple[Stage, bool, str, Certificate | None, str]] = {
    # scenario: (stage, chain trusted, chain problem, certificate, reason)
    "san-domain": (Stage.TLS_UP, True, "", Certificate((), (DOMAIN,)), ""),
    "san-mx-only": (Stage.TLS_UP, True, "", Certificate((), (MX,)), ""),
    "cn-no-san": (Stage.TLS_UP, True, "", Certificate((MX,), ()), ""),
    "san-other-cn-mx": (Stage.TLS_UP, True, "", Certificate((MX,), ("other.example.net",)), ""),
    "wildcard": (Stage.TLS_UP, True, "", Certificate((), ("*.example.test",)), ""),
    "expired": (Stage.TLS_UP, False, "certificate has expired", Certificate((), (DOMAIN,)), ""),
    "self-signed": (
        Stage.TLS_UP,
        False,
        "self-signed certificate",
        Certificate((MX,), (DOMAIN,)),
        "",
    ),
    "no-starttls": (Stage.NO_STARTTLS, False, "", None, "the server does not offer STARTTLS"),
    "starttls-454": (
        Stage.NO_STARTTLS,
        False,
        "",
        None,
        "the server refused STARTTLS (454 4.7.0 TLS not available)",
    ),
    "fin-after-220": (
        Stage.HANDSHAKE_FAILED,
        False,
        "",
        None,
        f"{HANDSHAKE} (EOF occurred in violation of protocol)",
    ),
    "rst-after-220": (
        Stage.HANDSHAKE_FAILED,
        False,
        "",
        None,
        f"{HANDSHAKE} (connection reset by peer)",
    ),
    "garbage-after-220": (
        Stage.HANDSHAKE_FAILED,
        False,
        "",
        None,
        f"{HANDSHAKE} (wrong version number)",
    ),
}


@pytest.mark.parametrize("scenario", list(FACTS))
def test_facts(pki: Pki, scenario: str) -> None:
    stage, trusted, problem, certificate, reason = FACTS[scenario]
    _, verdict = run_scenario(pki, scenario)
    assert verdict.facts == Facts(
        DOMAIN,
        MX,
        stage,
        reason=reason,
        chain_trusted=trusted,
        chain_problem=problem,
        certificate=certificate,
    )


# --- the log -------------------------------------------------------------------------------

CONNECTED = """\
Connecting to 127.0.0.1 on port {port}.
Connected to 127.0.0.1 from interface 127.0.0.1.
Checking TLS connection."""

TLS_CONNECTED = CONNECTED + "\n" + TLS_UP + "\nVerifying peer certificate."

VERIFIED_END = """\
TLS certificate verified.
TLS connection to 127.0.0.1 succeeded.
TLS successfully connected to mx1.example.test.
TLS verification completed."""

UNVERIFIED_END = """\
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed."""

LOGS = {
    "san-domain": f"""{TLS_CONNECTED}
Verifying certificate DNS names example.test.
TLS certificate match example.test
{VERIFIED_END}""",
    "san-mx-only": f"""{TLS_CONNECTED}
Verifying certificate DNS names mx1.example.test.
TLS certificate does not match: it presents DNS names mx1.example.test; \
checked DNS names against example.test.
{UNVERIFIED_END}""",
    "cn-no-san": f"""{TLS_CONNECTED}
Verifying certificate common name mx1.example.test.
TLS certificate match mx1.example.test
{VERIFIED_END}""",
    "san-other-cn-mx": f"""{TLS_CONNECTED}
Verifying certificate common name mx1.example.test.
Verifying certificate DNS names other.example.net.
TLS certificate match mx1.example.test
{VERIFIED_END}""",
    "wildcard": f"""{TLS_CONNECTED}
Verifying certificate DNS names *.example.test.
TLS certificate does not match: it presents DNS names *.example.test; \
checked DNS names against example.test.
{UNVERIFIED_END}""",
    "expired": f"""{TLS_CONNECTED}
TLS certificate chain not verified: certificate has expired.
{UNVERIFIED_END}""",
    "self-signed": f"""{TLS_CONNECTED}
TLS certificate chain not verified: self-signed certificate.
{UNVERIFIED_END}""",
    "no-starttls": f"""{CONNECTED}
The server does not offer STARTTLS.""",
    "starttls-454": f"""{CONNECTED}
The server refused STARTTLS (454 4.7.0 TLS not available).""",
    "fin-after-220": f"""{CONNECTED}
TLS handshake failed: EOF occurred in violation of protocol.""",
    "rst-after-220": f"""{CONNECTED}
TLS handshake failed: connection reset by peer.""",
    "garbage-after-220": f"""{CONNECTED}
TLS handshake failed: wrong version number.""",
}


@pytest.mark.parametrize("scenario", list(LOGS))
def test_log(pki: Pki, scenario: str) -> None:
    port, verdict = run_scenario(pki, scenario)
    assert verdict.log == lines(LOGS[scenario], port)


def test_the_probe_stops_after_the_handshake(pki: Pki) -> None:
    recorder = Recorder()
    with smtp_server(pki.issue(DOMAIN), handler=recorder) as port:
        verdict = check(pki, port)
    assert verdict.facts.stage is Stage.TLS_UP
    # EHLO in clear, STARTTLS, then QUIT over TLS: no MAIL, RCPT or DATA.
    assert recorder.commands == [("EHLO destconfig.invalid", False), ("QUIT", True)]


def test_an_expired_certificate_is_looked_at_twice_and_never_sent_mail(pki: Pki) -> None:
    recorder = Recorder()
    with smtp_server(pki.issue(DOMAIN, expired=True), handler=recorder) as port:
        verdict = check(pki, port)
    assert verdict.facts.chain_problem == "certificate has expired"
    # The verifying handshake is abandoned; a second one, not verifying, reads the names.
    assert recorder.commands == [
        ("EHLO destconfig.invalid", False),
        ("EHLO destconfig.invalid", False),
        ("QUIT", True),
    ]


def test_an_address_is_connected_to_without_a_lookup(pki: Pki) -> None:
    network = FakeNetwork()
    with smtp_server(pki.issue(DOMAIN)) as port:
        verdict = check(pki, port, host="127.0.0.1", network=network)
    assert network.address_lookups == []
    assert verdict.facts.host == "127.0.0.1"
    assert verdict.log[-2:] == [
        "TLS successfully connected to 127.0.0.1.",
        "TLS verification completed.",
    ]
    assert outcomes(verdict.facts)[Tls.REQUIRED_VERIFY_HOSTED].verified is True


def test_without_the_authority_the_chain_is_not_trusted(pki: Pki, tmp_path: Path) -> None:
    other = Pki(tmp_path / "other")  # the server's authority is not the one trusted
    with smtp_server(other.issue(DOMAIN)) as port:
        verdict = check(pki, port)
    assert verdict.facts.chain_trusted is False
    assert verdict.facts.chain_problem == "unable to get local issuer certificate"
    assert verdict.facts.certificate == Certificate((), (DOMAIN,))
    assert outcomes(verdict.facts)[Tls.REQUIRED_VERIFY].delivery is Delivery.NOT_DELIVERED


# --- the governing entry -------------------------------------------------------------------


def test_the_governing_entry_decides(pki: Pki) -> None:
    table = Table().with_entry(DOMAIN, Entry(tls=Tls.REQUIRED_VERIFY_HOSTED))
    with smtp_server(pki.build(common_name=None, dns_names=[MX])) as port:
        verdict = check(pki, port, table=table)
    assert (verdict.key, verdict.setting) == (DOMAIN, Tls.REQUIRED_VERIFY_HOSTED)
    assert verdict.outcome.delivery is Delivery.ENCRYPTED
    assert verdict.outcome.text == "encrypted, certificate verified (hosted domain rules)."


def test_a_subdomain_pattern_governs_the_names_under_it(pki: Pki) -> None:
    table = Table().with_entry(".example.test", Entry(tls=Tls.REQUIRED_VERIFY))
    network = loopback_network(MX)
    with smtp_server(pki.issue("*.example.test")) as port:
        under = check(pki, port, table=table, domain="mail.example.test", network=network)
        itself = check(pki, port, table=table, network=network)
    assert (under.key, under.setting) == (".example.test", Tls.REQUIRED_VERIFY)
    assert under.outcome.delivery is Delivery.ENCRYPTED
    assert under.outcome.verified is True  # *.example.test matches mail.example.test
    # ".example.test" names every domain under example.test, not example.test itself.
    assert (itself.key, itself.setting) == (None, Tls.NO)


# --- no connection -------------------------------------------------------------------------


def assert_never_delivered(facts: Facts) -> None:
    for setting, each in outcomes(facts).items():
        assert (each.delivery, each.verified) == QUEUED, setting
        assert (
            each.text
            == f"not delivered: {facts.reason}; the message stays queued for a later attempt."
        )


def test_connection_refused(pki: Pki) -> None:
    port = closed_port()
    verdict = check(pki, port)
    reason = f"the connection to 127.0.0.1 on port {port} failed (connection refused)"
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_CONNECTION, reason=reason)
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connection to 127.0.0.1 failed: connection refused.",
    ]
    assert_never_delivered(verdict.facts)


def test_a_greeting_that_refuses_service(pki: Pki) -> None:
    with scripted_server(Script.GREETING_554) as port:
        verdict = check(pki, port)
    answer = "the server answered 554 5.7.1 no service here"
    assert verdict.facts.stage is Stage.NO_CONNECTION
    assert verdict.facts.reason == f"the connection to 127.0.0.1 on port {port} failed ({answer})"
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        f"Connection to 127.0.0.1 failed: {answer}.",
    ]
    assert_never_delivered(verdict.facts)


def test_a_host_without_an_address(pki: Pki) -> None:
    verdict = check(pki, 2525, host="nowhere.example.test")
    assert verdict.facts == Facts(
        DOMAIN,
        "nowhere.example.test",
        Stage.NO_CONNECTION,
        reason="nowhere.example.test has no address",
    )
    assert verdict.log == [
        "Cannot find the address of nowhere.example.test: name or service not known."
    ]
    assert_never_delivered(verdict.facts)


@pytest.mark.slow
def test_the_time_limit_of_the_handshake(pki: Pki) -> None:
    with scripted_server(Script.SILENT_AFTER_220) as port:
        verdict = check(pki, port, timeout=0.5)
    assert verdict.facts.stage is Stage.HANDSHAKE_FAILED
    assert verdict.facts.reason == f"{HANDSHAKE} (timed out after 0.5 seconds)"
    assert verdict.log[-1] == "TLS handshake failed: timed out after 0.5 seconds."


@pytest.mark.slow
def test_the_time_limit_of_the_greeting(pki: Pki) -> None:
    with scripted_server(Script.SILENT_GREETING) as port:
        verdict = check(pki, port, timeout=0.5)
    assert verdict.facts.stage is Stage.NO_CONNECTION
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        # The connection was made: the server, not the network, is silent.
        "Connected to 127.0.0.1, but the server did not greet within 0.5 seconds.",
    ]
    assert verdict.facts.reason == (
        f"the connection to 127.0.0.1 on port {port} was made, but the server did not greet "
        "within 0.5 seconds"
    )


# --- the mail exchangers -------------------------------------------------------------------


def run_lookup(pki: Pki, network: FakeNetwork) -> Verdict:
    seen: list[str] = []
    verdict = run_check(
        Table(),
        DOMAIN,
        None,
        log=seen.append,
        timeout=TIMEOUT,
        ca_file=pki.ca_file,
        network=network,
    )
    assert seen == verdict.log
    return verdict


def test_the_first_mail_exchanger_that_answers(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    network = FakeNetwork(
        exchangers={DOMAIN: ["mx1.example.test", "mx2.example.test"]},
        # mx1 is a loopback address nothing listens on; mx2 is the server's.
        hosts={"mx1.example.test": ["127.0.0.2"], "mx2.example.test": ["127.0.0.1"]},
    )
    with smtp_server(pki.issue(DOMAIN)) as port:
        # A looked-up exchanger is reached on the SMTP port; the server's port stands in.
        monkeypatch.setattr(probe, "SMTP_PORT", port)
        verdict = run_lookup(pki, network)
    assert network.mx_lookups == [DOMAIN]
    assert [host for host, _ in network.address_lookups] == ["mx1.example.test", "mx2.example.test"]
    assert verdict.facts.host == "mx2.example.test"
    assert verdict.facts.stage is Stage.TLS_UP
    assert verdict.log == lines(
        f"""\
Looking up the mail exchangers of example.test.
Mail exchangers in preference order: mx1.example.test, mx2.example.test.
Connecting to 127.0.0.2 on port {{port}}.
Connection to 127.0.0.2 failed: connection refused.
{TLS_CONNECTED}
Verifying certificate DNS names example.test.
TLS certificate match example.test
TLS certificate verified.
TLS connection to 127.0.0.1 succeeded.
TLS successfully connected to mx2.example.test.
TLS verification completed.""",
        port,
    )


def test_every_mail_exchanger_refuses(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setattr(probe, "SMTP_PORT", port)
    network = FakeNetwork(
        exchangers={DOMAIN: ["mx1.example.test", "mx2.example.test"]},
        hosts={"mx1.example.test": ["127.0.0.1"], "mx2.example.test": ["127.0.0.1"]},
    )
    verdict = run_lookup(pki, network)
    assert verdict.facts.host == "mx2.example.test"  # the last one tried
    assert verdict.facts.stage is Stage.NO_CONNECTION
    assert verdict.log[:2] == [
        "Looking up the mail exchangers of example.test.",
        "Mail exchangers in preference order: mx1.example.test, mx2.example.test.",
    ]
    assert verdict.log[2:] == 2 * [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connection to 127.0.0.1 failed: connection refused.",
    ]
    assert_never_delivered(verdict.facts)


def test_no_mx_record_falls_back_to_the_domain(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    network = loopback_network(DOMAIN)  # no MX record, an address of its own
    with smtp_server(pki.issue(DOMAIN)) as port:
        monkeypatch.setattr(probe, "SMTP_PORT", port)
        verdict = run_lookup(pki, network)
    assert network.mx_lookups == [DOMAIN]
    assert verdict.facts.host == DOMAIN
    assert verdict.log[:3] == [
        "Looking up the mail exchangers of example.test.",
        "example.test has no MX record: connecting to the domain itself.",
        f"Connecting to 127.0.0.1 on port {port}.",
    ]
    assert verdict.log[-2:] == [
        "TLS successfully connected to example.test.",
        "TLS verification completed.",
    ]


def test_a_failed_mx_lookup(pki: Pki) -> None:
    network = FakeNetwork(lookup_failure="the MX lookup timed out after 2 seconds")
    verdict = run_lookup(pki, network)
    assert verdict.facts == Facts(
        DOMAIN,
        DOMAIN,
        Stage.NO_CONNECTION,
        reason="the MX lookup timed out after 2 seconds",
    )
    assert verdict.log == [
        "Looking up the mail exchangers of example.test.",
        "No mail exchanger: the MX lookup timed out after 2 seconds.",
    ]
    assert network.address_lookups == []
    assert_never_delivered(verdict.facts)


# --- a STARTTLS with no reply, and a certificate that cannot be read again -------------------


def test_a_drop_on_starttls_is_starttls_refused_before_its_220(pki: Pki) -> None:
    with scripted_server(Script.CLOSE_ON_STARTTLS) as port:
        verdict = check(pki, port)
    reason = "the server answered STARTTLS with no reply (the server closed the connection)"
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_STARTTLS, reason=reason)
    assert verdict.log[-2:] == [
        "Checking TLS connection.",
        "The server answered STARTTLS with no reply (the server closed the connection).",
    ]
    # The greeting and EHLO went through: TLS No would deliver in clear, Preferred too.
    found = outcomes(verdict.facts)
    assert found[Tls.NO].delivery is Delivery.CLEAR
    assert found[Tls.PREFERRED].delivery is Delivery.CLEAR
    assert found[Tls.REQUIRED].delivery is Delivery.NOT_DELIVERED


def test_an_untrusted_chain_is_reported_when_the_second_look_fails(pki: Pki) -> None:
    context = pki.build(common_name=MX, dns_names=None, self_signed=True)
    # The first connection completes the handshake; the second drops on STARTTLS.
    with scripted_server(Script.TLS, Script.CLOSE_ON_STARTTLS, tls_context=context) as port:
        verdict = check(pki, port)
    assert verdict.facts == Facts(
        DOMAIN, MX, Stage.TLS_UP, chain_problem="self-signed certificate", certificate=None
    )
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connected to 127.0.0.1 from interface 127.0.0.1.",
        "Checking TLS connection.",
        "Reading the certificate without verifying it failed: the server answered STARTTLS "
        "with no reply (the server closed the connection).",
        "Verifying peer certificate.",
        "TLS certificate chain not verified: self-signed certificate.",
        "TLS certificate not verified.",
        "TLS connection to 127.0.0.1 succeeded.",
        f"TLS connected to {MX} without a verified certificate.",
        "TLS verification completed.",
    ]
    found = outcomes(verdict.facts)
    assert found[Tls.REQUIRED].delivery is Delivery.ENCRYPTED
    assert (found[Tls.REQUIRED_VERIFY].delivery, found[Tls.REQUIRED_VERIFY].verified) == (
        Delivery.NOT_DELIVERED,
        False,
    )


# --- the host answer and the CA file -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("mx1.example.test", Target("mx1.example.test", 25)),
        ("mx1.example.test:2525", Target("mx1.example.test", 2525)),
        ("  mx1.example.test:26  ", Target("mx1.example.test", 26)),
        ("mx1.example.test:1", Target("mx1.example.test", 1)),
        ("mx1.example.test:65535", Target("mx1.example.test", 65535)),
        ("192.0.2.7:587", Target("192.0.2.7", 587)),
        ("[2001:db8::1]:2525", Target("2001:db8::1", 2525)),
        ("[2001:db8::1]", Target("2001:db8::1", 25)),
        ("2001:db8::1", Target("2001:db8::1", 25)),
        ("::1", Target("::1", 25)),
        ("MX1.Example.TEST:26", Target("mx1.example.test", 26)),
        ("bücher.example", Target("xn--bcher-kva.example", 25)),
    ],
)
def test_parse_target(text: str, target: Target) -> None:
    assert parse_target(text) == target


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "mx1.example.test:0",
        "mx1.example.test:65536",
        "mx1.example.test:abc",
        "mx1.example.test:",
        "mx1.example.test:-1",
        "mx1.example.test:+25",
        "mx1.example.test:２５",  # noqa: RUF001 (full-width digits are not a port)
        ":25",
        "mx1 example.test",
        "[2001:db8::1]:0",
        "[2001:db8::1]x",
        "[2001:db8::1",
        "[]:25",
        "[mx.example.test]:26",
        "a@b:26",
        ".example.test",
        "-bad.example.test",
    ],
)
def test_parse_target_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_target(text)


@pytest.mark.parametrize(
    ("text", "port"),
    [("0", None), ("1", 1), ("65535", 65535), ("65536", None), ("+25", None), ("", None)],
)
def test_one_port_reading_for_hosts_dns_servers_and_options(text: str, port: int | None) -> None:
    from destconfig.audit.lookups import parse_server
    from destconfig.commands.audit import _port

    host = f"[2001:db8::1]:{text}"
    if port is None:
        for read in (probe.parse_port, parse_target, parse_server):
            with pytest.raises(ValueError):
                read(text if read is probe.parse_port else host)
        with pytest.raises(argparse.ArgumentTypeError):
            _port(text)
        return
    assert probe.split_host_port(host, 53) == ("2001:db8::1", port)
    assert parse_server(host) == ("2001:db8::1", port)
    assert parse_target(host) == Target("2001:db8::1", port)
    assert probe.parse_port(text) == _port(text) == port


@pytest.mark.parametrize(
    ("limit", "words"), [(1, "1 second"), (1.0, "1 second"), (0.5, "0.5 seconds"), (2, "2 seconds")]
)
def test_a_time_limit_in_words(limit: float, words: str) -> None:
    from destconfig.tlsverify.options import seconds, timed_out

    assert seconds(limit) == words
    assert timed_out(limit) == f"timed out after {words}"


def test_check_ca_file(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    assert check_ca_file(missing) == f"{missing}: no such file"
    assert check_ca_file(tmp_path) == f"{tmp_path}: is a directory"
    text = tmp_path / "notes.pem"
    text.write_text("not a certificate\n")
    assert check_ca_file(text) == f"{text}: not a PEM file of certificates"
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    assert check_ca_file(empty) == f"{empty}: not a PEM file of certificates"
    assert check_ca_file(pki.ca_file) is None
    ssl.create_default_context(cafile=str(pki.ca_file))  # and it is one indeed
