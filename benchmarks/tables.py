"""Generated tables for the benchmarks: a fixed seed, a realistic mix of destinations.

Entries are built with ``Entry.model_construct`` (no validation): every value drawn
below lies within the model's bounds, the recipient limit and its minutes come
together, and the limit choices are set exactly when there is a limit, so each
entry is one that validation would accept. The table is built with
``Table.model_construct`` too: every destination is written in its stored form
(lower-case ASCII labels of letters and digits, a non-numeric last label; IPv4
addresses in dotted decimal; IPv6 addresses normalised), the profile names are
valid and sorted, and entries use only those profiles. The result is equal to
the fully validated table of the same seed; ``benchmarks/run.py --check-tables``
validates the generated tables from scratch, through the model.
"""

from __future__ import annotations

import random

from destconfig.destinations import normalise
from destconfig.model import Entry, IpSort, LimitApply, LimitType, Table, Tls

_WORDS = [
    "mail",
    "mx",
    "smtp",
    "post",
    "relay",
    "edge",
    "inbound",
    "outbound",
    "corp",
    "eu",
    "us",
    "asia",
    "partner",
    "bank",
    "law",
    "insure",
    "health",
    "school",
    "city",
    "shop",
    "media",
    "news",
    "cloud",
    "data",
    "net",
    "web",
    "app",
    "secure",
]
_TLDS = ("com", "net", "org", "de", "fr", "jp", "co.uk", "example", "io", "info")
_TLS_CHOICES = [None, *Tls]
_LIMIT_TYPES = list(LimitType)
_LIMIT_APPLIES = list(LimitApply)
_BOUNCE = [None, True, False]
_IP_SORTS = [None, None, *IpSort]


def _destination(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.06:
        return f"[198.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}]"
    if kind < 0.08:
        # Normalised: the written form is not the compressed one when n's low 16 bits are 0.
        return normalise(f"[2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::25]")
    name = f"{rng.choice(_WORDS)}{n}.{rng.choice(_WORDS)}.{rng.choice(_TLDS)}"
    return "." + name if kind < 0.25 else name


def _entry(rng: random.Random, profiles: list[str | None]) -> Entry:
    # The draws are made in the same order as ever, so a seed gives the same table.
    limited = rng.random() < 0.4
    recipients = rng.random() < 0.15
    tls = rng.choice(_TLS_CHOICES)
    max_host_concurrency = rng.randint(1, 1000) if limited else None
    max_messages_per_connection = rng.randint(1, 1000) if rng.random() < 0.3 else None
    recipient_limit = rng.randint(0, 100000) if recipients else None
    recipient_minutes = rng.randint(1, 60) if recipients else None
    limit_type = rng.choice(_LIMIT_TYPES) if limited or recipients else None
    limit_apply = rng.choice(_LIMIT_APPLIES) if limited or recipients else None
    return Entry.model_construct(
        tls=tls,
        max_host_concurrency=max_host_concurrency,
        max_messages_per_connection=max_messages_per_connection,
        recipient_limit=recipient_limit,
        recipient_minutes=recipient_minutes,
        limit_type=limit_type,
        limit_apply=limit_apply,
        bounce_validation=rng.choice(_BOUNCE),
        bounce_profile=rng.choice(profiles),
        ip_sort_pref=rng.choice(_IP_SORTS),
    )


def generate(size: int, seed: int = 20261127) -> Table:
    rng = random.Random(seed)
    profiles = ["bulk", "partners", "slow-retry", "transactional"]
    choices: list[str | None] = [None, None, None, *profiles]
    entries = {_destination(rng, n): _entry(rng, choices) for n in range(size)}
    return Table.model_construct(bounce_profiles=tuple(sorted(profiles)), entries=entries)


def check(table: Table) -> None:
    """Validate *table* from scratch, through the model; raises ``ValidationError``."""
    again = Table.model_validate(table.model_dump())
    if again != table:
        raise ValueError("the generated table changes when validated")
