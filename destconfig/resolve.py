"""Which entry governs a recipient's domain (the lookup of spec §5.1's patterns).

An exact entry wins; then the nearest ``.parent`` pattern (``.example.com``
governs every name under example.com, not example.com itself); then the default
entry. An address literal (``user@[192.0.2.1]``, ``user@[IPv6:2001:db8::1]``)
matches an IP entry exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from destconfig.destinations import (
    RESERVED,
    InvalidDestination,
    is_address,
    is_stored,
    normalise,
)
from destconfig.model import Table

_IPV6_TAG = "ipv6:"


class Match(StrEnum):
    EXACT = "exact"
    PATTERN = "pattern"
    DEFAULT = "default"


# Module constants: an enum member read through its class costs a lookup per resolve.
_EXACT, _PATTERN, _DEFAULT = Match.EXACT, Match.PATTERN, Match.DEFAULT


@dataclass(slots=True)
class Resolution:
    """A lookup's answer. Not frozen: built once per lookup, a frozen one costs 3x."""

    recipient: str
    domain: str  # the stored form of the recipient's domain
    key: str | None  # the governing entry, None for the default entry
    match: Match


def _domain_text(recipient: str) -> str:
    """The recipient's domain as written, an ``IPv6:`` tag dropped."""
    local, at, domain = recipient.rpartition("@")
    domain = domain.strip()
    if at and not _local_part(local.strip()):
        raise InvalidDestination(recipient)  # "@x.com", "a@b@c.com"
    if domain.startswith("[") and domain.endswith("]") and domain[1:].lower().startswith(_IPV6_TAG):
        domain = "[" + domain[1 + len(_IPV6_TAG) :]
    if domain.startswith("."):
        raise InvalidDestination(recipient)  # a pattern names no recipient
    return domain


def _local_part(local: str) -> bool:
    """An address's local part: not empty, and an ``@`` in it only inside quotes."""
    if local.startswith('"') and local.endswith('"') and len(local) >= 2:
        return True
    return bool(local) and "@" not in local


def domain_of(recipient: str) -> str:
    """The stored form of a recipient's domain: ``user@Example.COM`` -> ``example.com``.

    A bare domain is taken as it is. Raises :class:`InvalidDestination`.
    """
    written = _domain_text(recipient)
    return _stored(written, written.lower())


def _stored(written: str, lowered: str) -> str:
    if lowered in RESERVED:
        return lowered  # a valid domain that no entry can be named after
    if is_stored(lowered):
        return lowered  # already a stored name: the common case, checked fast
    return normalise(written)


def lookup_keys(domain: str) -> list[str]:
    """The keys under which an entry for *domain* (a stored form) is looked for, in the
    order :func:`resolve` tries them: the domain, then each ``.parent``, nearest first;
    an address alone. Postfix looks its maps up in this order too (the tests hold a
    running Postfix to it), which is why an export to Postfix keeps the table's meaning.
    """
    if is_address(domain):
        return [domain]
    keys = [domain]
    dot = domain.find(".")
    while dot != -1:
        keys.append(domain[dot:])
        dot = domain.find(".", dot + 1)
    return keys


def resolve(table: Table, recipient: str) -> Resolution:
    """The entry that applies to *recipient*, and why."""
    entries = table.entries
    written = _domain_text(recipient)
    lowered = written.lower()
    if lowered in entries:  # every key is a stored form, so this one is too
        return Resolution(recipient, lowered, lowered, _EXACT)
    domain = _stored(written, lowered)
    if domain in entries:
        return Resolution(recipient, domain, domain, _EXACT)
    if not is_address(domain):
        dot = domain.find(".")
        while dot != -1:
            if domain[dot:] in entries:
                return Resolution(recipient, domain, domain[dot:], _PATTERN)
            dot = domain.find(".", dot + 1)
    return Resolution(recipient, domain, None, _DEFAULT)
