"""The table as a Postfix configuration: four files, written and read back.

``tls_policy`` and ``transport`` are map sources (postmap(1) input), ``main.cf``
holds ``name = value`` lines for ``postconf -e``, ``master.cf`` the smtp clones
that carry the entries' limits. Postfix looks a domain up, then each ``.parent``
nearest first, and an ``[address]`` once: the table's own order, with one trap
handled here (an entry left at Default under a pattern gets a line of its own
with the default entry's value, or Postfix would apply the pattern's). An IPv6
address is keyed as Postfix looks a recipient's address literal up, ``[ipv6:...]``.
Every main.cf parameter an export may write is written by each export (at Postfix's
own value where the table sets nothing): ``postconf -e`` never removes one.

Each entry's exact values travel in a comment, ``# destconfig KEY {json}``, in
``tls_policy`` (and the default entry's, the settings' and the profiles' in
``main.cf``), so that an export reads back as the identical table. What Postfix
lines say is read by one reader, :func:`read_views`, used three ways: to import a
hand-written configuration (approximately, with a warning for each setting), to
find where an administrator edited a line against its comment (the line wins),
and, on this module's own output, by the tests that hold the writer to the reader.

What a setting loses in Postfix is worded in the catalogue
(:data:`destconfig.settings.Mta`), a recipient limit's here (:func:`rate_loss`), beside
the delay it becomes; the writer reports each loss once per entry.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from pydantic import ValidationError

from destconfig import settings
from destconfig.destinations import InvalidDestination, is_address, normalise
from destconfig.formats import limits
from destconfig.formats.problems import FormatError, Problem, decoded, quote, too_many_entries
from destconfig.gcpause import without_gc
from destconfig.model import (
    FACTORY_DEFAULT,
    RECIPIENT_PAIR,
    Dane,
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
NESTED_COMMENT = "the destconfig comment is nested too deeply"
HEADER = "# Written by destconfig export --format postfix; the next export replaces this file."
MARK = "# destconfig "
DEFAULT_KEY = "(Default)"
MAP_TYPES = ("hash", "lmdb", "cdb", "btree", "texthash")
CLONE_PREFIX = "dc_"
FAILED_COHORT_LIMIT = 10  # with a rate delay, one failure must not suspend the destination
_PLAIN_TRANSPORTS = frozenset({"smtp"})  # what the default entry's mail goes through
_IPV6_TAG = "ipv6:"  # an IPv6 address literal's tag, RFC 5321's "IPv6:" as Postfix folds it


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


def _tls_word(tls: Tls, dane: Dane = Dane.NO) -> str:
    word = settings.postfix_policy(tls, dane)
    return f"{word} match={settings.POSTFIX_VERIFY_MATCH}" if word == "verify" else word


MOST_PER_DELIVERY = 50  # Postfix's own default_destination_recipient_limit
_LOSE_PER_DELIVERY = 2  # one recipient per delivery would make Postfix count per recipient


@functools.cache
def rate_of(limit: int, minutes: int) -> tuple[int, int]:
    """Recipients per delivery R and the whole seconds d between deliveries for *limit*
    recipients per *minutes*, so that no window of *minutes* holds more than *limit*.

    Postfix waits d seconds after each delivery ends before the next begins (a rate
    delay makes the concurrency 1), so any window of T seconds meets at most
    ``T // d + 1`` deliveries, each of at most R recipients: the delay is the shortest
    with ``(T // d + 1) * 2 <= limit``, then R the most (up to Postfix's default of 50)
    that this delay still holds. A limit of 1 cannot be held (R is at least 2): one
    delivery of 2 in each window of twice the period.
    """
    seconds = 60 * minutes
    if limit < _LOSE_PER_DELIVERY:
        return _LOSE_PER_DELIVERY, 2 * seconds
    delay = seconds // (limit // _LOSE_PER_DELIVERY) + 1
    per = min(MOST_PER_DELIVERY, limit // (seconds // delay + 1))
    return per, delay


@functools.cache
def rate_loss(limit: int, minutes: int) -> str | None:
    """What a recipient limit becomes on Postfix, worded as exactly what is guaranteed."""
    if limit == 0:
        return _loss_of("recipient_limit", (limit, minutes))
    per, delay = rate_of(limit, minutes)
    period = "minute" if minutes == 1 else f"{minutes} minutes"
    deliveries = 60 * minutes // delay + 1
    held = (
        f"never more than {limit} recipients in any {period}"
        if limit >= _LOSE_PER_DELIVERY
        else f"a limit of 1 cannot be held: up to {per} recipients in any {period}"
    )
    plural = "delivery" if deliveries == 1 else "deliveries"
    return (
        f"{held}, as deliveries of at most {per} recipients each {delay} s after the last "
        f"ended (at most {deliveries} {plural} in any {period}); a rate delay makes the "
        "concurrency 1"
    )


def map_key(key: str) -> str:
    """The map key Postfix looks a table key up by: an IPv6 address as the recipient's
    domain literal has it, ``[ipv6:2001:db8::1]`` (the maps fold case)."""
    return f"[{_IPV6_TAG}{key[1:]}" if key[0] == "[" and ":" in key else key


def _ip_word(sort: IpSort) -> str:
    how, family = sort.value.lower().split("_v")
    return f"{how} ipv{family}"


class _Shape(NamedTuple):
    """The limits an entry sets itself: entries with the same shape share an smtp clone."""

    concurrency: int | None
    messages: int | None
    rate: tuple[int, int] | None
    ip: IpSort | None

    @classmethod
    def of(cls, entry: Entry) -> _Shape | None:
        return _shape(
            entry.max_host_concurrency,
            entry.max_messages_per_connection,
            entry.recipient_limit,
            entry.recipient_minutes,
            entry.ip_sort_pref,
        )

    @property
    def name(self) -> str:
        return _clone_name(self)


def _shape(
    concurrency: int | None,
    messages: int | None,
    limit: int | None,
    minutes: int | None,
    ip: IpSort | None,
) -> _Shape | None:
    """The shape of these limits, ``None`` when they set none."""
    rate = rate_of(limit, minutes) if limit and minutes else None  # 0 cannot be said: a loss
    if concurrency is None and messages is None and rate is None and ip is None:
        return None
    return _Shape(concurrency, messages, rate, ip)


@functools.cache
def _clone_name(shape: _Shape) -> str:
    """A name that says the shape (stable from export to export)."""
    parts = []
    if shape.concurrency is not None:
        parts.append(f"c{shape.concurrency}")
    if shape.messages is not None:
        parts.append(f"m{shape.messages}")
    if shape.rate is not None:
        parts.append(f"r{shape.rate[0]}per{shape.rate[1]}s")
    if shape.ip is not None:
        how, family = shape.ip.value.lower().split("_v")
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


# Postfix's own values of the main.cf parameters an export owns, written where the
# table sets nothing: ``postconf -e`` never removes a parameter, so an earlier export's
# value would otherwise stay in force.
NEUTRAL = {
    "smtp_tls_verify_cert_match": "hostname",
    "smtp_connection_cache_on_demand": "yes",
    "smtp_connection_reuse_count_limit": "0",
    "smtp_tls_connection_reuse": "no",
    "default_destination_rate_delay": "0s",
    "default_destination_recipient_limit": "50",
    "default_destination_concurrency_failed_cohort_limit": "1",
    "smtp_address_preference": "any",
}


def _reuse_pairs(messages: int) -> list[tuple[str, str]]:
    """The smtp(8) settings of a messages-per-connection limit."""
    if messages == 1:
        return [("smtp_connection_cache_on_demand", "no")]
    return [
        ("smtp_connection_reuse_count_limit", str(messages - 1)),
        ("smtp_tls_connection_reuse", "yes"),
    ]


def _rate_pairs(prefix: str, rate: tuple[int, int]) -> list[tuple[str, str]]:
    per, seconds = rate
    return [
        (f"{prefix}_destination_rate_delay", f"{seconds}s"),
        (f"{prefix}_destination_recipient_limit", str(per)),
        (f"{prefix}_destination_concurrency_failed_cohort_limit", str(FAILED_COHORT_LIMIT)),
    ]


_REQUIRE_REASON = (
    "inet_protocols in main.cf would change the whole instance: the line is written commented out"
)


def _default_lines(default: DefaultEntry, dnssec: bool = False) -> list[str]:
    """main.cf's parameters for the default entry: every one the export owns, each at
    the table's value or at Postfix's own (:data:`NEUTRAL`); with *dnssec* (an entry or
    the default uses DANE), the DNS support level DANE needs."""
    values = dict(NEUTRAL)
    values["smtp_tls_security_level"] = settings.postfix_policy(default.tls, default.dane)
    if values["smtp_tls_security_level"] == "verify":
        values["smtp_tls_verify_cert_match"] = "nexthop, hostname"
    values["default_destination_concurrency_limit"] = str(default.max_host_concurrency)
    values.update(_reuse_pairs(default.max_messages_per_connection))
    if default.recipient_limit and default.recipient_minutes:
        values.update(
            _rate_pairs("default", rate_of(default.recipient_limit, default.recipient_minutes))
        )
    how, family = _ip_word(default.ip_sort_pref).split()
    if how == "prefer":
        values["smtp_address_preference"] = family
    order = (
        "smtp_tls_security_level",
        "smtp_tls_verify_cert_match",
        "default_destination_concurrency_limit",
        "smtp_connection_cache_on_demand",
        "smtp_connection_reuse_count_limit",
        "smtp_tls_connection_reuse",
        "default_destination_rate_delay",
        "default_destination_recipient_limit",
        "default_destination_concurrency_failed_cohort_limit",
        "smtp_address_preference",
    )
    lines = [f"{name} = {values[name]}" for name in order]
    if dnssec:  # beside the TLS security level it serves
        lines.insert(1, settings.POSTFIX_DNSSEC)
    if how != "prefer":
        # inet_protocols would also change what the instance listens on: not written.
        lines.append(f"# inet_protocols = {family}")
    return lines


def _loss_of(name: str, value: Any) -> str | None:
    mta = settings.BY_NAME[name].mta
    return None if mta is None else mta.postfix_loss(value)


@functools.cache
def _loss(name: str, value: Any) -> str | None:
    """What Postfix loses of one value of a setting (worked out once per value): the
    catalogue's words, but a recipient limit's beside the delay it becomes."""
    if name == "recipient_limit":
        return rate_loss(*value)
    return _loss_of(name, value)


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


class _Written(NamedTuple):
    """What the lines of one entry's values are (entries with equal values share it)."""

    comment: str  # the JSON after the key
    tls: str | None  # the policy word, None at Default
    shape: _Shape | None
    losses: Pairs
    route: str  # the transport map's value, with a shape ("" without)

    @classmethod
    def of(cls, entry: Entry, default: DefaultEntry = FACTORY_DEFAULT) -> _Written:
        return _written(tuple(entry.__dict__.values()), default)


_FIELDS = tuple(Entry.model_fields)
# An entry's fields in two halves, the limits' first (a shape is worked out from those
# alone): tables repeat each half's values far more often than whole entries.
_SPLIT = 5
assert _FIELDS[:_SPLIT] == (  # in this order: _limits_half takes them apart so
    "ip_sort_pref",
    "max_host_concurrency",
    "max_messages_per_connection",
    "recipient_minutes",
    "recipient_limit",
)
assert _FIELDS[-2:] == ("tls", "dane")


class _Half(NamedTuple):
    members: str  # the comment's members, comma-separated
    losses: Pairs
    shape: _Shape | None  # the limits' half only
    route: str  # the limits' half only: the transport map's value, with a shape
    tls: str | None  # the other half only


_Halves = tuple[dict[tuple[Any, ...], _Half], dict[tuple[Any, ...], _Half]]


def _limits_half(values: tuple[Any, ...]) -> _Half:
    """The limits' half of the fields, a field at a time (tables have tens of thousands
    of distinct limits: this is much of a render's work); the recipient limit's loss is
    worded beside its minutes, and the shape is worked out from these alone."""
    ip, concurrency, messages, minutes, limit = values
    parts = []
    losses = []
    if ip is not None:
        member, reason = _member("ip_sort_pref", ip)
        parts.append(member)
        if reason is not None:
            losses.append(("ip_sort_pref", reason))
    if concurrency is not None:
        member, reason = _member("max_host_concurrency", concurrency)
        parts.append(member)
        if reason is not None:
            losses.append(("max_host_concurrency", reason))
    if messages is not None:
        member, reason = _member("max_messages_per_connection", messages)
        parts.append(member)
        if reason is not None:
            losses.append(("max_messages_per_connection", reason))
    if minutes is not None:
        member, reason = _member("recipient_minutes", minutes)
        parts.append(member)
        if reason is not None:
            losses.append(("recipient_minutes", reason))
    if limit is not None:
        parts.append(_member("recipient_limit", limit)[0])
        reason = _loss("recipient_limit", (limit, minutes))
        if reason is not None:
            losses.append(("recipient_limit", reason))
    shape = _shape(concurrency, messages, limit, minutes, ip)
    route = "" if shape is None else f"{_clone_name(shape)}:"
    return _Half(",".join(parts), tuple(losses), shape, route, None)


def _other_half(values: tuple[Any, ...], default: DefaultEntry) -> _Half:
    """The half of the fields after the limits; the TLS line's word when the entry sets
    TLS or DANE, of both as they apply."""
    parts = []
    losses = []
    for name, value in zip(_FIELDS[_SPLIT:], values, strict=True):
        if value is None:
            continue
        member, reason = _member(name, value)
        parts.append(member)
        if reason is not None:
            losses.append((name, reason))
    tls, dane = values[-2:]
    word = None
    if tls is not None or dane is not None:
        word = _tls_word(tls or default.tls, dane or default.dane)
    return _Half(",".join(parts), tuple(losses), None, "", word)


def _written(
    values: tuple[Any, ...], default: DefaultEntry, halves: _Halves | None = None
) -> _Written:
    """The lines of an entry's *values* (its fields in order), each half of them worked
    out once per *halves* (a render's, under one *default*: an entry setting only one of
    TLS and DANE takes the other from it); :func:`_written_plainly` says the same from the
    model and the catalogue, and the tests hold the two equal."""
    limits_halves, other_halves = halves if halves is not None else ({}, {})
    first, second = values[:_SPLIT], values[_SPLIT:]
    limits_half = limits_halves.get(first)
    if limits_half is None:
        limits_half = limits_halves[first] = _limits_half(first)
    other = other_halves.get(second)
    if other is None:
        other = other_halves[second] = _other_half(second, default)
    members = limits_half.members
    return _Written(
        f"{{{members},{other.members}}}"
        if members and other.members
        else f"{{{members}{other.members}}}",
        other.tls,
        limits_half.shape,
        limits_half.losses + other.losses,
        limits_half.route,
    )


def _written_plainly(entry: Entry, default: DefaultEntry = FACTORY_DEFAULT) -> _Written:
    """:func:`_written` of *entry* from its model's JSON and the catalogue's losses."""
    shape = _Shape.of(entry)
    return _Written(
        _compact(entry.model_dump(mode="json", exclude_none=True)),
        None
        if entry.tls is None and entry.dane is None
        else _tls_word(entry.tls or default.tls, entry.dane or default.dane),
        shape,
        _pairs(entry.__dict__),
        "" if shape is None else f"{shape.name}:",
    )


@functools.cache
def _member(name: str, value: Any) -> tuple[str, str | None]:
    """One value's member of the entry's JSON comment, and what Postfix loses of it."""
    if value is True or value is False:
        member = f'"{name}":{"true" if value else "false"}'
    elif isinstance(value, int):
        member = f'"{name}":{value}'
    else:  # a StrEnum formats as its value
        member = f'"{name}":"{value}"'
    reported = name in _REPORTED and name != "recipient_limit"
    return member, _loss(name, value) if reported else None


@functools.cache
def _pattern_losses(losses: Pairs, concurrency: int) -> Pairs:
    """A pattern's losses with what its concurrency loses to the smtp service's process
    limit, which every name under the pattern shares (in the one loss of the setting)."""
    shared = (
        f"the names under the pattern share the service's {concurrency} processes, where "
        f"the appliance allows {concurrency} connections to each"
    )
    found = dict(losses)
    name = "max_host_concurrency"
    found[name] = f"{found[name]}; {shared}" if name in found else shared
    return tuple(sorted(found.items(), key=lambda pair: _FIELDS.index(pair[0])))


@functools.cache
def _address_losses(losses: Pairs, dane: Dane) -> Pairs:
    """An address entry's losses with what its DANE loses there (no TLSA for an address
    literal), in place of the setting's own loss."""
    found = dict(losses)
    found["dane"] = settings.POSTFIX_ADDRESS_DANE_LOSSES[dane]
    return tuple(sorted(found.items(), key=lambda pair: _FIELDS.index(pair[0])))


@without_gc
def render(table: Table, directory: str, map_type: str = "hash") -> Export:
    """The four files for *table*, their maps in *directory* (an absolute path)."""
    default = table.default
    default_losses = _pairs(dict(default))
    if default.ip_sort_pref in (IpSort.REQUIRE_V4, IpSort.REQUIRE_V6):
        default_losses += (("ip_sort_pref", _REQUIRE_REASON),)
    lost: list[tuple[str, Pairs]] = [(DEFAULT_KEY, default_losses)] if default_losses else []
    keys = table.sorted_keys()
    entries = table.entries
    default_word = _tls_word(default.tls, default.dane)
    # Tables repeat a few sets of values many times: each is worked out once.
    known: dict[tuple[Any, ...], _Written] = {}
    halves: _Halves = ({}, {})

    def written(key: str) -> _Written:
        values = tuple(entries[key].__dict__.values())
        found = known.get(values)
        if found is None:
            found = known[values] = _written(values, default, halves)
        return found

    # The patterns whose own line Postfix would find for a name under them.
    patterns = [(key, written(key)) for key in keys if key[0] == "."]
    own_tls = {key for key, line in patterns if line.tls is not None}
    shaped = {key for key, line in patterns if line.shape is not None}

    policy = [HEADER]
    transport = [HEADER]
    served: dict[str, tuple[_Shape, list[str]]] = {}  # by the shape's transport
    for key in keys:
        values = tuple(entries[key].__dict__.values())
        line = known.get(values)
        if line is None:
            line = known[values] = _written(values, default, halves)
        comment, tls, shape, losses, route = line
        if key[0] == "." and shape is not None and shape.concurrency is not None:
            losses = _pattern_losses(losses, shape.concurrency)
        elif key[0] == "[":
            dane = entries[key].dane or default.dane
            if dane is not Dane.NO:
                losses = _address_losses(losses, dane)
        if losses:
            lost.append((key, losses))
        name = map_key(key) if key[0] == "[" else key  # an address has no pattern above it
        if tls is not None:
            policy.append(f"{MARK}{key} {comment}\n{name} {tls}")
        elif own_tls and not own_tls.isdisjoint(_ancestors(key)):
            policy.append(f"{MARK}{key} {comment}\n{key} {default_word}")  # not the pattern's
        else:
            policy.append(f"{MARK}{key} {comment}")
        if shape is not None:
            transport.append(f"{name} {route}")
            routed = served.get(route)
            if routed is None:
                served[route] = (shape, [key])
            else:
                routed[1].append(key)
        elif shaped and not shaped.isdisjoint(_ancestors(key)):
            transport.append(f"{key} smtp:")

    main = [
        HEADER,
        f"{MARK}{DEFAULT_KEY} {_compact(default.model_dump(mode='json', exclude_none=True))}",
        f"{MARK}settings {_compact(table.settings.model_dump(mode='json'))}",
        f"{MARK}certificates {_compact(list(table.certificates))}",
        f"{MARK}bounce_profiles {_compact(list(table.bounce_profiles))}",
        f"smtp_tls_policy_maps = {map_type}:{directory}/{TLS_POLICY}",
        f"transport_maps = {map_type}:{directory}/{TRANSPORT}",
        *_default_lines(
            default, settings.uses_dane([default_word, *(line.tls for line in known.values())])
        ),
    ]

    master = [HEADER]
    for route in sorted(served):
        shape, keys_served = served[route]
        name = shape.name
        if shape.concurrency is not None:
            main.append(f"{name}_destination_concurrency_limit = {shape.concurrency}")
        if shape.rate is not None:
            main += [f"{each} = {value}" for each, value in _rate_pairs(name, shape.rate)]
        each = shape.concurrency or default.max_host_concurrency
        master.append(f"{name} unix - - n - {each * len(keys_served)} smtp")
        options: list[str] = []
        if shape.messages is not None:
            options += [f"-o {each}={value}" for each, value in _reuse_pairs(shape.messages)]
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


@dataclass(slots=True)
class _Line:
    number: int
    text: str


_MAPS = (TLS_POLICY, TRANSPORT)
_LINES_PER_ENTRY = 8  # an export writes at most 5 lines of a file for one entry


def _logical_lines(text: str, name: str, files: _Files) -> tuple[list[_Line], list[_Line]]:
    """Postfix's logical lines of file *name* (one starts at non-space text, an indented
    line continues it; a comment or a blank line never continues), and its ``# destconfig``
    comments; other comments and blank lines are not kept.

    Bounded while reading: a file of more lines than :data:`_LINES_PER_ENTRY` times
    :data:`~limits.MAX_ENTRIES` is refused before any is read, and a map's reading stops
    at the first live line or comment beyond ``MAX_ENTRIES``, which is a problem.
    """
    most = limits.MAX_ENTRIES
    if text.count("\n") >= _LINES_PER_ENTRY * most:
        files.problem(name, None, f"the file has more than {_LINES_PER_ENTRY * most} lines")
        return [], []
    counted = name in _MAPS
    live: list[_Line] = []
    marks: list[_Line] = []
    continues = False  # whether an indented line continues the last live line
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] == "#":
            continues = False
            if stripped.startswith(MARK):
                marks.append(_Line(number, stripped))
                if counted and len(marks) > most:
                    files.problems.setdefault(name, []).append(too_many_entries(number))
                    break
        elif continues and raw[0] in " \t":
            live[-1].text += " " + stripped
        else:
            live.append(_Line(number, stripped))
            continues = True
            if counted and len(live) > most:
                files.problems.setdefault(name, []).append(too_many_entries(number))
                break
    return live, marks


@dataclass
class _Files:
    """The four files' logical lines and ``# destconfig`` comments, and the problems
    found in them, by file."""

    lines: dict[str, list[_Line]] = field(default_factory=dict)  # the live ones
    marks: dict[str, list[_Line]] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    def live(self, name: str) -> list[_Line]:
        """The lines Postfix reads in file *name*: neither blank nor a comment."""
        return self.lines.get(name, [])

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
    lines: dict[str, tuple[str, int]]  # the file and line that first names a key
    notes: list[str]  # what the reader did not take (other transports, unknown parameters)
    parameter_lines: dict[str, int] = field(default_factory=dict)  # main.cf's, by View field


_PARAMETER = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
_SECONDS = re.compile(r"(\d+)([smhdw]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_POLICIES = frozenset(
    {"none", "may", "encrypt", "verify", "secure", "dane", "dane-only", "fingerprint"}
)


_ATTRIBUTES = frozenset(
    {
        "ciphers",
        "connection_reuse",
        "enable_rpk",
        "exclude",
        "match",
        "protocols",
        "servername",
        "tafile",
    }
)
"""The attributes a policy line may have after its policy (postconf(5), smtp_tls_policy_maps)."""


def _unknown_attributes(words: list[str]) -> list[str]:
    """The words after a policy line's policy that are not ``name=value`` of a known name."""
    return [word for word in words if "=" not in word or word.split("=")[0] not in _ATTRIBUTES]


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def _seconds(text: str) -> int | None:
    found = _SECONDS.fullmatch(text)
    if found is None or len(found.group(1)) > 10:
        return None
    return int(found.group(1)) * _UNIT[found.group(2)]


def _key(text: str, name: str, line: int, files: _Files) -> str | None:
    """The table key of a map key (``[ipv6:...]`` read as the address it tags)."""
    if text[:1] == "[" and text[1 : 1 + len(_IPV6_TAG)].lower() == _IPV6_TAG:
        text = "[" + text[1 + len(_IPV6_TAG) :]
    try:
        return normalise(text)
    except InvalidDestination:
        files.problem(name, line, f"{quote(text)} is not a destination")
        return None


def _duplicate(name: str, line: int, key: str, kept: int) -> str:
    """The note on a map's second line for a key: postmap keeps the first (and warns)."""
    return f"{name} line {line}: {key}: a second line for the destination; line {kept} is taken"


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
            elif count:  # 0: Postfix sets no limit
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
    first: dict[str, tuple[str, int]] = {}
    policy_lines: dict[str, int] = {}
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
        if key in policy_lines:  # postmap keeps the first line of a key
            notes.append(_duplicate(TLS_POLICY, line.number, key, policy_lines[key]))
            continue
        policy_lines[key] = line.number
        for word in _unknown_attributes(words[2:]):
            notes.append(
                f"{TLS_POLICY} line {line.number}: {key}: {quote(word)} is not an attribute "
                "Postfix knows; it is not kept"
            )
        keys[key] = View(tls=" ".join(words[1:]))
        first[key] = (TLS_POLICY, line.number)
    routed_lines: dict[str, int] = {}
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
        if key in routed_lines:
            notes.append(_duplicate(TRANSPORT, line.number, key, routed_lines[key]))
            continue
        routed_lines[key] = line.number
        service, _, nexthop = words[1].partition(":")
        first.setdefault(key, (TRANSPORT, line.number))
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
        default_messages = count + 1 if count else None  # 0: Postfix sets no limit
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
    parameter_lines = {}
    for aspect, names in _DEFAULT_PARAMETERS.items():
        at = [params[name][1] for name in names if name in params]
        if at:
            parameter_lines[aspect] = at[0]
    return Views(default, keys, first, notes, parameter_lines)


_DEFAULT_PARAMETERS = {  # a View field of the default, and the parameters saying it (first)
    "tls": ("smtp_tls_security_level",),
    "concurrency": ("default_destination_concurrency_limit",),
    "messages": ("smtp_connection_reuse_count_limit", "smtp_connection_cache_on_demand"),
    "rate": ("default_destination_recipient_limit", "default_destination_rate_delay"),
    "ip": ("smtp_address_preference",),
}


def _split(data: Mapping[str, bytes | None]) -> _Files:
    files = _Files()
    for name in FILES:
        raw = data.get(name)
        if raw is None:
            continue
        try:
            text = decoded(raw)
        except FormatError as error:
            files.problems[name] = list(error.problems)
            continue
        files.lines[name], files.marks[name] = _logical_lines(text, name, files)
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
    """The recipient limit and its minutes that *rate* (recipients per delivery, seconds
    between deliveries) holds, as :func:`rate_of` counts: over the fewest whole minutes
    that take in one delay (at most 60), the most recipients any window of them meets."""
    per, seconds = rate
    minutes = min(60, max(1, -(-seconds // 60)))
    return (60 * minutes // seconds + 1) * per, minutes


def _values(view: View, inherited: Dane = Dane.NO) -> dict[str, Any]:
    """The table's values for what *view* says (``None`` where it says nothing); DANE where
    it differs from *inherited*."""
    values: dict[str, Any] = {}
    if view.tls is not None:
        values["tls"] = _TLS_BACK[view.tls.split()[0]]
        dane = settings.postfix_dane(view.tls)
        if dane is not inherited:
            values["dane"] = dane
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
    "tls": ("tls", "dane"),
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
        for line in files.marks.get(name, []):
            key, _, data = line.text[len(MARK) :].partition(" ")
            try:
                found[key] = (json.loads(data), line.number)
            except ValueError:  # not JSON, or a number of more digits than Python converts
                files.problem(name, line.number, "the destconfig comment is not JSON")
            except RecursionError:
                files.problem(name, line.number, NESTED_COMMENT)
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
        expected_views = read_views(_split(expected))
        table = _live_wins(table, live, expected_views, warnings, files, directory)
    else:
        live = read_views(files)
        if files.problems:
            raise PostfixError(files.problems)
        warnings += live.notes
        table = _approximate(live, files, warnings)
    if files.problems:
        raise PostfixError(files.problems)
    return Imported(table, warnings, whole)


def _model(
    kind: type[Any], data: Any, name: str, line: int | None, files: _Files, subject: str = ""
) -> Any:
    """*data* validated as *kind*, or ``None`` with each reason a problem on *line* of
    file *name* (each prefixed with *subject*)."""
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            files.problem(name, line, subject + (f"{where}: {message}" if where else message))
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


def _where(live: Views, key: str) -> tuple[str, int | None]:
    """The file and line that first name *key* (tls_policy's, with no line for it)."""
    return live.lines.get(key, (TLS_POLICY, None))


def _live_wins(
    table: Table, live: Views, expected: Views, warnings: list[str], files: _Files, directory: str
) -> Table:
    """*table* (from the comments) with each setting whose live line says otherwise than
    the *expected* lines taken from the line, and a warning for each naming the file and
    line; a value the table cannot hold is a problem on that line.

    The default entry is read first: where it changed, the entries' lines are compared
    with what the table with the new default entry writes, so that a line written for an
    entry left at Default (the default entry's TLS, under a pattern) now holds its own
    value, which Postfix keeps applying.
    """
    default_warnings: list[str] = []
    default = _live_default(table.default, live, expected, default_warnings, files)
    if default is not None and default != table.default:
        moved = table.model_copy(update={"default": default})
        expected = read_views(_split(render(moved, directory).files))
    entries = dict(table.entries)
    for key in sorted(set(expected.keys) | set(live.keys)):
        said, found = expected.keys.get(key, View()), live.keys.get(key, View())
        if said == found:
            continue
        name, line = _where(live, key)
        where = f"{name} line {line}: " if line is not None else ""
        values = dict(entries[key]) if key in entries else {}
        new = _values(found, table.default.dane)
        for aspect, names in _ASPECTS.items():
            if getattr(said, aspect) == getattr(found, aspect):
                continue
            for each in names:
                values[each] = new.get(each)
            warnings.append(
                f"{where}{key}: {names[0]}: the Postfix line differs from its comment; "
                "the line is taken"
            )
        entry = _model(Entry, settle_limits(values), name, line, files, f"{key}: ")
        if entry is not None:
            entries[key] = entry
    warnings += default_warnings
    if default is None:  # a problem: nothing is imported
        return table
    result: Table = table.model_copy(update={"entries": entries, "default": default})
    return result


def _live_default(
    default: DefaultEntry, live: Views, expected: Views, warnings: list[str], files: _Files
) -> DefaultEntry | None:
    """*default* with each setting whose main.cf parameter says otherwise taken from it."""
    default_values = dict(default)
    new = _values(live.default, default.dane)
    line = None
    for aspect, names in _ASPECTS.items():
        if getattr(expected.default, aspect) == getattr(live.default, aspect):
            continue
        for each in names:
            if each in new:
                default_values[each] = new[each]
            elif each in RECIPIENT_PAIR:  # the only ones the default entry may lack
                default_values[each] = None
        at = live.parameter_lines.get(aspect)
        line = line if at is None or (line is not None and line < at) else at
        where = f"{MAIN_CF} line {at}" if at is not None else MAIN_CF
        warnings.append(
            f"{where}: {DEFAULT_KEY}: {names[0]}: the parameter differs from its comment; "
            "the parameter is taken"
        )
    found: DefaultEntry | None = _model(
        DefaultEntry, default_values, MAIN_CF, line, files, f"{DEFAULT_KEY}: "
    )
    return found


def _approximate(live: Views, files: _Files, warnings: list[str]) -> Table:
    """A hand-written configuration: each setting its lines say, with a warning for each."""
    entries: dict[str, Entry] = {}
    for key in sorted(live.keys):
        values = _values(live.keys[key], settings.postfix_dane(live.default.tls))
        file, line = _where(live, key)
        for name in values:
            if name != "recipient_minutes":
                at = file if line is None else f"{file} line {line}"
                warnings.append(f"{at}: {key}: {name}: read approximately from Postfix")
        entry = _model(Entry, settle_limits(values), file, line, files, f"{key}: ")
        if entry is not None:
            entries[key] = entry
    default_values = dict(DefaultEntry())
    for name, value in _values(live.default).items():
        default_values[name] = value
        if name != "recipient_minutes":
            warnings.append(f"{MAIN_CF}: {DEFAULT_KEY}: {name}: read approximately from Postfix")
    default = _model(DefaultEntry, default_values, MAIN_CF, None, files, f"{DEFAULT_KEY}: ")
    if default is None:
        return Table()
    return Table(entries=entries, default=default, settings=Settings())
