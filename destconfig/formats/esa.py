"""The appliance's table file (spec §8), read by a hand-written line parser.

``configparser`` cannot be used: it gives ``[DEFAULT]`` a meaning of its own
(its keys leak into every section). Reading is strict and complete: every
problem is reported with its line, the body of a refused section is still
checked, and a file with any problem yields no table at all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import destconfig.formats.limits as limits
from destconfig import model, settings
from destconfig.destinations import InvalidDestination, all_stored, is_address, normalise
from destconfig.formats.problems import (
    FormatError,
    Problem,
    Problems,
    decoded,
    quote,
    too_many_entries,
)
from destconfig.gcpause import without_gc
from destconfig.messages import dane_needs_tls
from destconfig.model import DefaultEntry, Table
from destconfig.settings import BadValue

DEFAULT_SECTION = "DEFAULT"

KEYS = settings.NAMES  # in the order export writes them
_PARSERS = {setting.name: setting.values.parse for setting in settings.SETTINGS}
_WRITTEN = {setting.name: setting.values.write for setting in settings.SETTINGS}
# [DEFAULT] holds the default entry's fields: those it always has a value for, and may
# hold the others (the recipient limit and its minutes, and those a file written before
# they existed lacks: their factory value is not written); no other key.
_IN_DEFAULT = frozenset(DefaultEntry.model_fields)
_DEFAULT_NEEDS = tuple(
    name
    for name in KEYS
    if name in _IN_DEFAULT
    and DefaultEntry.model_fields[name].default is not None
    and name not in model.UNWRITTEN_DEFAULTS
)
_UNWRITTEN = frozenset(model.UNWRITTEN_DEFAULTS.items())
_RULED = frozenset({*model.LIMITS, *model.RECIPIENT_PAIR, *model.LIMIT_CHOICES})
_HEADER = re.compile(r"\[.+\]")  # a header of export's layout: "[" name "]"
_ADDRESS_NAME = re.compile(r"[0-9][0-9.]*|.*:.*")  # a name export wrote for an address


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
        missing = [name for name in _DEFAULT_NEEDS if name not in present]
        if missing:
            found.append(f"[DEFAULT] lacks {_and(missing)}")
    pair = [name for name in model.RECIPIENT_PAIR if name in present]
    if len(pair) == 1:
        (other,) = (name for name in model.RECIPIENT_PAIR if name not in present)
        found.append(f"{pair[0]} needs {other}")
    limited = [name for name in model.LIMITS if name in present]
    choices = [name for name in model.LIMIT_CHOICES if name in present]
    # [DEFAULT] needs the limit choices anyway: its lack is reported above.
    if limited and len(choices) < len(model.LIMIT_CHOICES) and key != DEFAULT_SECTION:
        lacking = [name for name in model.LIMIT_CHOICES if name not in present]
        verb = "needs" if len(limited) == 1 else "need"
        found.append(f"{_and(limited)} {verb} {_and(lacking)}")
    if choices and not limited and key != DEFAULT_SECTION:
        verb = "needs" if len(choices) == 1 else "need"
        found.append(f"{_and(choices)} {verb} {' or '.join(model.LIMITS)}")
    return [Problem(line, reason) for reason in found]


@without_gc
def loads(data: bytes) -> Table:
    """Read a table file; :class:`FormatError` lists every problem in line order."""
    text = decoded(data)
    read = read_exported(text)
    if read is None:
        read = read_lines(text)
    del text
    return _table(*read)


Values = dict[str, Any]
Read = tuple[Values, dict[str, Values]]
"""What a table file holds: the default's values, and each entry's by its stored key."""


def read_exported(text: str) -> Read | None:
    """The values of a file laid out exactly as export writes it; else ``None``.

    Export writes sections one blank line apart, each a ``[NAME]`` header and
    ``key = value`` lines, nothing else, names in their stored form. Such a file
    (most files moved between hosts) is read here a section at a time, each
    distinct line parsed once. Any other layout, and anything :func:`read_lines`
    would refuse, gives ``None``: ``read_lines`` then decides, and words every
    problem; where this reading gives values, they are those ``read_lines`` gives.
    """
    if (
        not text.endswith("\n")
        or "\n\n\n" in text  # (an empty line where a header should be)
        or text.count("\n\n") > limits.MAX_ENTRIES  # more entries than a table may have
    ):
        return None
    parsed: dict[str, tuple[str, Any]] = {}  # each distinct line: its key and value
    headers: list[str] = []
    bodies: list[Values] = []
    # A section at a time, so that the lines of the whole file are never all held.
    for block in split_in_stretches(text, "\n\n", len(text) - 1):
        if "\n[" in block or block.count("\n") > len(KEYS):
            return None  # a header inside a section, or a key written twice
        header, *lines = block.split("\n")
        values: Values = {}
        for line in lines:
            pair = parsed.get(line)
            if pair is None:
                pair = _exported_line(line)
                if pair is None:
                    return None
                parsed[line] = pair
            values[pair[0]] = pair[1]
        if len(values) != len(lines):
            return None  # a key written twice
        headers.append(header)
        bodies.append(values)
    keys = _stored_keys(headers)
    del headers
    if keys is None:
        return None
    default: Values = {}
    entries: dict[str, Values] = {}
    sound: set[tuple[str, ...]] = set()  # the keys of entries found to break no rule
    for key, values in zip(keys, bodies, strict=True):
        if key == DEFAULT_SECTION:
            if not _IN_DEFAULT.issuperset(values) or _section_problems(0, key, values):
                return None
            default = values
            continue
        entries[key] = values
        present = tuple(values)
        if present not in sound:
            if _section_problems(0, key, values):
                return None
            sound.add(present)
    if _dane_breakers(default, entries):
        return None
    return default, entries


_DANE_RULED = ("tls", "dane")


def _dane_breakers(default: Values, entries: dict[str, Values]) -> list[str]:
    """The sections that break the model's DANE rule (:func:`model.dane_conflicts`)."""
    rows = (
        (key, values.get("tls"), values.get("dane"))
        for key, values in entries.items()
        if "dane" in values or "tls" in values
    )
    return list(
        model.dane_conflicts(
            default.get("tls", model.FACTORY_DEFAULT.tls),
            default.get("dane", model.FACTORY_DEFAULT.dane),
            rows,
        )
    )


def _dane_problems(sections: list[_Section]) -> list[Problem]:
    """The DANE rule's problem of each section that breaks it, on its ``dane`` line (else its
    ``tls`` line, else its header); sections whose TLS or DANE value is bad are passed by."""
    readable = [
        section
        for section in sections
        if all(name in section.values for name in _DANE_RULED if name in section.lines)
    ]
    by_key = {section.key: section for section in readable if section.key is not None}
    default = by_key.pop(DEFAULT_SECTION, None)
    if default is None:
        return []
    entries = {key: section.values for key, section in by_key.items()}
    if "tls" not in default.values:
        # The missing TLS is its own problem; only entries that set TLS themselves are judged.
        entries = {key: values for key, values in entries.items() if "tls" in values}
    found = []
    for key in _dane_breakers(default.values, entries):
        if key == model.DEFAULT_NAME and "tls" not in default.values:
            continue
        section = default if key == model.DEFAULT_NAME else by_key[key]
        line = section.lines.get("dane", section.lines.get("tls", section.line))
        found.append(Problem(line, dane_needs_tls(key)))
    return found


def _exported_line(line: str) -> tuple[str, Any] | None:
    """The key and value of a ``key = value`` line of export's layout; ``None`` for any
    other line, or a value that is not valid."""
    key, equals, value = line.partition(" = ")
    parse = _PARSERS.get(key)
    if not equals or parse is None:
        return None
    try:
        return key, parse(value)
    except BadValue:
        return None


def _stored_keys(headers: list[str]) -> list[str] | None:
    """The sections' keys when there is one ``[DEFAULT]`` and every other header names a
    destination in its stored form (addresses without brackets, as export writes them);
    else ``None``."""
    keys: list[str] = []
    unchecked: list[str] = []  # the names and IPv4 addresses, checked all at once
    for header in headers:
        if not _HEADER.fullmatch(header):
            return None
        name = header[1:-1]
        if not _ADDRESS_NAME.fullmatch(name):
            keys.append(name)
            if name != DEFAULT_SECTION:
                unchecked.append(name)
        elif ":" in name:  # IPv6: few, each normalised
            try:
                keys.append(normalise(name))
            except InvalidDestination:
                return None
        else:
            keys.append(f"[{name}]")
            unchecked.append(keys[-1])
    if keys.count(DEFAULT_SECTION) != 1 or len(set(keys)) != len(keys):
        return None
    return keys if all_stored(unchecked) else None


def read_lines(text: str) -> Read:
    """Read any table file line by line; :class:`FormatError` lists every problem.

    The sections kept are ``[DEFAULT]`` and the first
    :data:`~limits.MAX_ENTRIES` entries; every later section is still checked,
    line by line and as a whole, but not kept (so a later one written twice is
    not seen). Once the first problems are all found (:meth:`Problems.wanted`),
    the rest of the file is only skimmed for what can still matter: the keys of an
    open section, and whether there is a ``[DEFAULT]``.
    """
    problems = Problems()
    sections: list[_Section] = []
    seen: dict[str, int] = {}
    section: _Section | None = None
    most = limits.MAX_ENTRIES
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
    for problem in _dane_problems(sections):
        problems.append(problem)
    if problems:
        raise FormatError(problems.in_order())
    return _values(sections)


STRETCH = 1 << 16  # characters split at a time (about)


def split_in_stretches(text: str, separator: str, end: int) -> Iterator[str]:
    """``text[:end].split(separator)``, a stretch of about :data:`STRETCH` characters at
    a time: a list of every line of a large file of short lines takes several times the
    memory of the text.

    Stretches are cut at a separator, so the pieces are the same as splitting at
    once when occurrences of *separator* cannot overlap: one character, or two line
    ends in a text that never has three in a row.
    """
    start = 0
    while True:
        cut = text.find(separator, start + STRETCH, end)
        if cut < 0:
            yield from text[start:end].split(separator)
            return
        yield from text[start:cut].split(separator)
        start = cut + len(separator)


def _lines(text: str) -> Iterator[str]:
    """The lines of *text*; a line end at the very end ends the last line."""
    return split_in_stretches(text, "\n", len(text) - 1 if text.endswith("\n") else len(text))


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
    if equals and section is not None and key in _PARSERS and key not in section.lines:
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
    parse = _PARSERS.get(key)
    if parse is None:
        problems.append(Problem(number, _unknown_key(written)))
        return
    if key in section.lines:
        problems.append(
            Problem(number, f"duplicate key {key} (first at line {section.lines[key]})")
        )
        return
    section.lines[key] = number
    if section.key == DEFAULT_SECTION and key not in _IN_DEFAULT:
        problems.append(Problem(number, f"{key} is not allowed in [DEFAULT]"))
        return
    try:
        section.values[key] = parse(value)
    except BadValue as bad:
        problems.append(Problem(number, f"bad value {quote(value)} for {key}; use {bad.allowed}"))


# The list an unknown key is answered with names the keys of the seed-era file, worded as
# it always was; a key the appliance added later (dane) is suggested when close.
LISTED_KEYS = ", ".join(name for name in KEYS if name not in model.UNWRITTEN_DEFAULTS)


def _unknown_key(written: str) -> str:
    close = difflib.get_close_matches(written.lower(), KEYS, n=1)
    if close:
        return f"unknown key {quote(written)}; did you mean {close[0]}?"
    return f"unknown key {quote(written)}; the keys are {LISTED_KEYS}"


def _values(sections: list[_Section]) -> Read:
    """The values of checked sections (a refused one has no key)."""
    default: Values = {}
    entries: dict[str, Values] = {}
    for section in sections:
        if section.key == DEFAULT_SECTION:
            default = section.values
        elif section.key is not None:
            entries[section.key] = section.values
    return default, entries


def _table(default: Values, entries: dict[str, Values]) -> Table:
    """The table of checked values, validated by the model in one call."""
    profiles = {values.get("bounce_profile") for values in entries.values()} - {None}
    return Table.model_validate(
        {"default": default, "entries": entries, "bounce_profiles": tuple(profiles)}
    )


# Export.


def dumps(table: Table) -> bytes:
    """``[DEFAULT]`` first, then the entries in LIST order, keys in file order.

    Settings recur across entries, so each distinct ``key = value`` line is made
    once and reused.
    """
    lines: dict[tuple[str, Any], str] = {}  # (key, value): a field has one type
    default = {
        name: value
        for name, value in table.default.__dict__.items()
        if (name, value) not in _UNWRITTEN
    }
    parts = [_section_text(DEFAULT_SECTION, default, lines)]
    entries = table.entries
    for key in table.sorted_keys():
        name = key[1:-1] if is_address(key) else key
        parts.append(_section_text(name, entries[key].__dict__, lines))
    return "\n".join(parts).encode("utf-8")


def _section_text(name: str, values: dict[str, Any], lines: dict[tuple[str, Any], str]) -> str:
    # Model fields are declared in the file's key order.
    body = [f"[{name}]"]
    for pair in values.items():
        if pair[1] is not None:
            line = lines.get(pair)
            if line is None:
                line = lines[pair] = f"{pair[0]} = {_WRITTEN[pair[0]](pair[1])}"
            body.append(line)
    body.append("")  # each section ends its last line
    return "\n".join(body)
