"""The table as a Postfix configuration: four files, written and read back.

``tls_policy`` and ``transport`` are map sources (postmap(1) input), ``main.cf``
holds ``name = value`` lines for ``postconf -e``, ``master.cf`` the smtp clones
that carry the entries' limits. Postfix looks a domain up, then each ``.parent``
nearest first, and an ``[address]`` once: the table's own order, with one trap
handled here (an entry left at Default under a pattern gets a line of its own
with the default entry's value, or Postfix would apply the pattern's).

Each entry's exact values travel in a comment, ``# destconfig KEY {json}``, in
``tls_policy`` (and the default entry's, the settings' and the profiles' in
``main.cf``), so that an export reads back as the identical table. What Postfix
lines say is read by one reader, :func:`read_views`, used three ways: to import a
hand-written configuration (approximately, with a warning for each setting), to
find where an administrator edited a line against its comment (the line wins),
and, on this module's own output, by the tests that hold the writer to the reader.

What a setting loses in Postfix is worded in the catalogue
(:data:`destconfig.settings.Mta`); the writer reports each loss once per entry.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from pydantic import ValidationError

from destconfig import settings
from destconfig.destinations import InvalidDestination, is_address, normalise
from destconfig.formats.problems import FormatError, Problem, decoded, quote
from destconfig.gcpause import without_gc
from destconfig.model import (
    RECIPIENT_PAIR,
    DefaultEntry,
    Entry,
    IpSort,
    Settings,
    Table,
    Tls,
    settle_limits,
)

TLS_POLICY, TRANSPORT, MAIN_CF, MASTER_CF = FILES = (
    "tls_policy",
    "transport",
    "main.cf",
    "master.cf",
)
HEADER = "# Written by destconfig export --format postfix; the next export replaces this file."
MARK = "# destconfig "
DEFAULT_KEY = "(Default)"
MAP_TYPES = ("hash", "lmdb", "cdb", "btree", "texthash")
CLONE_PREFIX = "dc_"
FAILED_COHORT_LIMIT = 10  # with a rate delay, one failure must not suspend the destination
_PLAIN_TRANSPORTS = frozenset({"smtp"})  # what the default entry's mail goes through


class Loss(NamedTuple):
    """A setting Postfix (or KumoMTA) cannot hold exactly: where, which, why.

    A named tuple: an export of a large table reports hundreds of thousands.
    """

    key: str  # DEFAULT_KEY for the default entry
    setting: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.setting}: {self.reason}"


Pairs = tuple[tuple[str, str], ...]  # (setting, reason) of each loss of one entry


@dataclass(frozen=True)
class Export:
    files: dict[str, bytes]
    found: list[tuple[str, Pairs]]  # each key with losses, and its losses

    @property
    def losses(self) -> list[Loss]:
        return [
            Loss(key, setting, reason) for key, pairs in self.found for setting, reason in pairs
        ]

    def loss_lines(self) -> list[str]:
        """Each loss as the warning says it (built as text: there may be hundreds of
        thousands)."""
        return [
            f"{key}: {setting}: {reason}" for key, pairs in self.found for setting, reason in pairs
        ]


# --- what Postfix is told for one destination ------------------------------------------------


@dataclass(frozen=True)
class View:
    """What Postfix's lines say for one destination (or the default, from main.cf).

    ``None``: no line says it (the next lookup, or the default, decides).
    """

    tls: str | None = None  # the policy word, with " match=..." when it has one
    concurrency: int | None = None
    messages: int | None = None  # messages per connection
    rate: tuple[int, int] | None = None  # (recipients per delivery, seconds between)
    ip: str | None = None  # "prefer ipv4", "require ipv6", ...
    routed: bool = False  # a transport line names this destination

    def limits(self) -> tuple[Any, ...]:
        return (self.concurrency, self.messages, self.rate, self.ip)


def _tls_word(tls: Tls) -> str:
    word = settings.POSTFIX_TLS[tls]
    return f"{word} match={settings.POSTFIX_VERIFY_MATCH}" if word == "verify" else word


def rate_of(limit: int, minutes: int) -> tuple[int, int]:
    """Recipients per delivery (at least 2: 1 would make Postfix count per recipient) and
    the whole seconds between deliveries that keep *limit* per *minutes* as a bound."""
    seconds = 60 * minutes
    per = limit // math.gcd(limit, seconds)  # the fewest recipients with whole seconds
    while per < 2:
        per *= 2
    return per, per * seconds // limit


def _ip_word(sort: IpSort) -> str:
    how, family = sort.value.lower().split("_v")
    return f"{how} ipv{family}"


@dataclass(frozen=True)
class _Shape:
    """The limits an entry sets itself: entries with the same shape share an smtp clone."""

    concurrency: int | None
    messages: int | None
    rate: tuple[int, int] | None
    ip: IpSort | None

    @classmethod
    def of(cls, entry: Entry) -> _Shape | None:
        rate = None
        if entry.recipient_limit and entry.recipient_minutes:  # 0 cannot be said: a loss
            rate = rate_of(entry.recipient_limit, entry.recipient_minutes)
        shape = cls(
            entry.max_host_concurrency, entry.max_messages_per_connection, rate, entry.ip_sort_pref
        )
        return None if shape == cls(None, None, None, None) else shape

    @functools.cached_property
    def name(self) -> str:
        """A name that says the shape (stable from export to export)."""
        parts = []
        if self.concurrency is not None:
            parts.append(f"c{self.concurrency}")
        if self.messages is not None:
            parts.append(f"m{self.messages}")
        if self.rate is not None:
            parts.append(f"r{self.rate[0]}per{self.rate[1]}s")
        if self.ip is not None:
            how, family = self.ip.value.lower().split("_v")
            parts.append(f"{'p' if how == 'prefer' else 'o'}{family}")  # p4 prefer, o6 only
        return CLONE_PREFIX + "_".join(parts)


def _ancestors(key: str) -> Iterable[str]:
    """The patterns Postfix looks up after *key*, nearest first."""
    if is_address(key):
        return
    dot = key.find(".", 1)
    while dot != -1:
        yield key[dot:]
        dot = key.find(".", dot + 1)


# --- writing ---------------------------------------------------------------------------------


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


def _entry_json(entry: Entry) -> str:
    """An entry's own values as compact JSON, as ``_compact(model_dump(mode="json",
    exclude_none=True))`` writes them (the test holds them equal): its values are
    enum words, numbers, booleans and profile names, none of which JSON escapes."""
    return _Written.of(entry).comment


def _reuse_lines(messages: int, option: bool) -> list[str]:
    """The smtp(8) settings of a messages-per-connection limit (as -o or main.cf lines)."""
    pairs = (
        [("smtp_connection_cache_on_demand", "no")]
        if messages == 1
        else [
            ("smtp_connection_reuse_count_limit", str(messages - 1)),
            ("smtp_tls_connection_reuse", "yes"),
        ]
    )
    return [f"-o {name}={value}" if option else f"{name} = {value}" for name, value in pairs]


def _rate_lines(prefix: str, rate: tuple[int, int]) -> list[str]:
    per, seconds = rate
    return [
        f"{prefix}_destination_rate_delay = {seconds}s",
        f"{prefix}_destination_recipient_limit = {per}",
        f"{prefix}_destination_concurrency_failed_cohort_limit = {FAILED_COHORT_LIMIT}",
    ]


@functools.cache
def _loss(name: str, value: Any) -> str | None:
    """What Postfix loses of one value of a setting (worked out once per value)."""
    mta = settings.BY_NAME[name].mta
    return None if mta is None else mta.postfix_loss(value)


_REPORTED = frozenset(setting.name for setting in settings.MTA_SETTINGS)


def _pairs(values: Mapping[str, Any]) -> Pairs:
    """What Postfix loses of the settings *values* gives (an entry's own, or the default's),
    in the catalogue's order."""
    found = []
    for name, value in values.items():
        if value is None or name not in _REPORTED:
            continue
        if name == "recipient_limit":
            value = (value, values["recipient_minutes"])
        reason = _loss(name, value)
        if reason is not None:
            found.append((name, reason))
    return tuple(found)


@dataclass(frozen=True)
class _Written:
    """What the lines of one entry's values are (entries with equal values share it)."""

    comment: str  # the JSON after the key
    tls: str | None  # the policy word, None at Default
    shape: _Shape | None
    losses: Pairs
    route: str = ""  # the transport map's value, with a shape

    @classmethod
    def of(cls, entry: Entry) -> _Written:
        values = entry.__dict__
        parts = []
        losses = []
        for name, value in values.items():
            if value is None:
                continue
            member, reason = _member(name, value)
            parts.append(member)
            if name == "recipient_limit":
                reason = _loss(name, (value, values["recipient_minutes"]))
            if reason is not None:
                losses.append((name, reason))
        tls = None if entry.tls is None else _tls_word(entry.tls)
        shape = _Shape.of(entry)
        route = "" if shape is None else f"{shape.name}:"
        return cls("{" + ",".join(parts) + "}", tls, shape, tuple(losses), route)


@functools.cache
def _member(name: str, value: Any) -> tuple[str, str | None]:
    """One value's member of the entry's JSON comment, and what Postfix loses of it
    (worked out once per value: entries share most of their values)."""
    if value is True or value is False:
        member = f'"{name}":{"true" if value else "false"}'
    elif isinstance(value, int):
        member = f'"{name}":{value}'
    else:  # a StrEnum formats as its value
        member = f'"{name}":"{value}"'
    reported = name in _REPORTED and name != "recipient_limit"
    return member, _loss(name, value) if reported else None


@without_gc
def render(table: Table, directory: str, map_type: str = "hash") -> Export:
    """The four files for *table*, their maps in *directory* (an absolute path)."""
    default = table.default
    default_losses = _pairs(dict(default))
    lost: list[tuple[str, Pairs]] = [(DEFAULT_KEY, default_losses)] if default_losses else []
    keys = table.sorted_keys()
    entries = table.entries
    default_word = _tls_word(default.tls)
    # Tables repeat a few sets of values many times: each is worked out once.
    known: dict[tuple[Any, ...], _Written] = {}
    written = {}
    for key in keys:
        entry = entries[key]
        values = tuple(entry.__dict__.values())
        found = known.get(values)
        if found is None:
            found = known[values] = _Written.of(entry)
        written[key] = found
    # The patterns whose own line Postfix would find for a name under them.
    own_tls = {key for key in keys if key[0] == "." and written[key].tls is not None}
    shaped = {key for key in keys if key[0] == "." and written[key].shape is not None}

    policy = [HEADER]
    transport = [HEADER]
    served: dict[str, tuple[_Shape, list[str]]] = {}  # by the shape's name
    for key in keys:
        line = written[key]
        policy.append(f"{MARK}{key} {line.comment}")
        if line.losses:
            lost.append((key, line.losses))
        needed = (line.tls is None and own_tls) or (line.shape is None and shaped)
        under = list(_ancestors(key)) if needed else ()
        if line.tls is not None:
            policy.append(f"{key} {line.tls}")
        elif own_tls and any(pattern in own_tls for pattern in under):
            policy.append(f"{key} {default_word}")  # Default, not the pattern's
        shape = line.shape
        if shape is not None:
            transport.append(f"{key} {line.route}")
            routed = served.get(line.route)
            if routed is None:
                routed = served[line.route] = (shape, [])
            routed[1].append(key)
        elif shaped and any(pattern in shaped for pattern in under):
            transport.append(f"{key} smtp:")

    main = [
        HEADER,
        f"{MARK}{DEFAULT_KEY} {_compact(default.model_dump(mode='json', exclude_none=True))}",
        f"{MARK}settings {_compact(table.settings.model_dump(mode='json'))}",
        f"{MARK}certificates {_compact(list(table.certificates))}",
        f"{MARK}bounce_profiles {_compact(list(table.bounce_profiles))}",
        f"smtp_tls_policy_maps = {map_type}:{directory}/{TLS_POLICY}",
        f"transport_maps = {map_type}:{directory}/{TRANSPORT}",
        f"smtp_tls_security_level = {settings.POSTFIX_TLS[default.tls]}",
    ]
    if settings.POSTFIX_TLS[default.tls] == "verify":
        main.append("smtp_tls_verify_cert_match = nexthop, hostname")
    main.append(f"default_destination_concurrency_limit = {default.max_host_concurrency}")
    main += _reuse_lines(default.max_messages_per_connection, option=False)
    if default.recipient_limit and default.recipient_minutes:
        main += _rate_lines("default", rate_of(default.recipient_limit, default.recipient_minutes))
    how, family = _ip_word(default.ip_sort_pref).split()
    if how == "prefer":
        main.append(f"smtp_address_preference = {family}")
    else:
        # inet_protocols would also change what the instance listens on: not written.
        main.append(f"# inet_protocols = {family}")
        reason = (
            "inet_protocols in main.cf would change the whole instance: the line is written "
            "commented out"
        )
        lost.append((DEFAULT_KEY, (("ip_sort_pref", reason),)))

    master = [HEADER]
    for route in sorted(served):
        shape, keys_served = served[route]
        name = shape.name
        if shape.concurrency is not None:
            main.append(f"{name}_destination_concurrency_limit = {shape.concurrency}")
        if shape.rate is not None:
            main += _rate_lines(name, shape.rate)
        each = [shape.concurrency or default.max_host_concurrency for _ in keys_served]
        master.append(f"{name} unix - - n - {max(1, sum(each))} smtp")
        options: list[str] = []
        if shape.messages is not None:
            options += _reuse_lines(shape.messages, option=True)
        if shape.ip is not None:
            how, family = _ip_word(shape.ip).split()
            option = "smtp_address_preference" if how == "prefer" else "inet_protocols"
            options.append(f"-o {option}={family}")
        master += [f"  {line}" for line in options]

    def text(lines: list[str]) -> bytes:
        return ("\n".join(lines) + "\n").encode("utf-8")

    files = {
        TLS_POLICY: text(policy),
        TRANSPORT: text(transport),
        MAIN_CF: text(main),
        MASTER_CF: text(master),
    }
    return Export(files, lost)


def written_here(data: bytes) -> bool:
    """Whether a file's first line says this program wrote it (so an export may replace it)."""
    return data.split(b"\n", 1)[0] == HEADER.encode()


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Line:
    number: int
    text: str


def _logical_lines(text: str) -> list[_Line]:
    """Postfix's logical lines: one starts at non-space text, an indented line continues it.

    Comment lines and blank lines are kept as they are (a comment never continues).
    """
    lines: list[_Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(_Line(number, stripped))
        elif raw[0] in " \t" and lines and lines[-1].text and not lines[-1].text.startswith("#"):
            lines[-1].text += " " + stripped
        else:
            lines.append(_Line(number, stripped))
    return lines


@dataclass
class _Files:
    """The four files' logical lines, and the problems found in them, by file."""

    lines: dict[str, list[_Line]] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    def live(self, name: str) -> list[_Line]:
        """The lines Postfix reads in file *name*: neither blank nor a comment."""
        return [line for line in self.lines.get(name, []) if line.text and line.text[0] != "#"]

    def problem(self, name: str, line: int | None, reason: str) -> None:
        self.problems.setdefault(name, []).append(Problem(line, reason))


class PostfixError(Exception):
    """Problems in the files, by file name: nothing was imported."""

    def __init__(self, problems: dict[str, list[Problem]]) -> None:
        super().__init__("; ".join(p.reason for each in problems.values() for p in each))
        self.problems = problems


@dataclass
class Views:
    """What the files say: for each destination named in a map, and for the default."""

    default: View
    keys: dict[str, View]
    lines: dict[str, int]  # the policy or transport line that first names a key
    notes: list[str]  # what the reader did not take (other transports, unknown parameters)


_PARAMETER = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
_SECONDS = re.compile(r"(\d+)([smhdw]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_POLICIES = frozenset(
    {"none", "may", "encrypt", "verify", "secure", "dane", "dane-only", "fingerprint"}
)


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def _seconds(text: str) -> int | None:
    found = _SECONDS.fullmatch(text)
    if found is None or len(found.group(1)) > 10:
        return None
    return int(found.group(1)) * _UNIT[found.group(2)]


def _key(text: str, name: str, line: int, files: _Files) -> str | None:
    try:
        return normalise(text)
    except InvalidDestination:
        files.problem(name, line, f"{quote(text)} is not a destination")
        return None


def read_views(files: _Files) -> Views:
    """The Postfix meaning of the files' live lines (comments aside)."""
    params: dict[str, tuple[str, int]] = {}
    for line in files.live(MAIN_CF):
        found = _PARAMETER.fullmatch(line.text)
        if found is None:
            files.problem(MAIN_CF, line.number, "not a name = value line")
            continue
        params[found.group(1)] = (found.group(2).strip(), line.number)

    def number(name: str, where: str = MAIN_CF) -> int | None:
        if name not in params:
            return None
        value, at = params[name]
        read = _number(value)
        if read is None:
            files.problem(where, at, f"{name}: {quote(value)} is not a number")
        return read

    def rate(prefix: str) -> tuple[int, int] | None:
        name = f"{prefix}_destination_rate_delay"
        if name not in params:
            return None
        value, at = params[name]
        seconds = _seconds(value)
        if seconds is None:
            files.problem(MAIN_CF, at, f"{name}: {quote(value)} is not a time")
            return None
        if seconds == 0:
            return None
        per = number(f"{prefix}_destination_recipient_limit") or 50  # Postfix's default
        return per, seconds

    clones: dict[str, View] = {}
    for line in files.live(MASTER_CF):
        words = line.text.split()
        if len(words) < 8:
            files.problem(MASTER_CF, line.number, "not a service entry (8 fields and options)")
            continue
        name, command = words[0], words[7]
        if command != "smtp":
            continue
        options: dict[str, str] = {}
        rest = words[8:]
        while rest:
            if rest[0] == "-o" and len(rest) > 1 and "=" in rest[1]:
                option, _, value = rest[1].partition("=")
                options[option] = value
                rest = rest[2:]
            else:
                rest = rest[1:]
        messages = None
        if options.get("smtp_connection_cache_on_demand") == "no":
            messages = 1
        elif "smtp_connection_reuse_count_limit" in options:
            count = _number(options["smtp_connection_reuse_count_limit"])
            if count is None:
                files.problem(
                    MASTER_CF, line.number, "smtp_connection_reuse_count_limit is not a number"
                )
            else:
                messages = count + 1
        ip = None
        if "inet_protocols" in options:
            ip = f"require {options['inet_protocols']}"
        elif "smtp_address_preference" in options:
            ip = f"prefer {options['smtp_address_preference']}"
        clones[name] = View(
            concurrency=number(f"{name}_destination_concurrency_limit"),
            messages=messages,
            rate=rate(name),
            ip=ip,
        )

    notes: list[str] = []
    keys: dict[str, View] = {}
    first: dict[str, int] = {}
    for line in files.live(TLS_POLICY):
        words = line.text.split()
        if len(words) < 2:
            files.problem(TLS_POLICY, line.number, "a policy line is a destination and a policy")
            continue
        if words[1] not in _POLICIES:
            files.problem(TLS_POLICY, line.number, f"unknown TLS policy {quote(words[1])}")
            continue
        key = _key(words[0], TLS_POLICY, line.number, files)
        if key is None:
            continue
        keys[key] = replace(keys.get(key, View()), tls=" ".join(words[1:]))
        first.setdefault(key, line.number)
    for line in files.live(TRANSPORT):
        words = line.text.split()
        if len(words) != 2 or ":" not in words[1]:
            files.problem(
                TRANSPORT, line.number, "a transport line is a destination and transport:nexthop"
            )
            continue
        key = _key(words[0], TRANSPORT, line.number, files)
        if key is None:
            continue
        service, _, nexthop = words[1].partition(":")
        first.setdefault(key, line.number)
        if nexthop:
            notes.append(
                f"{TRANSPORT} line {line.number}: {key}: the next hop {quote(nexthop)} is not kept"
            )
        view = keys.get(key, View())
        if service in clones:
            clone = clones[service]
            view = replace(
                view,
                concurrency=clone.concurrency,
                messages=clone.messages,
                rate=clone.rate,
                ip=clone.ip,
                routed=True,
            )
        elif service in _PLAIN_TRANSPORTS:
            view = replace(view, routed=True)
        else:
            notes.append(
                f"{TRANSPORT} line {line.number}: {key}: the transport {quote(service)} is not kept"
            )
        keys[key] = view

    default_messages = None
    if params.get("smtp_connection_cache_on_demand", ("",))[0] == "no":
        default_messages = 1
    elif "smtp_connection_reuse_count_limit" in params:
        count = number("smtp_connection_reuse_count_limit")
        default_messages = None if count is None else count + 1
    level = params.get("smtp_tls_security_level", ("",))[0] or None
    if level is not None and level not in _POLICIES:
        files.problem(
            MAIN_CF, params["smtp_tls_security_level"][1], f"unknown TLS level {quote(level)}"
        )
        level = None
    if level == "verify":
        level = f"verify match={settings.POSTFIX_VERIFY_MATCH}"
    preference = params.get("smtp_address_preference", ("",))[0]
    default = View(
        tls=level,
        concurrency=number("default_destination_concurrency_limit"),
        messages=default_messages,
        rate=rate("default"),
        ip=f"prefer {preference}" if preference in ("ipv4", "ipv6") else None,
    )
    return Views(default, keys, first, notes)


def _split(data: Mapping[str, bytes | None]) -> _Files:
    files = _Files()
    for name in FILES:
        raw = data.get(name)
        if raw is None:
            continue
        try:
            files.lines[name] = _logical_lines(decoded(raw))
        except FormatError as error:
            files.problems[name] = list(error.problems)
    return files


# From what Postfix says back to the table's values (approximately where Postfix says less).

_TLS_BACK = {
    "none": Tls.NO,
    "may": Tls.PREFERRED,
    "encrypt": Tls.REQUIRED,
    "verify": Tls.REQUIRED_VERIFY_HOSTED,
    "secure": Tls.REQUIRED_VERIFY_HOSTED,
    "dane": Tls.PREFERRED,
    "dane-only": Tls.REQUIRED_VERIFY_HOSTED,
    "fingerprint": Tls.REQUIRED_VERIFY_HOSTED,
}
_IP_BACK = {
    "prefer ipv4": IpSort.PREFER_V4,
    "prefer ipv6": IpSort.PREFER_V6,
    "require ipv4": IpSort.REQUIRE_V4,
    "require ipv6": IpSort.REQUIRE_V6,
}


def recipients_of(rate: tuple[int, int]) -> tuple[int, int]:
    """A recipient limit and its minutes for *rate* (recipients per delivery, seconds between):
    the shortest period whose limit is whole, else 60 minutes rounded down."""
    per, seconds = rate
    for minutes in range(1, 61):
        if (per * 60 * minutes) % seconds == 0:
            return per * 60 * minutes // seconds, minutes
    return max(1, per * 3600 // seconds), 60


def _values(view: View) -> dict[str, Any]:
    """The table's values for what *view* says (``None`` where it says nothing)."""
    values: dict[str, Any] = {}
    if view.tls is not None:
        values["tls"] = _TLS_BACK[view.tls.split()[0]]
    if view.concurrency is not None:
        values["max_host_concurrency"] = min(max(view.concurrency, 1), 1000)
    if view.messages is not None:
        values["max_messages_per_connection"] = min(max(view.messages, 1), 1000)
    if view.rate is not None:
        values["recipient_limit"], values["recipient_minutes"] = recipients_of(view.rate)
    if view.ip is not None and view.ip in _IP_BACK:
        values["ip_sort_pref"] = _IP_BACK[view.ip]
    return values


_ASPECTS = {  # a View's field, and the settings it carries
    "tls": ("tls",),
    "concurrency": ("max_host_concurrency",),
    "messages": ("max_messages_per_connection",),
    "rate": ("recipient_limit", "recipient_minutes"),
    "ip": ("ip_sort_pref",),
}


@dataclass(frozen=True)
class Imported:
    table: Table
    warnings: list[str]
    whole: bool  # the comments carried the settings: the whole configuration


def _comments(files: _Files) -> tuple[dict[str, tuple[Any, int]], dict[str, tuple[Any, int]]]:
    """The ``# destconfig`` comments: the entries' (tls_policy) and the rest's (main.cf)."""

    def read(name: str) -> dict[str, tuple[Any, int]]:
        found: dict[str, tuple[Any, int]] = {}
        for line in files.lines.get(name, []):
            if not line.text.startswith(MARK):
                continue
            key, _, data = line.text[len(MARK) :].partition(" ")
            try:
                found[key] = (json.loads(data), line.number)
            except ValueError:
                files.problem(name, line.number, "the destconfig comment is not JSON")
        return found

    return read(TLS_POLICY), read(MAIN_CF)


@without_gc
def parse(data: Mapping[str, bytes | None], directory: str = "") -> Imported:
    """The table the files hold; :class:`PostfixError` naming each problem's file and line."""
    files = _split(data)
    if TLS_POLICY not in files.lines and TRANSPORT not in files.lines and not files.problems:
        files.problem(TLS_POLICY, None, "neither tls_policy nor transport is there")
    entry_notes, table_notes = _comments(files)
    whole = "settings" in table_notes
    warnings: list[str] = []
    if entry_notes or DEFAULT_KEY in table_notes:
        table = _from_comments(entry_notes, table_notes, files)
        if files.problems:
            raise PostfixError(files.problems)
        expected = render(table, directory).files
        if all(_unedited(name, data.get(name), expected[name]) for name in FILES):
            return Imported(table, warnings, whole)  # as exported: the comments say it all
        live = read_views(files)
        if files.problems:
            raise PostfixError(files.problems)
        warnings += live.notes
        table = _live_wins(table, live, read_views(_split(expected)), warnings)
    else:
        live = read_views(files)
        if files.problems:
            raise PostfixError(files.problems)
        warnings += live.notes
        table = _approximate(live, files, warnings)
    if files.problems:
        raise PostfixError(files.problems)
    return Imported(table, warnings, whole)


def _model(kind: type[Any], data: Any, name: str, line: int | None, files: _Files) -> Any:
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            files.problem(name, line, f"{where}: {message}" if where else message)
        return None


def _from_comments(
    entry_notes: dict[str, tuple[Any, int]], table_notes: dict[str, tuple[Any, int]], files: _Files
) -> Table:
    entries: dict[str, Entry] = {}
    for written, (data, line) in entry_notes.items():
        key = _key(written, TLS_POLICY, line, files)
        entry = _model(Entry, data, TLS_POLICY, line, files)
        if key is not None and entry is not None:
            entries[key] = entry
    document: dict[str, Any] = {"entries": entries}
    for name in ("settings", "certificates", "bounce_profiles"):
        if name in table_notes:
            document[name] = table_notes[name][0]
    default = table_notes.get(DEFAULT_KEY)
    if default is not None:
        document["default"] = _model(DefaultEntry, default[0], MAIN_CF, default[1], files)
    if files.problems:
        return Table()
    profiles = {entry.bounce_profile for entry in entries.values()} - {None}
    document["bounce_profiles"] = sorted(set(document.get("bounce_profiles", ())) | profiles)
    table = _model(Table, document, MAIN_CF, None, files)
    return table if table is not None else Table()


_MAP_PARAMETERS = (b"smtp_tls_policy_maps = ", b"transport_maps = ")


def _unedited(name: str, found: bytes | None, expected: bytes) -> bool:
    """Whether a file is as the export of its comments writes it (main.cf: wherever its
    maps are, since the directory may have moved)."""
    if found is None:
        return name in (MAIN_CF, MASTER_CF)
    if name != MAIN_CF:
        return found == expected

    def kept(data: bytes) -> list[bytes]:
        return [line for line in data.split(b"\n") if not line.startswith(_MAP_PARAMETERS)]

    return kept(found) == kept(expected)


def _live_wins(table: Table, live: Views, expected: Views, warnings: list[str]) -> Table:
    """*table* (from the comments) with each setting whose live line says otherwise than
    the *expected* lines taken from the line, and a warning for each."""
    entries = dict(table.entries)
    for key in sorted(set(expected.keys) | set(live.keys)):
        said, found = expected.keys.get(key, View()), live.keys.get(key, View())
        if said == found:
            continue
        where = f"line {live.lines[key]}: " if key in live.lines else ""
        values = dict(entries[key]) if key in entries else {}
        new = _values(found)
        for aspect, names in _ASPECTS.items():
            if getattr(said, aspect) == getattr(found, aspect):
                continue
            for name in names:
                values[name] = new.get(name)
            warnings.append(
                f"{where}{key}: {names[0]}: the Postfix line differs from its comment; "
                "the line is taken"
            )
        entry = Entry.model_validate(settle_limits(values))
        entries[key] = entry
    default_values = dict(table.default)
    new = _values(live.default)
    for aspect, names in _ASPECTS.items():
        if getattr(expected.default, aspect) == getattr(live.default, aspect):
            continue
        for name in names:
            if name in new:
                default_values[name] = new[name]
            elif name in RECIPIENT_PAIR:  # the only ones the default entry may lack
                default_values[name] = None
        warnings.append(
            f"{MAIN_CF}: {DEFAULT_KEY}: {names[0]}: the parameter differs from its comment; "
            "the parameter is taken"
        )
    default = DefaultEntry.model_validate(default_values)
    result: Table = table.model_copy(update={"entries": entries, "default": default})
    return result


def _approximate(live: Views, files: _Files, warnings: list[str]) -> Table:
    """A hand-written configuration: each setting its lines say, with a warning for each."""
    entries: dict[str, Entry] = {}
    for key in sorted(live.keys):
        values = _values(live.keys[key])
        line = live.lines.get(key)
        for name in values:
            if name != "recipient_minutes":
                warnings.append(f"line {line}: {key}: {name}: read approximately from Postfix")
        entry = _model(Entry, settle_limits(values), TRANSPORT, line, files)
        if entry is not None:
            entries[key] = entry
    default_values = dict(DefaultEntry())
    for name, value in _values(live.default).items():
        default_values[name] = value
        if name != "recipient_minutes":
            warnings.append(f"{MAIN_CF}: {DEFAULT_KEY}: {name}: read approximately from Postfix")
    default = _model(DefaultEntry, default_values, MAIN_CF, None, files)
    if default is None:
        return Table()
    return Table(entries=entries, default=default, settings=Settings())
