"""DANE TLSA records (RFC 6698, RFC 7671, RFC 7672 for SMTP) and their match with a server.

Only what SMTP uses is usable (RFC 7672 §3.1.3): DANE-TA(2) and DANE-EE(3), over
the full certificate(0) or its public key(1), matched exactly(0), by SHA-256(1) or
SHA-512(2). PKIX-TA(0) and PKIX-EE(1) are not used by SMTP senders, and records
of any other kind are unusable; a domain whose records are all unusable publishes,
as far as a sender is concerned, none (RFC 7672 §2.2).

DANE-EE matches the server's own certificate and nothing else is checked: not its
names, not its dates (RFC 7672 §3.1.1). DANE-TA matches a certificate of the chain
the server sent above its own; the chain up to it must be signed link by link, the
server's certificate be within its dates and name the mail exchanger or the domain
(§3.1.2, §3.2.3). A trust anchor the server does not send is not looked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig.tlsverify.decision import name_matches

if TYPE_CHECKING:
    from cryptography import x509

DANE_TA = 2
DANE_EE = 3
_USAGES = {DANE_TA: "DANE-TA", DANE_EE: "DANE-EE"}
_SELECTORS = (0, 1)  # the full certificate, its SubjectPublicKeyInfo
_MATCHING = (0, 1, 2)  # exact, SHA-256, SHA-512


@dataclass(frozen=True)
class TlsaRecord:
    usage: int
    selector: int
    mtype: int
    data: bytes

    @property
    def usable(self) -> bool:
        return self.usage in _USAGES and self.selector in _SELECTORS and self.mtype in _MATCHING

    def describe(self) -> str:
        """``3 1 1 (DANE-EE, public key, SHA-256)``."""
        usage = _USAGES.get(self.usage, "unusable")
        selector = ("certificate", "public key")[self.selector] if self.selector < 2 else "?"
        mtype = ("exact", "SHA-256", "SHA-512")[self.mtype] if self.mtype < 3 else "?"
        return f"{self.usage} {self.selector} {self.mtype} ({usage}, {selector}, {mtype})"

    def matches(self, der: bytes) -> bool:
        """Whether the record matches the certificate *der* (its usage aside)."""
        selected = der if self.selector == 0 else _public_key(der)
        if selected is None:
            return False
        if self.mtype == 1:
            selected = hashlib.sha256(selected).digest()
        elif self.mtype == 2:
            selected = hashlib.sha512(selected).digest()
        return selected == self.data


@dataclass(frozen=True)
class TlsaFound:
    """The TLSA records at ``_25._tcp.HOST``, and whether the answer is trusted."""

    name: str = ""  # the name asked for
    records: tuple[TlsaRecord, ...] = ()
    authenticated: bool = False  # the answer had the AD bit (and so did the MX answer)
    note: str = ""  # why records found are not used
    unknown: str = ""  # the lookup timed out or failed: the finding cannot be told

    @property
    def usable(self) -> tuple[TlsaRecord, ...]:
        """The records a sender would use: authenticated, and of a usable kind."""
        if not self.authenticated:
            return ()
        return tuple(record for record in self.records if record.usable)


def _public_key(der: bytes) -> bytes | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return None
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def dane_match(
    records: Sequence[TlsaRecord], chain: Sequence[bytes], host: str, domain: str
) -> str:
    """``""`` when one of *records* authenticates the server's *chain* (leaf first),
    else why none does (one phrase).

    Every DANE-TA record is tried at every depth: a sender delivers when any anchor
    holds, so the first anchor whose chain fails is only the reason if none holds.
    """
    if not chain:
        return "the server's certificate could not be read"
    for record in records:
        if record.usage == DANE_EE and record.matches(chain[0]):
            return ""
    anchors = [record for record in records if record.usage == DANE_TA]
    first_problem = ""
    for record in anchors:
        for depth in range(1, len(chain)):
            if record.matches(chain[depth]):
                problem = _anchored(chain[: depth + 1], host, domain)
                if not problem:
                    return ""
                first_problem = first_problem or (
                    f"the chain reaches the trust anchor of {record.describe()}, but {problem}"
                )
    if first_problem:
        return first_problem
    kinds = ", ".join(record.describe() for record in records)
    return f"the certificate matches none of the TLSA records ({kinds})"


def _anchored(chain: Sequence[bytes], host: str, domain: str) -> str:
    """Why a chain that ends at its trust anchor does not hold, or ``""``."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    try:
        certificates = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return "a certificate of the chain does not parse"
    for child, issuer in itertools.pairwise(certificates):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return "the chain is not signed link by link up to it"
    leaf = certificates[0]
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        return "the server's certificate is outside its validity dates"
    names = _names(leaf)
    if not any(name_matches(name, wanted) for name in names for wanted in (host, domain)):
        shown = ", ".join(names) or "no names"
        return f"the server's certificate names neither {host} nor {domain} ({shown})"
    return ""


def _names(certificate: x509.Certificate) -> list[str]:
    """The names a certificate presents: its DNS names, else its common name (RFC 6125)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names: list[str] = list(extension.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = []
    if names:
        return names
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return [str(attribute.value) for attribute in attributes]
