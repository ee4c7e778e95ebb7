"""Hypothesis strategies for valid tables."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from destconfig.destinations import normalise
from destconfig.model import (
    FACTORY_DEFAULT,
    Dane,
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Settings,
    Table,
    Tls,
)

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_tld = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
_name = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3), _tld
)
_ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
_ipv6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
_unicode_name = st.sampled_from(["bücher.example", "пример.рф", "例え.jp", "faß.de"])

destinations = st.one_of(
    _name, _name.map(lambda name: "." + name), _ipv4, _ipv6, _unicode_name
).map(normalise)

profile_names = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}", fullmatch=True).filter(
    lambda name: name.lower() != "default"
)


def _optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), strategy)


@st.composite
def entries(draw: st.DrawFn, profiles: list[str], default: DefaultEntry = FACTORY_DEFAULT) -> Entry:
    """An entry valid under *default*: where the TLS that applies is No, so is the DANE."""
    concurrency = draw(_optional(st.integers(1, 1000)))
    recipients = draw(_optional(st.tuples(st.integers(0, 1_000_000_000), st.integers(1, 60))))
    limited = concurrency is not None or recipients is not None
    tls = draw(_optional(st.sampled_from(Tls)))
    dane = draw(_optional(st.sampled_from(Dane)))
    if (default.tls if tls is None else tls) is Tls.NO and (
        default.dane if dane is None else dane
    ) is not Dane.NO:
        dane = Dane.NO
    return Entry(
        ip_sort_pref=draw(_optional(st.sampled_from(IpSort))),
        max_host_concurrency=concurrency,
        max_messages_per_connection=draw(_optional(st.integers(1, 1000))),
        recipient_limit=None if recipients is None else recipients[0],
        recipient_minutes=None if recipients is None else recipients[1],
        limit_type=draw(st.sampled_from(LimitType)) if limited else None,
        limit_apply=draw(st.sampled_from(LimitApply)) if limited else None,
        bounce_validation=draw(_optional(st.booleans())),
        bounce_profile=draw(_optional(st.sampled_from(profiles))) if profiles else None,
        tls=tls,
        dane=dane,
    )


@st.composite
def default_entries(draw: st.DrawFn) -> DefaultEntry:
    recipients = draw(_optional(st.tuples(st.integers(0, 1_000_000_000), st.integers(1, 60))))
    tls = draw(st.sampled_from(Tls))
    return DefaultEntry(
        ip_sort_pref=draw(st.sampled_from(IpSort)),
        max_host_concurrency=draw(st.integers(1, 1000)),
        max_messages_per_connection=draw(st.integers(1, 1000)),
        recipient_limit=None if recipients is None else recipients[0],
        recipient_minutes=None if recipients is None else recipients[1],
        limit_type=draw(st.sampled_from(LimitType)),
        limit_apply=draw(st.sampled_from(LimitApply)),
        bounce_validation=draw(st.booleans()),
        tls=tls,
        dane=draw(st.sampled_from(Dane)) if tls is not Tls.NO else Dane.NO,
    )


@st.composite
def tables(draw: st.DrawFn, max_entries: int = 12) -> Table:
    profiles = draw(st.lists(profile_names, max_size=4, unique=True))
    keys = draw(st.lists(destinations, max_size=max_entries, unique=True))
    default = draw(default_entries())
    return Table(
        settings=Settings(tls_alert=draw(st.booleans())),
        bounce_profiles=tuple(profiles),
        default=default,
        entries={key: draw(entries(profiles, default)) for key in keys},
    )
