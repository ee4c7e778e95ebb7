"""The audit's findings as a pure function of what was found (spec §3), every class and rule."""

from __future__ import annotations

import hashlib

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from destconfig.audit.findings import PATTERN, Finding, Judgement, Observed, judge
from destconfig.audit.mtasts import Mode, Policy, StsFound
from destconfig.audit.tlsa import TlsaFound, TlsaRecord, dane_match
from destconfig.model import Dane, Tls
from destconfig.tlsverify.decision import Certificate, Facts, Stage

DOMAIN = "example.test"
MX = "mx1.example.test"
TLSA_NAME = f"_25._tcp.{MX}"


def _ders(leaf: trustme.LeafCert) -> tuple[bytes, ...]:
    return tuple(
        x509.load_pem_x509_certificate(blob.bytes()).public_bytes(serialization.Encoding.DER)
        for blob in leaf.cert_chain_pems
    )


CA = trustme.CA()
INTERMEDIATE = CA.create_child_ca()
CHAIN = _ders(INTERMEDIATE.issue_cert(MX))  # leaf, intermediate
OTHER = _ders(trustme.CA().issue_cert(MX))


def _spki(der: bytes) -> bytes:
    key = x509.load_der_x509_certificate(der).public_key()
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


EE = TlsaRecord(3, 1, 1, hashlib.sha256(_spki(CHAIN[0])).digest())
TA = TlsaRecord(2, 0, 2, hashlib.sha512(CHAIN[1]).digest())
WRONG = TlsaRecord(3, 1, 1, hashlib.sha256(_spki(OTHER[0])).digest())


def verified(chain: tuple[bytes, ...] = CHAIN) -> Facts:
    return Facts(
        DOMAIN,
        MX,
        Stage.TLS_UP,
        chain_trusted=True,
        certificate=Certificate((MX,), (MX,)),
        chain=chain,
    )


UNTRUSTED = Facts(
    DOMAIN,
    MX,
    Stage.TLS_UP,
    chain_problem="self-signed certificate",
    certificate=Certificate((), (MX,)),
    chain=CHAIN,
)
NO_STARTTLS = Facts(DOMAIN, MX, Stage.NO_STARTTLS, reason="the server does not offer STARTTLS")
NOBODY = Facts(
    DOMAIN, DOMAIN, Stage.NO_CONNECTION, reason="the MX lookup timed out after 2 seconds"
)
ENFORCE = StsFound(Policy(Mode.ENFORCE, (MX,), 86400))
TESTING = StsFound(Policy(Mode.TESTING, (MX,), 86400))
SIGNED = TlsaFound(TLSA_NAME, (EE,), authenticated=True)
UNSIGNED = TlsaFound(TLSA_NAME, (EE,), authenticated=False)


def seen(
    tls: Tls = Tls.PREFERRED,
    dane: Dane = Dane.NO,
    facts: Facts | None = None,
    sts: StsFound | None = None,
    tlsa: TlsaFound | None = None,
) -> Judgement:
    return judge(
        Observed(
            tls,
            dane,
            verified() if facts is None else facts,
            StsFound() if sts is None else sts,
            TlsaFound(TLSA_NAME) if tlsa is None else tlsa,
        )
    )


def test_a_pattern_cannot_be_told() -> None:
    found = judge(Observed(Tls.REQUIRED_VERIFY, Dane.NO, None))
    assert found == Judgement(Finding.CANNOT_TELL, (PATTERN,))


def test_no_server_answered_is_cannot_tell_with_the_reason() -> None:
    found = seen(Tls.REQUIRED_VERIFY, facts=NOBODY)
    assert found.finding is Finding.CANNOT_TELL
    assert found.reasons == ("no server answered: the MX lookup timed out after 2 seconds",)


@pytest.mark.parametrize(
    ("sts", "tlsa"),
    [
        (StsFound(unknown="the _mta-sts TXT lookup timed out after 2 seconds"), None),
        (None, TlsaFound(TLSA_NAME, unknown="the TLSA lookup timed out after 2 seconds")),
    ],
)
def test_a_lookup_that_timed_out_is_cannot_tell(
    sts: StsFound | None, tlsa: TlsaFound | None
) -> None:
    found = seen(Tls.NO, sts=sts, tlsa=tlsa)
    assert found.finding is Finding.CANNOT_TELL
    assert found.reasons[0].endswith("timed out after 2 seconds")


def test_cannot_tell_comes_before_will_queue() -> None:
    found = seen(Tls.REQUIRED_VERIFY, Dane.MANDATORY, facts=NOBODY)
    assert found.finding is Finding.CANNOT_TELL


def test_required_verify_and_an_unverified_certificate_will_queue() -> None:
    found = seen(Tls.REQUIRED_VERIFY, facts=UNTRUSTED)
    assert found.finding is Finding.WILL_QUEUE
    assert found.reasons == (
        "TLS: not delivered: the certificate is not verified: self-signed certificate; "
        "the message stays queued for a later attempt.",
    )


def test_required_and_no_starttls_will_queue() -> None:
    assert seen(Tls.REQUIRED, facts=NO_STARTTLS).finding is Finding.WILL_QUEUE


def test_dane_mandatory_without_tlsa_will_queue() -> None:
    found = seen(Tls.PREFERRED, Dane.MANDATORY)
    assert found == Judgement(
        Finding.WILL_QUEUE,
        (f"DANE is Mandatory and {TLSA_NAME} has no usable TLSA records",),
    )


def test_tlsa_without_the_ad_bit_is_not_used() -> None:
    # Mandatory: as good as none; No: nothing is weaker than what is not trusted.
    assert seen(Tls.PREFERRED, Dane.MANDATORY, tlsa=UNSIGNED).finding is Finding.WILL_QUEUE
    assert seen(Tls.PREFERRED, Dane.NO, tlsa=UNSIGNED).finding is Finding.MATCHES


@pytest.mark.parametrize("dane", [Dane.OPPORTUNISTIC, Dane.MANDATORY])
def test_tlsa_that_does_not_match_the_certificate_will_queue(dane: Dane) -> None:
    found = seen(Tls.PREFERRED, dane, tlsa=TlsaFound(TLSA_NAME, (WRONG,), authenticated=True))
    assert found.finding is Finding.WILL_QUEUE
    assert found.reasons == (
        f"DANE: {TLSA_NAME}: the certificate matches none of the TLSA records "
        "(3 1 1 (DANE-EE, public key, SHA-256))",
    )


def test_dane_with_usable_records_requires_tls() -> None:
    found = seen(Tls.PREFERRED, Dane.OPPORTUNISTIC, facts=NO_STARTTLS, tlsa=SIGNED)
    assert found.finding is Finding.WILL_QUEUE
    assert found.reasons == (
        f"{TLSA_NAME} publishes usable TLSA records, so TLS is required, but the server "
        "does not offer STARTTLS",
    )


def test_dane_opportunistic_without_tlsa_falls_back_on_the_tls_setting() -> None:
    assert seen(Tls.PREFERRED, Dane.OPPORTUNISTIC, facts=NO_STARTTLS).finding is Finding.MATCHES
    assert seen(Tls.REQUIRED, Dane.OPPORTUNISTIC, facts=NO_STARTTLS).finding is Finding.WILL_QUEUE


def test_a_dane_match_delivers_where_pkix_would_not() -> None:
    found = seen(Tls.REQUIRED_VERIFY, Dane.OPPORTUNISTIC, facts=UNTRUSTED, tlsa=SIGNED, sts=ENFORCE)
    assert found == Judgement(Finding.MATCHES, ("DANE: the certificate matches a TLSA record",))


def test_usable_tlsa_and_dane_no_is_weaker() -> None:
    found = seen(Tls.REQUIRED_VERIFY, Dane.NO, tlsa=SIGNED)
    assert found == Judgement(
        Finding.WEAKER,
        (f"{TLSA_NAME} publishes usable TLSA records, authenticated, and the entry's DANE is No",),
    )


def test_enforce_and_a_setting_that_does_not_verify_is_weaker() -> None:
    found = seen(Tls.PREFERRED, sts=ENFORCE)
    assert found == Judgement(
        Finding.WEAKER,
        (
            "MTA-STS enforce asks for a verified certificate; under TLS Preferred delivery is "
            "encrypted, certificate not checked.",
        ),
    )


def test_enforce_and_preferred_verify_delivering_unverified_is_weaker() -> None:
    assert seen(Tls.PREFERRED_VERIFY, facts=UNTRUSTED, sts=ENFORCE).finding is Finding.WEAKER


def test_enforce_and_required_verify_matches() -> None:
    found = seen(Tls.REQUIRED_VERIFY, sts=ENFORCE)
    assert found == Judgement(Finding.MATCHES, ("TLS: encrypted, certificate verified.",))


def test_testing_mode_asks_for_nothing() -> None:
    assert seen(Tls.PREFERRED, sts=TESTING).finding is Finding.MATCHES
    assert seen(Tls.NO, sts=TESTING).finding is Finding.MATCHES


def test_an_mx_outside_the_enforce_policy_is_weaker() -> None:
    policy = StsFound(Policy(Mode.ENFORCE, ("*.mail.example.test",), 86400))
    found = seen(Tls.REQUIRED_VERIFY, sts=policy)
    assert found == Judgement(
        Finding.WEAKER,
        (
            f"MTA-STS enforce: the mail exchanger {MX} matches none of the policy's mx "
            "patterns (*.mail.example.test), and the entry delivers to it",
        ),
    )


def test_enforce_needs_the_mx_name_where_the_entry_accepts_the_domain() -> None:
    # Required - Verify accepts a DNS name matching the recipient domain (tlsverify §2);
    # MTA-STS asks for the MX host's name.
    facts = Facts(
        DOMAIN, MX, Stage.TLS_UP, chain_trusted=True, certificate=Certificate((), (DOMAIN,))
    )
    found = seen(Tls.REQUIRED_VERIFY, facts=facts, sts=ENFORCE)
    assert found.finding is Finding.WEAKER
    assert found.reasons[0].startswith(f"MTA-STS enforce asks for a certificate naming {MX}")


def test_notes_travel_with_the_finding() -> None:
    note = StsFound(note="the MTA-STS policy does not parse: line 1 is not a field (name: value)")
    found = seen(Tls.REQUIRED, sts=note, facts=NO_STARTTLS)
    assert found.finding is Finding.WILL_QUEUE
    assert found.reasons[-1] == note.note


# --- matching a TLSA record against a chain --------------------------------------------------


def test_dane_ee_matches_the_servers_own_key() -> None:
    assert dane_match((EE,), CHAIN, MX, DOMAIN) == ""
    assert dane_match((EE,), OTHER, MX, DOMAIN) != ""


def test_dane_ee_full_certificate_exact() -> None:
    assert dane_match((TlsaRecord(3, 0, 0, CHAIN[0]),), CHAIN, "any.invalid", "x.invalid") == ""


def test_dane_ta_matches_an_issuer_the_server_sends() -> None:
    assert dane_match((TA,), CHAIN, MX, DOMAIN) == ""


def test_dane_ta_never_matches_the_servers_own_certificate() -> None:
    own = TlsaRecord(2, 0, 0, CHAIN[0])
    assert dane_match((own,), CHAIN, MX, DOMAIN).startswith("the certificate matches none")


def test_dane_ta_checks_the_name() -> None:
    problem = dane_match((TA,), CHAIN, "mx9.other.test", "other.test")
    assert problem == (
        "the chain reaches the trust anchor of 2 0 2 (DANE-TA, certificate, SHA-512), but the "
        f"server's certificate names neither mx9.other.test nor other.test ({MX})"
    )


def test_dane_ta_checks_the_signatures() -> None:
    forged = (OTHER[0], CHAIN[1])  # another authority's leaf under this intermediate
    assert "not signed link by link" in dane_match((TA,), forged, MX, DOMAIN)


def test_a_failing_trust_anchor_does_not_hide_a_later_one_that_holds() -> None:
    stray = _ders(trustme.CA().create_child_ca().issue_cert(MX))[1]  # unrelated, sent on top
    chain = (*CHAIN, stray)
    first = TlsaRecord(2, 0, 2, hashlib.sha512(stray).digest())  # reached, chain broken
    assert "not signed link by link" in dane_match((first,), chain, MX, DOMAIN)
    assert dane_match((first, TA), chain, MX, DOMAIN) == ""


def test_unusable_kinds_of_record() -> None:
    assert not TlsaRecord(1, 1, 1, b"").usable  # PKIX-EE is not for SMTP
    assert not TlsaRecord(3, 2, 1, b"").usable
    assert not TlsaRecord(3, 1, 3, b"").usable
    assert TlsaFound(TLSA_NAME, (TlsaRecord(0, 0, 1, b""),), authenticated=True).usable == ()
