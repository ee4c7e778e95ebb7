"""The appliance's table file (spec §8), read by a hand-written line parser.

``configparser`` cannot be used: it gives ``[DEFAULT]`` a meaning of its own
(its keys leak into every section). Reading is strict and complete: every
problem is reported with its line, the body of a refused section is still
checked, and a file with any problem yields no table at all.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from destconfig import formats, model
from destconfig.destinations import InvalidDestination, all_stored, is_address, normalise
from destconfig.formats import FormatError, Problem, Problems, decoded, quote, too_many_entries
from destconfig.gcpause import without_gc
from destconfig.model import KEYS_NORMALISED, IpSort, LimitApply, LimitType, Table, Tls

DEFAULT_SECTION = "DEFAULT"

# Keys in the order export writes them.
KEYS = (
    "ip_sort_pref",
    "max_host_concurrency",
    "max_messages_per_connection",
    "recipient_minutes",
    "recipient_limit",
    "limit_type",
    "limit_apply",
    "bounce_validation",
    "bounce_profile",
    "tls",
)
_DEFAULT_OPTIONAL = frozenset({"bounce_profile", "recipient_minutes", "recipient_limit"})
_LIMITED_BY = ("max_host_concurrency", "recipient_limit")
_RECIPIENT_PAIR = ("recipient_limit", "recipient_minutes")
_LIMIT_CHOICES = ("limit_type", "limit_apply")
_RULED = frozenset({*_LIMITED_BY, *_RECIPIENT_PAIR, *_LIMIT_CHOICES})
_HEADER = re.compile(r"\[.+\]")  # a header of export's layout: "[" name "]"
_ADDRESS_NAME = re.compile(r"[0-9][0-9.]*|.*:.*")  # a name export wrote for an address


class BadValue(Exception):
    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


def _number(bounds: tuple[int, int]) -> Callable[[str], int]:
    lo, hi = bounds

    def parse(text: str) -> int:
        if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(hi)):
            value = int(text)
            if lo <= value <= hi:
                return value
        raise BadValue(f"a number from {lo} to {hi}")

    return parse


def _words(table: dict[str, Any], allowed: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return table[text.lower()]
        except KeyError:
            raise BadValue(allowed) from None

    return parse


def _profile(text: str) -> str:
    if model.is_profile_name(text):
        return text
    raise BadValue("a profile name: a letter, then letters, digits, '-', '_' or '.' (64 at most)")


_TLS_ORDER = tuple(Tls)
_TLS_WORDS = {str(number): tls for number, tls in enumerate(_TLS_ORDER)} | {
    tls.value.lower(): tls for tls in _TLS_ORDER
}

PARSERS: dict[str, Callable[[str], Any]] = {
    "ip_sort_pref": _words(
        {sort.value.lower(): sort for sort in IpSort}, ", ".join(sort.value for sort in IpSort)
    ),
    "max_host_concurrency": _number(model.CONCURRENCY),
    "max_messages_per_connection": _number(model.MESSAGES_PER_CONNECTION),
    "recipient_minutes": _number(model.RECIPIENT_MINUTES),
    "recipient_limit": _number(model.RECIPIENT_LIMIT),
    "limit_type": _words(
        {"host": LimitType.HOST, "0": LimitType.HOST, "mxip": LimitType.MXIP, "1": LimitType.MXIP},
        "host (or 0), MXIP (or 1)",
    ),
    "limit_apply": _words(
        {
            "system": LimitApply.SYSTEM,
            "0": LimitApply.SYSTEM,
            "vg": LimitApply.VG,
            "1": LimitApply.VG,
        },
        "system (or 0), VG (or 1)",
    ),
    "bounce_validation": _words(
        {"0": False, "off": False, "1": True, "on": True}, "0 (or off), 1 (or on)"
    ),
    "bounce_profile": _profile,
    "tls": _words(
        _TLS_WORDS,
        ", ".join(f"{number} ({tls.value})" for number, tls in enumerate(_TLS_ORDER)),
    ),
}


def _and(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) < 3:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(slots=True)
class _Section:
    line: int
    key: str | None  # the stored destination, DEFAULT_SECTION, or None when refused
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # every key present, valid or not

    def problems(self) -> list[Problem]:
        """What is wrong with the section as a whole, reported on its header line."""
        return _section_problems(self.line, self.key, self.lines)


def _section_problems(line: int, key: str | None, present: Collection[str]) -> list[Problem]:
    """What is wrong with a section of these keys as a whole, reported on *line*."""
    if key != DEFAULT_SECTION and _RULED.isdisjoint(present):
        return []  # the common entry: no key that another key depends on
    found: list[str] = []
    if key == DEFAULT_SECTION:
        missing = [name for name in KEYS if name not in present and name not in _DEFAULT_OPTIONAL]
        if missing:
            found.append(f"[DEFAULT] lacks {_and(missing)}")
    pair = [name for name in _RECIPIENT_PAIR if name in present]
    if len(pair) == 1:
        (other,) = (name for name in _RECIPIENT_PAIR if name not in present)
        found.append(f"{pair[0]} needs {other}")
    limited = [name for name in _LIMITED_BY if name in present]
    choices = [name for name in _LIMIT_CHOICES if name in present]
    # [DEFAULT] needs the limit choices anyway: its lack is reported above.
    if limited and len(choices) < len(_LIMIT_CHOICES) and key != DEFAULT_SECTION:
        lacking = [name for name in _LIMIT_CHOICES if name not in present]
        verb = "needs" if len(limited) == 1 else "need"
        found.append(f"{_and(limited)} {verb} {_and(lacking)}")
    if choices and not limited and key != DEFAULT_SECTION:
        verb = "needs" if len(choices) == 1 else "need"
        found.append(f"{_and(choices)} {verb} max_host_concurrency or recipient_limit")
    return [Problem(line, reason) for reason in found]


@without_gc
def loads(data: bytes) -> Table:
    """Read a table file; :class:`FormatError` lists every problem in line order."""
    text = decoded(data)
    read = _as_exported(text)
    if read is None:
        read = _values(_read(text))
    del text
    return _table(*read)


_Values = dict[str, Any]
_Read = tuple[_Values, dict[str, _Values]]  # the default's values, each entry's values


def _as_exported(text: str) -> _Read | None:
    """The values of a file laid out exactly as export writes it; else ``None``.

    Export writes sections one blank line apart, each a ``[NAME]`` header and
    ``key = value`` lines, nothing else, names in their stored form. Such a file
    (most files moved between hosts) is read here a section at a time, each
    distinct line parsed once. Any other layout, and anything :func:`_read` would
    refuse, gives ``None``: ``_read`` then decides, and words every problem.
    """
    if (
        not text.endswith("\n")
        or "\n\n\n" in text  # (an empty line where a header should be)
        or text.count("\n\n") > formats.MAX_ENTRIES  # more entries than a table may have
    ):
        return None
    lines: dict[str, tuple[str, Any]] = {}  # each distinct line, parsed
    headers: list[str] = []
    bodies: list[_Values] = []
    # A section at a time, so that the lines of the whole file are never all held.
    for block in _split(text, "\n\n", len(text) - 1):
        if "\n[" in block or block.count("\n") > len(KEYS):
            return None  # a header inside a section, or a key written twice
        body = block.split("\n")
        headers.append(body[0])
        try:
            values = dict(map(lines.__getitem__, itertools.islice(body, 1, None)))
        except KeyError:
            if not _parse_lines(body, lines):
                return None
            values = dict(map(lines.__getitem__, itertools.islice(body, 1, None)))
        if len(values) != len(body) - 1:
            return None  # a key written twice
        bodies.append(values)
    keys = _stored_keys(headers)
    del headers
    if keys is None:
        return None
    default: _Values = {}
    entries: dict[str, _Values] = {}
    sound: set[tuple[str, ...]] = set()  # the keys of entries found to break no rule
    for key, values in zip(keys, bodies, strict=True):
        if key == DEFAULT_SECTION:
            if "bounce_profile" in values or _section_problems(0, key, values):
                return None
            default = values
            continue
        entries[key] = values
        present = tuple(values)
        if present not in sound:
            if _section_problems(0, key, values):
                return None
            sound.add(present)
    return default, entries


def _parse_lines(block: list[str], lines: dict[str, tuple[str, Any]]) -> bool:
    """Parse the body lines of *block* not parsed yet into *lines*; ``False`` when one
    is not a ``key = value`` line of export's layout with a valid value."""
    for line in itertools.islice(block, 1, None):
        if line in lines:
            continue
        key, equals, value = line.partition(" = ")
        parse = PARSERS.get(key)
        if not equals or parse is None:
            return False
        try:
            lines[line] = (key, parse(value))
        except BadValue:
            return False
    return True


def _stored_keys(headers: list[str]) -> list[str] | None:
    """The sections' keys when there is one ``[DEFAULT]`` and every other header names a
    destination in its stored form (addresses without brackets, as export writes them);
    else ``None``."""
    if not all(map(_HEADER.fullmatch, headers)):
        return None
    keys = [header[1:-1] for header in headers]
    unchecked = [True] * len(keys)
    for index in itertools.compress(itertools.count(), map(_ADDRESS_NAME.fullmatch, keys)):
        name = keys[index]
        if ":" in name:  # IPv6: few, each normalised
            try:
                keys[index] = normalise(name)
            except InvalidDestination:
                return None
            unchecked[index] = False
        else:
            keys[index] = f"[{name}]"  # IPv4, checked with the names
    if keys.count(DEFAULT_SECTION) != 1 or len(set(keys)) != len(keys):
        return None
    unchecked[keys.index(DEFAULT_SECTION)] = False
    return keys if all_stored(list(itertools.compress(keys, unchecked))) else None


def _read(text: str) -> list[_Section]:
    """Read any table file line by line; :class:`FormatError` lists every problem.

    The sections kept are ``[DEFAULT]`` and the first
    :data:`~destconfig.formats.MAX_ENTRIES` entries; every later section is still
    checked, line by line and as a whole, but not kept (so a later one written
    twice is not seen). Once the first problems are all found
    (:meth:`Problems.wanted`), the rest of the file is only skimmed for what can
    still matter: the keys of an open section, and whether there is a ``[DEFAULT]``.
    """
    problems = Problems()
    sections: list[_Section] = []
    seen: dict[str, int] = {}
    section: _Section | None = None
    most = formats.MAX_ENTRIES
    entries = 0
    for number, raw in enumerate(_lines(text), 1):
        line = raw.strip()  # a \r of \r\n too
        if not line or line[0] in "#;":
            continue
        if not problems.wanted(number):
            section = _skim(line, number, section, seen, problems)
            continue
        if line.startswith("["):
            if section is not None:
                _close(section, problems)
            section = _header(line, number, seen, problems, entries >= most)
            if section.key == DEFAULT_SECTION:
                sections.append(section)
            elif section.key is not None:  # an entry
                entries += 1
                if entries <= most:
                    sections.append(section)
                elif entries == most + 1:
                    problems.append(too_many_entries(number))
            continue
        name, equals, value = line.partition("=")
        key = name.strip()
        if not equals or not key:
            problems.append(Problem(number, 'expected "[SECTION]", "key = value" or a comment'))
            continue
        if section is None:
            problems.append(Problem(number, f"{quote(key)} is outside any section"))
            continue
        _key_line(section, key, value.strip(), number, problems)
    if section is not None:
        _close(section, problems)
    if DEFAULT_SECTION not in seen:
        problems.append(Problem(1, "there is no [DEFAULT] section"))
    if problems:
        raise FormatError(problems.in_order())
    return sections


_AT_ONCE = 1 << 16  # characters split at a time (about)


def _split(text: str, separator: str, end: int) -> Iterator[str]:
    """``text[:end].split(separator)``, a stretch at a time: a list of every line of a
    large file of short lines takes several times the memory of the text.

    Stretches are cut at a separator, so the pieces are the same as splitting at
    once when occurrences of *separator* cannot overlap: one character, or two line
    ends in a text that never has three in a row.
    """
    start = 0
    while True:
        cut = text.find(separator, start + _AT_ONCE, end)
        if cut < 0:
            yield from text[start:end].split(separator)
            return
        yield from text[start:cut].split(separator)
        start = cut + len(separator)


def _lines(text: str) -> Iterator[str]:
    """The lines of *text*; a line end at the very end ends the last line."""
    return _split(text, "\n", len(text) - 1 if text.endswith("\n") else len(text))


def _close(section: _Section, problems: Problems) -> None:
    """Report what is wrong with a section as a whole, once its last line is read."""
    for problem in section.problems():
        problems.append(problem)


def _skim(
    line: str, number: int, section: _Section | None, seen: dict[str, int], problems: Problems
) -> _Section | None:
    """A line on which no problem would be kept (*line* stripped, not a comment).

    What it can still change: which keys a section of an earlier header has (its
    problems are reported on that header's line), and whether there is a
    ``[DEFAULT]`` at all. The section it returns is the one later keys belong to.
    """
    if line.startswith("["):
        if section is not None:
            _close(section, problems)
        if line.endswith("]") and line[1:-1].strip().upper() == DEFAULT_SECTION:
            seen.setdefault(DEFAULT_SECTION, number)
        return _Section(number, None)
    name, equals, _ = line.partition("=")
    key = name.strip().lower()
    if equals and section is not None and key in PARSERS and key not in section.lines:
        section.lines[key] = number
    return section


def _header(
    line: str, number: int, seen: dict[str, int], problems: Problems, full: bool
) -> _Section:
    """The section a header line starts; *full*: no more entries are kept, so a new
    one is checked against the kept ones but not remembered."""
    if not line.endswith("]"):
        problems.append(Problem(number, 'a section header must end with "]"'))
        return _Section(number, None)
    name = line[1:-1].strip()
    if name.upper() == DEFAULT_SECTION:
        key = DEFAULT_SECTION
    else:
        try:
            key = normalise(name)
        except InvalidDestination:
            problems.append(
                Problem(
                    number,
                    f"invalid destination {quote(name)}; use a domain (example.com), "
                    "a subdomain (.example.com) or an IP address (192.0.2.1)",
                )
            )
            return _Section(number, None)
    if key in seen:
        shown = "[DEFAULT]" if key == DEFAULT_SECTION else quote(key)
        problems.append(Problem(number, f"duplicate section {shown} (first at line {seen[key]})"))
        return _Section(number, None)
    if not full or key == DEFAULT_SECTION:
        seen[key] = number
    return _Section(number, key)


def _key_line(section: _Section, key: str, value: str, number: int, problems: Problems) -> None:
    written, key = key, key.lower()
    parse = PARSERS.get(key)
    if parse is None:
        problems.append(Problem(number, _unknown_key(written)))
        return
    if key in section.lines:
        problems.append(
            Problem(number, f"duplicate key {key} (first at line {section.lines[key]})")
        )
        return
    section.lines[key] = number
    if key == "bounce_profile" and section.key == DEFAULT_SECTION:
        problems.append(Problem(number, "bounce_profile is not allowed in [DEFAULT]"))
        return
    try:
        section.values[key] = parse(value)
    except BadValue as bad:
        problems.append(Problem(number, f"bad value {quote(value)} for {key}; use {bad.allowed}"))


def _unknown_key(written: str) -> str:
    close = difflib.get_close_matches(written.lower(), KEYS, n=1)
    if close:
        return f"unknown key {quote(written)}; did you mean {close[0]}?"
    return f"unknown key {quote(written)}; the keys are {', '.join(KEYS)}"


def _values(sections: list[_Section]) -> _Read:
    """The values of checked sections (a refused one has no key)."""
    default: _Values = {}
    entries: dict[str, _Values] = {}
    for section in sections:
        if section.key == DEFAULT_SECTION:
            default = section.values
        elif section.key is not None:
            entries[section.key] = section.values
    return default, entries


def _table(default: _Values, entries: dict[str, _Values]) -> Table:
    """The table of checked values, validated by the model in one call."""
    profiles = {values.get("bounce_profile") for values in entries.values()} - {None}
    return Table.model_validate(
        {"default": default, "entries": entries, "bounce_profiles": tuple(profiles)},
        context={KEYS_NORMALISED: True},  # every key is a stored form already
    )


# Export.

_TLS_NUMBERS = {tls: str(number) for number, tls in enumerate(_TLS_ORDER)}


def _export_word(key: str, value: Any) -> str:
    """A value as export writes it: the first form of the file's table."""
    if key == "tls":
        return _TLS_NUMBERS[value]
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _section_text(name: str, values: dict[str, Any]) -> str:
    # Model fields are declared in the file's key order.
    lines = [f"[{name}]"]
    lines.extend(
        f"{key} = {_export_word(key, value)}" for key, value in values.items() if value is not None
    )
    return "\n".join(lines) + "\n"


def dumps(table: Table) -> bytes:
    """``[DEFAULT]`` first, then the entries in LIST order, keys in file order."""
    parts = [_section_text(DEFAULT_SECTION, table.default.__dict__)]
    entries = table.entries
    for key in table.sorted_keys():
        name = key[1:-1] if is_address(key) else key
        parts.append(_section_text(name, entries[key].__dict__))
    return "\n".join(parts).encode("utf-8")
