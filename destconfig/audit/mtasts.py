"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record and the policy file, parsed strictly.

A record or a policy that does not follow the grammar is no policy at all (§3.1,
§3.2: the sender then behaves as if the domain published none), so the parser
refuses rather than guesses: every line must be a known field, an extension of the
RFC's form, or the empty line that ends the file; each field but ``mx`` appears
once. Field names and values are matched as the RFC writes them (lower case,
``STSv1``), as the senders in use do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from destconfig.tlsverify.decision import name_matches

MAX_AGE_LIMIT = 31_557_600  # §3.2: a year at most
POLICY_BYTES = 65_536  # §3.3 suggests senders bound the policy; 64 KiB is what they use
POLICY_TOO_LONG = f"the policy is longer than {POLICY_BYTES} bytes"


class Mode(StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True)
class Policy:
    """A parsed policy: its mode, its mx patterns, and how long it may be cached."""

    mode: Mode
    mx: tuple[str, ...]
    max_age: int

    def allows(self, host: str) -> bool:
        """Whether *host* matches one of the mx patterns (§4.1: ``*.`` is one label)."""
        return any(name_matches(pattern, host) for pattern in self.mx)


@dataclass(frozen=True)
class StsFound:
    """What the domain publishes: a policy, or why none applies, or why nobody can tell."""

    policy: Policy | None = None
    note: str = ""  # a record was found, but no policy applies (why)
    unknown: str = ""  # a lookup or the fetch timed out: the finding cannot be told


class PolicyError(ValueError):
    """The record or the policy does not parse (the reason is one phrase)."""


_WSP = "[ \t]"
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_RECORD_SEP = re.compile(f"{_WSP}*;{_WSP}*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_MX = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})+")
_FIELD = re.compile(rf"([^:]*):{_WSP}*(.*?){_WSP}*")
_POLICY_EXT_VALUE = re.compile(r"[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*")


def is_sts_record(text: str) -> bool:
    """A TXT record that claims to be MTA-STS (§3.1: others are discarded)."""
    return text.startswith("v=STSv1;") or text == "v=STSv1"


def parse_record(text: str) -> str:
    """The policy id of an ``_mta-sts`` TXT record (its strings already joined)."""
    fields = _RECORD_SEP.split(text)
    if fields and fields[-1] == "":
        fields.pop()  # a record may end with the separator
    if not fields or fields[0] != "v=STSv1":
        raise PolicyError("the record does not start with v=STSv1")
    found: str | None = None
    for field in fields[1:]:
        name, equals, value = field.partition("=")
        if not equals or _EXT_NAME.fullmatch(name) is None:
            raise PolicyError(f"the record has a field that is not name=value: {field!r}")
        if name == "id":
            if found is not None:
                raise PolicyError("the record has two id fields")
            if _ID.fullmatch(value) is None:
                raise PolicyError("the record's id is not 1 to 32 letters and digits")
            found = value
        elif _EXT_VALUE.fullmatch(value) is None:
            raise PolicyError(f"the record's field {name} has an invalid value")
    if found is None:
        raise PolicyError("the record has no id field")
    return found


def one_record(texts: list[str]) -> str:
    """The id of the one MTA-STS record among a name's TXT records (§3.1)."""
    claims = [text for text in texts if is_sts_record(text)]
    if len(claims) != 1:
        raise PolicyError(f"{len(claims)} TXT records start with v=STSv1, not one")
    return parse_record(claims[0])


def parse_policy(body: bytes) -> Policy:
    """The policy file's body (§3.2), or :class:`PolicyError`."""
    if len(body) > POLICY_BYTES:
        raise PolicyError(POLICY_TOO_LONG)
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise PolicyError("the policy is not ASCII text") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break that ends the last field
    values: dict[str, str] = {}
    patterns: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.removesuffix("\r")
        match = _FIELD.fullmatch(line)
        if match is None or "\r" in line:
            raise PolicyError(f"line {number} is not a field (name: value)")
        name, value = match.groups()
        if name == "mx":
            if _MX.fullmatch(value) is None:
                raise PolicyError(f"line {number}: {value!r} is not a host name or *.name")
            patterns.append(value.lower())
        elif name in ("version", "mode", "max_age"):
            if name in values:
                raise PolicyError(f"line {number}: a second {name} field")
            values[name] = value
        elif _EXT_NAME.fullmatch(name) is None or _POLICY_EXT_VALUE.fullmatch(value) is None:
            raise PolicyError(f"line {number} is not a field (name: value)")
    return _policy(values, patterns)


def _policy(values: dict[str, str], patterns: list[str]) -> Policy:
    if values.get("version") != "STSv1":
        raise PolicyError("the policy has no version: STSv1 field")
    try:
        mode = Mode(values.get("mode", ""))
    except ValueError:
        raise PolicyError("the policy's mode is not enforce, testing or none") from None
    age = values.get("max_age", "")
    if not (age.isascii() and age.isdigit() and len(age) <= 10):
        raise PolicyError("the policy's max_age is not a number of seconds")
    if int(age) > MAX_AGE_LIMIT:
        raise PolicyError(f"the policy's max_age is over {MAX_AGE_LIMIT} seconds")
    if mode is not Mode.NONE and not patterns:
        raise PolicyError(f"the policy's mode is {mode} but it has no mx field")
    return Policy(mode, tuple(patterns), int(age))
