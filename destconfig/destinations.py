"""Destinations: parsing an answer into the key an entry is stored under.

A destination is an IP address (stored in brackets), a host name, or a
subdomain pattern (a host name with a leading dot). Non-ASCII names are stored
as IDNA A-labels, so that one domain has exactly one key whatever script it was
typed in.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection

RESERVED = frozenset({"default", "all"})
MAX_NAME = 253
# The rules of an ASCII host name: letters, digits and hyphens in labels of 1..63 (no
# hyphen at either end), at most 253 characters, the last label not all digits. One
# expression checks one name; _ldh_lines checks many at once (a table's keys) in a few
# passes of compiled code. Tests hold both to a plain label-by-label reading.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LDH_NAME = re.compile(rf"(?=.{{1,{MAX_NAME}}}\Z)(?:{_LABEL}\.)*(?![0-9]+\Z){_LABEL}\Z")
_NAME_TEXT = re.compile(r"[a-z0-9.\n-]*")
MAX_LABEL = 63
_NUMERIC_LAST_LABEL = re.compile(r"(?:^|\.)[0-9]+$", re.MULTILINE)
_BAD_EDGES = ("\n\n", "\n.", "\n-", ".\n", "-\n", "..", ".-", "-.")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_STORED_IPV4 = re.compile(rf"\[{_OCTET}(?:\.{_OCTET}){{3}}\]")
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


def _ldh_lines(text: str) -> bool:
    """Whether each line of *text* (each ends with a line break) is an ASCII host name.

    Letters, digits and hyphens in labels of 1..63 with no hyphen at either end,
    at most 253 characters, the last label not all digits.
    """
    edges = "\n" + text
    return (
        _NAME_TEXT.fullmatch(text) is not None
        and not any(bad in edges for bad in _BAD_EDGES)
        and max(map(len, text.split("\n"))) <= MAX_NAME
        and max(map(len, text.replace("\n", ".").split("."))) <= MAX_LABEL
        and _NUMERIC_LAST_LABEL.search(text) is None
    )


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

    A fast path for the common ASCII name (checking a 100,000-entry table is a
    hot path); anything else is normalised and compared.
    """
    name = key[1:] if key.startswith(".") else key
    if name not in RESERVED and "xn--" not in name and _ldh_name(name):
        return True
    try:
        return normalise(key) == key
    except InvalidDestination:
        return False


def all_stored(keys: Collection[str]) -> bool:
    """Whether every key is in its stored form (:func:`is_stored` of each).

    A table's keys are checked whenever it is read; for the common table (ASCII
    names, patterns and IPv4 addresses) the names are checked together, in a few
    passes over their text, instead of one by one.
    """
    names = [key for key in keys if not key.startswith("[")]
    addresses = [key for key in keys if key.startswith("[")]
    text = "".join([name + "\n" for name in names])
    if not (
        text.count("\n") == len(names)  # no key holds a line break of its own
        and RESERVED.isdisjoint(names)
        and "xn--" not in text
        and _ldh_lines(("\n" + text).replace("\n.", "\n")[1:])  # patterns without their dot
    ):
        return all(is_stored(key) for key in keys)
    return all(_STORED_IPV4.fullmatch(key) or is_stored(key) for key in addresses)
