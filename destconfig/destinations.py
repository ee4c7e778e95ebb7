"""Destinations: parsing an answer into the key an entry is stored under.

A destination is an IP address (stored in brackets), a host name, or a
subdomain pattern (a host name with a leading dot). Non-ASCII names are stored
as IDNA A-labels, so that one domain has exactly one key whatever script it was
typed in.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Collection

RESERVED = frozenset({"default", "all"})
MAX_NAME = 253
# The rules of an ASCII host name: letters, digits and hyphens in labels of 1..63 (no
# hyphen at either end), at most 253 characters, the last label not all digits. Tests
# hold the expressions to a plain label-by-label reading.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABELS = rf"(?:{_LABEL}\.)*(?![0-9]+\Z){_LABEL}"
_LDH_NAME = re.compile(rf"(?=.{{1,{MAX_NAME}}}\Z){_LABELS}\Z")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_STORED_IPV4 = rf"\[{_OCTET}(?:\.{_OCTET}){{3}}\]"
_STORED_IPV4_KEY = re.compile(_STORED_IPV4)
# The keys of most tables: ASCII names and patterns, IPv4 addresses. Length, reserved
# words and xn-- labels are checked apart, once for all the keys (see all_stored).
_COMMON_KEY = re.compile(rf"\.?{_LABELS}|{_STORED_IPV4}")
# Only text of digits and dots, or with a colon, can parse as an address: others skip
# the (costly, exception-raising) attempt.
_MAY_BE_ADDRESS = re.compile(r"[0-9.]*|.*:.*")


class InvalidDestination(ValueError):
    """The text is not a domain, a subdomain pattern or an IP address."""


def _address(text: str) -> str | None:
    """``[address]`` when *text* is an IPv4 or IPv6 address, else ``None``."""
    if "%" in text:  # scoped IPv6 addresses name an interface, not a destination
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # RFC 5952 §5 form, written out here: Python versions differ on it.
        return f"[::ffff:{address.ipv4_mapped}]"
    return f"[{address.compressed}]"


def _ldh_name(name: str) -> bool:
    """An ASCII host name of letters, digits and hyphens."""
    return _LDH_NAME.match(name) is not None


def _punycode_ok(name: str) -> bool:
    """Every ``xn--`` label decodes (imports idna only when there is one)."""
    if "xn--" not in name:
        return True
    import idna

    for label in name.split("."):
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                return False
    return True


def _a_label(label: str) -> str:
    """An IDNA A-label for a non-ASCII label (IDNA 2008 rules, after UTS-46 mapping)."""
    import idna

    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidDestination(label) from None


def _host_name(name: str) -> str:
    if not name.isascii():
        import idna

        # UTS-46 maps the whole name (full-width letters and dots, case); each
        # non-ASCII label then becomes an A-label, ASCII labels stay as they are.
        try:
            mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
        except (idna.IDNAError, UnicodeError):
            raise InvalidDestination(name) from None
        name = ".".join(
            label if label.isascii() else _a_label(label) for label in mapped.split(".")
        )
    if not (_ldh_name(name) and _punycode_ok(name)):
        raise InvalidDestination(name)
    return name


def normalise(text: str) -> str:
    """The stored key for a destination answer, or :class:`InvalidDestination`.

    The answer is trimmed and lower-cased; an answer that parses as an address is
    an address (so ``192.0.2.300`` is not a host name either: its last label is
    all digits).
    """
    value = text.strip().lower()
    if value in RESERVED:
        raise InvalidDestination(text)
    if value.startswith("[") and value.endswith("]"):
        stored = _address(value[1:-1])
        if stored is None:
            raise InvalidDestination(text)
        return stored
    if _MAY_BE_ADDRESS.fullmatch(value):
        stored = _address(value)
        if stored is not None:
            return stored
    if value.startswith("."):
        return "." + _host_name(value[1:])
    return _host_name(value)


def is_address(key: str) -> bool:
    """Whether a stored key is an IP destination (``[...]``)."""
    return key.startswith("[")


def is_stored(key: str) -> bool:
    """Whether *key* is the stored form of a destination: ``normalise(key) == key``.

    Fast paths for an IPv4 address in brackets, any other address in brackets and
    the common ASCII name (checking a 100,000-entry table, and resolve, are hot
    paths); anything else is normalised and compared.
    """
    if key.startswith("[") and key.endswith("]"):
        return _STORED_IPV4_KEY.fullmatch(key) is not None or _address(key[1:-1]) == key
    name = key[1:] if key.startswith(".") else key
    if name not in RESERVED and "xn--" not in name and _ldh_name(name):
        return True
    try:
        return normalise(key) == key
    except InvalidDestination:
        return False


def all_stored(keys: Collection[str]) -> bool:
    """Whether every key is in its stored form (:func:`is_stored` of each).

    A table's keys are checked whenever it is read. The common keys (ASCII names,
    patterns, IPv4 addresses) are recognised by one compiled expression, and only
    the others are normalised one by one; a table with a long key, a reserved word
    or an ``xn--`` label is checked key by key throughout.
    """
    if (
        max(map(len, keys), default=0) > MAX_NAME
        or not RESERVED.isdisjoint(keys)
        or "xn--" in "\n".join(keys)
    ):
        return all(map(is_stored, keys))
    return all(map(is_stored, itertools.filterfalse(_COMMON_KEY.fullmatch, keys)))


def unicode_form(key: str) -> str | None:
    """The Unicode form of a stored key with ``xn--`` labels, else ``None``.

    Keys are stored as A-labels, which people do not read or type; this is the name
    they know (``bücher.example`` for ``xn--bcher-kva.example``, a pattern keeping its
    leading dot). ``None`` for a key with no ``xn--`` label, for an address, and for a
    form that would not name the same entry again (a label that does not decode, or a
    name whose Unicode form normalises to another key), so that whatever is offered
    can be typed back.
    """
    if "xn--" not in key or is_address(key):
        return None
    import idna

    dot, name = (".", key[1:]) if key.startswith(".") else ("", key)
    labels = []
    for label in name.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                return None
        labels.append(label)
    form = dot + ".".join(labels)
    try:
        same = normalise(form) == key
    except InvalidDestination:
        return None
    return form if same else None
