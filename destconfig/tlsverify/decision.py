"""What each TLS setting does with what a probe found: spec tables §1 and §2, no network.

The probe reduces a connection to :class:`Facts` (how far the conversation got,
whether the chain is trusted, the names the certificate presents); this module
says, for each of the six settings, whether the message would go in clear,
encrypted, or stay queued. Keeping it pure lets every cell of the spec's table be
tested without a server, and the same rules serve the log, the policy block and
``--all-settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

from destconfig.model import Tls


class Stage(StrEnum):
    """How far the conversation with the mail server got (the columns of §1)."""

    NO_CONNECTION = "no-connection"  # no mail server answered
    NO_STARTTLS = "no-starttls"  # STARTTLS not offered, or refused before its 220 reply
    HANDSHAKE_FAILED = "handshake-failed"  # 220, then the TLS handshake failed
    TLS_UP = "tls-up"


class Rules(Enum):
    """The two ways of matching the certificate's identity (§2)."""

    VERIFY = "verify"  # Preferred - Verify, Required - Verify, and tlsverify itself
    HOSTED = "hosted"  # Required - Verify Hosted Domains (RFC 6125)


@dataclass(frozen=True)
class Certificate:
    """The names a server certificate presents."""

    common_names: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()  # subjectAltName dNSNames

    def describe(self) -> str:
        """``common name a; DNS names b, c`` (what a person needs to see a mismatch)."""
        parts = []
        if self.common_names:
            parts.append("common name " + ", ".join(self.common_names))
        if self.dns_names:
            parts.append("DNS names " + ", ".join(self.dns_names))
        return "; ".join(parts) if parts else "no names"


@dataclass(frozen=True)
class Facts:
    """What a probe found, and the names the certificate is checked against."""

    domain: str  # the recipient domain
    host: str  # the host name connected to (the MX host when looked up)
    stage: Stage
    reason: str = ""  # what stopped the conversation short of TLS, one phrase
    chain_trusted: bool = False  # leads to a trusted authority, every date valid
    chain_problem: str = ""  # why not, as the TLS library says it
    certificate: Certificate | None = None
    # The certificates the server sent, DER, its own first (what DANE matches against);
    # what they say is in the fields above, so two facts alike compare equal without them.
    chain: tuple[bytes, ...] = field(default=(), compare=False, repr=False)


def _canonical(name: str) -> str:
    """Case-folded, one trailing dot dropped, IDNA A-labels for any U-label."""
    name = name.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name.isascii():
        import idna

        try:
            name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return name
    return name


def name_matches(presented: str, reference: str) -> bool:
    """Whether a certificate name matches a reference name (§2).

    A ``*`` is a wildcard only as the whole left-most label, matches exactly one
    label, and needs at least two labels after it (``*.com`` matches nothing).
    """
    pattern, wanted = _canonical(presented), _canonical(reference)
    if not pattern or not wanted:
        return False
    if not pattern.startswith("*."):
        return "*" not in pattern and pattern == wanted
    rest = pattern[2:]
    if "*" in rest or rest.count(".") < 1:
        return False
    label, dot, parent = wanted.partition(".")
    return bool(label) and bool(dot) and parent == rest


@dataclass(frozen=True)
class Identity:
    """The identity check of one rule set: the name that matched, or why none did."""

    matched: str | None  # the presented name that matched
    checked: str  # what was checked against what, for the log

    @property
    def ok(self) -> bool:
        return self.matched is not None


def _references(*names: str) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return tuple(seen)


def identity(certificate: Certificate, rules: Rules, domain: str, host: str) -> Identity:
    """Check the presented names against the domain and the host (§2)."""
    both = _references(domain, host)
    if rules is Rules.VERIFY:
        pairs = [(name, both) for name in certificate.common_names]
        pairs += [(name, (domain,)) for name in certificate.dns_names]
        parts = []
        if certificate.common_names or not certificate.dns_names:
            parts.append(f"common name against {', '.join(both)}")
        if certificate.dns_names:
            parts.append(f"DNS names against {domain}")
        checked = "; ".join(parts)
    else:
        presented = certificate.dns_names or certificate.common_names
        pairs = [(name, both) for name in presented]
        kind = "DNS names" if certificate.dns_names else "common name"
        checked = f"{kind} against {', '.join(both)}"
    for name, references in pairs:
        if any(name_matches(name, reference) for reference in references):
            return Identity(name, checked)
    return Identity(None, checked)


def verification(facts: Facts, rules: Rules) -> tuple[bool, str]:
    """Whether the certificate is verified under *rules*, and if not, why (one phrase)."""
    if facts.stage is not Stage.TLS_UP:
        return False, "TLS did not come up"
    if not facts.chain_trusted:
        return False, facts.chain_problem or "the certificate chain is not trusted"
    if facts.certificate is None:
        return False, "no certificate was presented"
    found = identity(facts.certificate, rules, facts.domain, facts.host)
    if found.ok:
        return True, ""
    return False, (
        f"no name matched: the certificate presents {facts.certificate.describe()}; "
        f"checked {found.checked}"
    )


class Delivery(StrEnum):
    CLEAR = "clear"
    ENCRYPTED = "encrypted"
    NOT_DELIVERED = "not delivered"


@dataclass(frozen=True)
class Outcome:
    """What delivery under one setting would do, and the sentence that says so."""

    delivery: Delivery
    verified: bool | None  # None: the setting does not verify
    text: str

    @property
    def goes_ahead(self) -> bool:
        return self.delivery is not Delivery.NOT_DELIVERED


_QUEUED = "; the message stays queued for a later attempt"
_VERIFYING = {
    Tls.PREFERRED_VERIFY: Rules.VERIFY,
    Tls.REQUIRED_VERIFY: Rules.VERIFY,
    Tls.REQUIRED_VERIFY_HOSTED: Rules.HOSTED,
}
_REQUIRED = frozenset({Tls.REQUIRED, Tls.REQUIRED_VERIFY, Tls.REQUIRED_VERIFY_HOSTED})


def outcome(setting: Tls, facts: Facts) -> Outcome:
    """Delivery under *setting* given *facts* (the table of §1)."""
    if facts.stage is Stage.NO_CONNECTION:
        return Outcome(Delivery.NOT_DELIVERED, None, f"not delivered: {facts.reason}{_QUEUED}.")
    if setting is Tls.NO:
        return Outcome(Delivery.CLEAR, None, "in clear (this setting never tries TLS).")
    if facts.stage is Stage.NO_STARTTLS:
        if setting in _REQUIRED:
            return Outcome(Delivery.NOT_DELIVERED, None, f"not delivered: {facts.reason}{_QUEUED}.")
        return Outcome(Delivery.CLEAR, None, f"in clear: {facts.reason}.")
    if facts.stage is Stage.HANDSHAKE_FAILED:
        where = "" if setting in _REQUIRED else " on this connection"
        return Outcome(
            Delivery.NOT_DELIVERED, None, f"not delivered{where}: {facts.reason}{_QUEUED}."
        )
    rules = _VERIFYING.get(setting)
    if rules is None:
        return Outcome(Delivery.ENCRYPTED, None, "encrypted, certificate not checked.")
    ok, why = verification(facts, rules)
    hosted = " (hosted domain rules)" if rules is Rules.HOSTED else ""
    if ok:
        return Outcome(Delivery.ENCRYPTED, True, f"encrypted, certificate verified{hosted}.")
    if setting is Tls.PREFERRED_VERIFY:
        return Outcome(Delivery.ENCRYPTED, False, f"encrypted, certificate not verified: {why}.")
    return Outcome(
        Delivery.NOT_DELIVERED,
        False,
        f"not delivered: the certificate is not verified{hosted}: {why}{_QUEUED}.",
    )


def outcomes(facts: Facts) -> dict[Tls, Outcome]:
    """The outcome under each of the six settings, in menu order."""
    return {setting: outcome(setting, facts) for setting in Tls}
