"""The finding of one entry from what its probe and lookups found: spec §3, no network.

The first that applies wins: ``cannot-tell`` (a pattern, no server answered, a
lookup timed out), ``will-queue`` (delivery under the entry's settings would not go
ahead), ``weaker-than-published`` (the domain publishes an MTA-STS ``enforce``
policy or usable TLSA records and the entry would deliver without the verification
they ask for), else ``matches``.

Delivery follows tlsverify's table for the TLS setting, except where DANE applies
(RFC 7672, as Postfix's ``dane`` and ``dane-only`` levels do it): with usable
TLSA records and DANE Opportunistic or Mandatory, TLS is required and one record
must match, whatever the TLS setting would accept; without them, Opportunistic
falls back on the TLS setting and Mandatory does not deliver. A DANE-verified
delivery is what MTA-STS defers to (RFC 8461 §2), so it is never weaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from destconfig import words
from destconfig.audit.mtasts import Mode, StsFound
from destconfig.audit.tlsa import TlsaFound, dane_match
from destconfig.model import Dane, Tls
from destconfig.tlsverify.decision import Facts, Stage, name_matches, outcome


class Finding(StrEnum):
    CANNOT_TELL = "cannot-tell"
    WILL_QUEUE = "will-queue"
    WEAKER = "weaker-than-published"
    MATCHES = "matches"


SUMMARY_ORDER = (Finding.WILL_QUEUE, Finding.WEAKER, Finding.MATCHES, Finding.CANNOT_TELL)
"""The order of the summary's counts (spec §3's JSON)."""

PATTERN = "a pattern names no one domain: there is no server to probe"


@dataclass(frozen=True)
class Observed:
    """Everything the audit of one destination found, and the settings that apply."""

    tls: Tls
    dane: Dane
    facts: Facts | None  # None: not probed (a pattern)
    sts: StsFound = field(default_factory=StsFound)
    tlsa: TlsaFound = field(default_factory=TlsaFound)


@dataclass(frozen=True)
class Judgement:
    finding: Finding
    reasons: tuple[str, ...]


def judge(seen: Observed) -> Judgement:
    """The finding and its reasons (spec §3's table, first match wins)."""
    facts = seen.facts
    if facts is None:
        return Judgement(Finding.CANNOT_TELL, (PATTERN,))
    if facts.stage is Stage.NO_CONNECTION:
        return Judgement(Finding.CANNOT_TELL, (f"no server answered: {facts.reason}",))
    unknown = tuple(why for why in (seen.sts.unknown, seen.tlsa.unknown) if why)
    if unknown:
        return Judgement(Finding.CANNOT_TELL, unknown)
    notes = tuple(note for note in (seen.sts.note, seen.tlsa.note) if note)
    records = seen.tlsa.usable
    if records and seen.dane is not Dane.NO:
        return _by_dane(seen, facts, notes)
    if seen.dane is Dane.MANDATORY:
        why = f"DANE is Mandatory and {seen.tlsa.name or facts.host} has no usable TLSA records"
        return Judgement(Finding.WILL_QUEUE, (why, *notes))
    delivery = outcome(seen.tls, facts)
    if not delivery.goes_ahead:
        return Judgement(Finding.WILL_QUEUE, (f"TLS: {delivery.text}", *notes))
    weaker = _sts_weaker(seen, facts, verified=delivery.verified is True)
    if records:
        weaker.append(
            f"{seen.tlsa.name} publishes usable TLSA records, authenticated, and the "
            "entry's DANE is No"
        )
    if weaker:
        return Judgement(Finding.WEAKER, (*weaker, *notes))
    return Judgement(Finding.MATCHES, (f"TLS: {delivery.text}", *notes))


def _by_dane(seen: Observed, facts: Facts, notes: tuple[str, ...]) -> Judgement:
    """Delivery where usable TLSA records govern it."""
    name = seen.tlsa.name
    if facts.stage is not Stage.TLS_UP:
        why = f"{name} publishes usable TLSA records, so TLS is required, but {facts.reason}"
        return Judgement(Finding.WILL_QUEUE, (why, *notes))
    problem = dane_match(seen.tlsa.usable, facts.chain, facts.host, facts.domain)
    if problem:
        return Judgement(Finding.WILL_QUEUE, (f"DANE: {name}: {problem}", *notes))
    return Judgement(Finding.MATCHES, ("DANE: the certificate matches a TLSA record", *notes))


def _sts_weaker(seen: Observed, facts: Facts, *, verified: bool) -> list[str]:
    """What an MTA-STS ``enforce`` policy asks (§4) that this delivery does without."""
    policy = seen.sts.policy
    if policy is None or policy.mode is not Mode.ENFORCE:
        return []
    reasons = []
    if not policy.allows(facts.host):
        reasons.append(
            f"MTA-STS enforce: the mail exchanger {facts.host} matches none of the policy's "
            f"mx patterns ({', '.join(policy.mx)}), and the entry delivers to it"
        )
    if not verified:
        reasons.append(
            f"MTA-STS enforce asks for a verified certificate; under TLS "
            f"{words.TLS[seen.tls]} delivery is {outcome(seen.tls, facts).text}"
        )
    elif not _sts_identity(facts):
        reasons.append(
            f"MTA-STS enforce asks for a certificate naming {facts.host} among its DNS names "
            "(RFC 8461 §4.2); the entry accepts one that does not"
        )
    return reasons


def _sts_identity(facts: Facts) -> bool:
    """The certificate check of RFC 8461 §4.2: trusted, a DNS name matching the host."""
    names = facts.certificate.dns_names if facts.certificate is not None else ()
    return facts.chain_trusted and any(name_matches(name, facts.host) for name in names)
