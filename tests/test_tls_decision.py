"""The decision rules of tlsverify (spec tlsverify §1 and §2), without any network."""

from __future__ import annotations

import pytest

from destconfig.model import Tls
from destconfig.tlsverify.decision import (
    Certificate,
    Delivery,
    Facts,
    Rules,
    Stage,
    identity,
    name_matches,
    outcome,
    outcomes,
    verification,
)

DOMAIN = "example.com"
HOST = "mx1.example.com"

C, E, N = Delivery.CLEAR, Delivery.ENCRYPTED, Delivery.NOT_DELIVERED


def facts(stage: Stage, certificate: Certificate | None = None, *, trusted: bool = True) -> Facts:
    return Facts(
        DOMAIN,
        HOST,
        stage,
        reason="why" if stage is not Stage.TLS_UP else "",
        chain_trusted=trusted and stage is Stage.TLS_UP,
        chain_problem="" if trusted else "self-signed certificate",
        certificate=certificate,
    )


VERIFIED_BOTH = Certificate(dns_names=(DOMAIN,))
UNVERIFIED = Certificate(common_names=("other.example.net",), dns_names=("other.example.net",))

# Spec §1, row by row: (setting, no STARTTLS, handshake fails, TLS up unverified, verified)
TABLE_1 = [
    (Tls.NO, (C, None), (C, None), (C, None), (C, None)),
    (Tls.PREFERRED, (C, None), (N, None), (E, None), (E, None)),
    (Tls.REQUIRED, (N, None), (N, None), (E, None), (E, None)),
    (Tls.PREFERRED_VERIFY, (C, None), (N, None), (E, False), (E, True)),
    (Tls.REQUIRED_VERIFY, (N, None), (N, None), (N, False), (E, True)),
    (Tls.REQUIRED_VERIFY_HOSTED, (N, None), (N, None), (N, False), (E, True)),
]


@pytest.mark.parametrize(("setting", "no_starttls", "broken", "unverified", "verified"), TABLE_1)
def test_the_table_of_the_six_settings(
    setting: Tls,
    no_starttls: tuple[Delivery, bool | None],
    broken: tuple[Delivery, bool | None],
    unverified: tuple[Delivery, bool | None],
    verified: tuple[Delivery, bool | None],
) -> None:
    cases = [
        (facts(Stage.NO_STARTTLS), no_starttls),
        (facts(Stage.HANDSHAKE_FAILED), broken),
        (facts(Stage.TLS_UP, UNVERIFIED), unverified),
        (facts(Stage.TLS_UP, VERIFIED_BOTH), verified),
    ]
    for found, (delivery, checked) in cases:
        result = outcome(setting, found)
        assert (result.delivery, result.verified) == (delivery, checked), found.stage
        assert result.goes_ahead is (delivery is not N)


def test_an_untrusted_chain_is_unverified_whatever_the_names() -> None:
    found = facts(Stage.TLS_UP, VERIFIED_BOTH, trusted=False)
    assert verification(found, Rules.VERIFY) == (False, "self-signed certificate")
    assert verification(found, Rules.HOSTED) == (False, "self-signed certificate")
    assert outcome(Tls.REQUIRED, found).delivery is E  # Required does not verify
    assert outcome(Tls.PREFERRED_VERIFY, found).text == (
        "encrypted, certificate not verified: self-signed certificate."
    )
    assert outcome(Tls.REQUIRED_VERIFY, found).text == (
        "not delivered: the certificate is not verified: self-signed certificate; "
        "the message stays queued for a later attempt."
    )


def test_no_connection_delivers_under_no_setting() -> None:
    found = Facts(DOMAIN, HOST, Stage.NO_CONNECTION, reason="connection refused")
    for setting, result in outcomes(found).items():
        assert result.delivery is N, setting
        assert result.text == (
            "not delivered: connection refused; the message stays queued for a later attempt."
        )


def test_the_sentences_of_each_column() -> None:
    no_tls = Facts(DOMAIN, HOST, Stage.NO_STARTTLS, reason="the server does not offer STARTTLS")
    assert outcome(Tls.NO, no_tls).text == "in clear (this setting never tries TLS)."
    assert outcome(Tls.PREFERRED, no_tls).text == "in clear: the server does not offer STARTTLS."
    assert outcome(Tls.REQUIRED, no_tls).text == (
        "not delivered: the server does not offer STARTTLS; "
        "the message stays queued for a later attempt."
    )
    broken = Facts(DOMAIN, HOST, Stage.HANDSHAKE_FAILED, reason="the TLS handshake failed")
    assert outcome(Tls.PREFERRED, broken).text == (
        "not delivered on this connection: the TLS handshake failed; "
        "the message stays queued for a later attempt."
    )
    assert outcome(Tls.REQUIRED, broken).text == (
        "not delivered: the TLS handshake failed; the message stays queued for a later attempt."
    )
    up = facts(Stage.TLS_UP, VERIFIED_BOTH)
    assert outcome(Tls.REQUIRED, up).text == "encrypted, certificate not checked."
    assert outcome(Tls.REQUIRED_VERIFY, up).text == "encrypted, certificate verified."
    assert outcome(Tls.REQUIRED_VERIFY_HOSTED, up).text == (
        "encrypted, certificate verified (hosted domain rules)."
    )


# --- §2: the two identity rules -----------------------------------------------------------

CASES_2 = [
    # (certificate, verified under Verify, verified under Hosted)
    (Certificate(dns_names=(DOMAIN,)), True, True),  # SAN = domain
    (Certificate(dns_names=(HOST,)), False, True),  # SAN = MX host only
    (Certificate(common_names=(HOST,), dns_names=(HOST,)), True, True),  # CN = MX host
    (Certificate(common_names=(HOST,)), True, True),  # CN, no SAN
    (Certificate(common_names=(DOMAIN,)), True, True),  # CN = domain, no SAN
    # the SAN list does not match while the CN does: separates the two
    (Certificate(common_names=(HOST,), dns_names=("other.example.net",)), True, False),
    (Certificate(common_names=(DOMAIN,), dns_names=("other.example.net",)), True, False),
    (Certificate(dns_names=("*.example.com",)), False, True),  # wildcard: the MX host
    (Certificate(common_names=("*.example.com",)), True, True),
    (Certificate(dns_names=("other.example.net",)), False, False),
    (Certificate(), False, False),
]


@pytest.mark.parametrize(("certificate", "verify", "hosted"), CASES_2)
def test_verify_and_verify_hosted_domains(
    certificate: Certificate, verify: bool, hosted: bool
) -> None:
    found = facts(Stage.TLS_UP, certificate)
    assert verification(found, Rules.VERIFY)[0] is verify
    assert verification(found, Rules.HOSTED)[0] is hosted
    assert (outcome(Tls.REQUIRED_VERIFY, found).delivery is E) is verify
    assert (outcome(Tls.REQUIRED_VERIFY_HOSTED, found).delivery is E) is hosted


def test_a_mismatch_lists_the_presented_and_the_checked_names() -> None:
    certificate = Certificate(common_names=(HOST,), dns_names=("a.example.net", "b.example.net"))
    found = facts(Stage.TLS_UP, certificate)
    assert verification(found, Rules.HOSTED) == (
        False,
        "no name matched: the certificate presents common name mx1.example.com; "
        "DNS names a.example.net, b.example.net; checked DNS names against example.com, "
        "mx1.example.com",
    )
    other = facts(Stage.TLS_UP, Certificate(dns_names=("a.example.net",)))
    assert verification(other, Rules.VERIFY) == (
        False,
        "no name matched: the certificate presents DNS names a.example.net; "
        "checked DNS names against example.com",
    )
    assert identity(Certificate(common_names=("x.net",)), Rules.VERIFY, DOMAIN, HOST).checked == (
        "common name against example.com, mx1.example.com"
    )


def test_the_host_is_named_once_when_it_is_the_domain() -> None:
    found = identity(Certificate(common_names=("x.net",)), Rules.HOSTED, DOMAIN, DOMAIN)
    assert found.checked == "common name against example.com"
    assert not found.ok


@pytest.mark.parametrize(
    ("presented", "reference", "matches"),
    [
        ("mx.example.com", "mx.example.com", True),
        ("MX.Example.COM", "mx.example.com", True),
        ("mx.example.com.", "mx.example.com", True),
        ("mx.example.com", "MX.EXAMPLE.COM.", True),
        ("*.example.com", "mx.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.EXAMPLE.com", "Mx.example.COM", True),
        ("m*.example.com", "mx.example.com", False),
        ("*x.example.com", "mx.example.com", False),
        ("mx.*.com", "mx.example.com", False),
        ("*.*.com", "a.b.com", False),
        ("*.com", "example.com", False),
        ("*", "localhost", False),
        ("*.", "a.", False),
        ("", "example.com", False),
        ("example.com", "", False),
        ("xn--bcher-kva.example", "bücher.example", True),
        ("*.xn--bcher-kva.example", "mx.bücher.example", True),
        ("bücher.example", "xn--bcher-kva.example", True),
        ("example.com.evil", "example.com", False),
    ],
)
def test_name_matching(presented: str, reference: str, matches: bool) -> None:
    assert name_matches(presented, reference) is matches


def test_outcomes_are_in_menu_order() -> None:
    assert list(outcomes(facts(Stage.NO_STARTTLS))) == list(Tls)
