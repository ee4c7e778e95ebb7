"""The destination controls table as a pydantic model.

Field names are the keys of the appliance's table file (spec §8), so the file
formats, ``config.toml`` and the dialogues all speak of a setting by one name.
``None`` on an :class:`Entry` field means "Default": the value comes from the
default entry. Models are frozen; an operation builds a new :class:`Table`, so
abandoning a dialogue is simply not keeping its result.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from destconfig.destinations import InvalidDestination, all_stored, is_stored, normalise
from destconfig.messages import dane_needs_tls

CONCURRENCY = (1, 1000)
MESSAGES_PER_CONNECTION = (1, 1000)
RECIPIENT_MINUTES = (1, 60)
RECIPIENT_LIMIT = (0, 1_000_000_000)

DEMO_CERTIFICATE = "Demo"


class IpSort(StrEnum):
    PREFER_V4 = "PREFER_V4"
    PREFER_V6 = "PREFER_V6"
    REQUIRE_V4 = "REQUIRE_V4"
    REQUIRE_V6 = "REQUIRE_V6"


class LimitType(StrEnum):
    """How limits apply: to the whole domain, or to each MX IP address."""

    HOST = "host"
    MXIP = "MXIP"


class LimitApply(StrEnum):
    """Where limits are counted: system wide, or per virtual gateway."""

    SYSTEM = "system"
    VG = "VG"


class Tls(StrEnum):
    """The six TLS settings, in the order of the appliance's menu (and file numbers 0..5)."""

    NO = "NO"
    PREFERRED = "PREFERRED"
    REQUIRED = "REQUIRED"
    PREFERRED_VERIFY = "PREFERRED_VERIFY"
    REQUIRED_VERIFY = "REQUIRED_VERIFY"
    REQUIRED_VERIFY_HOSTED = "REQUIRED_VERIFY_HOSTED"


class Dane(StrEnum):
    """DANE (TLSA-authenticated TLS), in the order of the appliance's menu (file numbers 0..2)."""

    NO = "NO"
    OPPORTUNISTIC = "OPPORTUNISTIC"
    MANDATORY = "MANDATORY"


Concurrency = Annotated[int, Field(ge=CONCURRENCY[0], le=CONCURRENCY[1], strict=True)]
MessagesPerConnection = Annotated[
    int, Field(ge=MESSAGES_PER_CONNECTION[0], le=MESSAGES_PER_CONNECTION[1], strict=True)
]
RecipientMinutes = Annotated[
    int, Field(ge=RECIPIENT_MINUTES[0], le=RECIPIENT_MINUTES[1], strict=True)
]
RecipientLimit = Annotated[int, Field(ge=RECIPIENT_LIMIT[0], le=RECIPIENT_LIMIT[1], strict=True)]

PROFILE_NAME_MAX = 64
_PROFILE_PATTERN = rf"[A-Za-z][A-Za-z0-9._-]{{0,{PROFILE_NAME_MAX - 1}}}"
_PROFILE_NAME = re.compile(_PROFILE_PATTERN)
_RESERVED_PROFILE_NAMES = frozenset({"default", "new profile"})

# The pattern is checked by pydantic-core (fast, for 100,000 entries); the reserved
# words by the entry's own validator.
ProfileName = Annotated[str, StringConstraints(pattern=f"^{_PROFILE_PATTERN}$")]


def is_profile_name(name: str) -> bool:
    """A bounce profile name: a letter, then letters, digits, ``-``, ``_``, ``.``; 64 at most."""
    return _PROFILE_NAME.fullmatch(name) is not None and name.lower() not in _RESERVED_PROFILE_NAMES


def _check_profile_name(name: str) -> str:
    if not is_profile_name(name):
        raise ValueError(f"invalid bounce profile name {name!r}")
    return name


LIMITS = ("max_host_concurrency", "recipient_limit")
"""An entry's limits: the limit choices say how they apply, so they come only with one."""
LIMIT_CHOICES = ("limit_type", "limit_apply")
RECIPIENT_PAIR = ("recipient_limit", "recipient_minutes")
"""The recipient limit and the minutes it is counted over: set together or not at all."""


_CONCURRENCY, _RECIPIENTS = LIMITS  # (two look-ups, not a loop: each entry read is checked)


def has_limits(values: Mapping[str, Any]) -> bool:
    """Whether an entry's *values* (its fields, or a draft of them) hold one of its limits."""
    return values.get(_CONCURRENCY) is not None or values.get(_RECIPIENTS) is not None


class _Frozen(BaseModel):
    # Validators are built on first use, not at import: a session that validates
    # nothing (a piped quit on a new home) starts without paying for them.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Entry(_Frozen):
    """One destination's settings; ``None`` leaves a setting at Default."""

    ip_sort_pref: IpSort | None = None
    max_host_concurrency: Concurrency | None = None
    max_messages_per_connection: MessagesPerConnection | None = None
    recipient_minutes: RecipientMinutes | None = None
    recipient_limit: RecipientLimit | None = None
    limit_type: LimitType | None = None
    limit_apply: LimitApply | None = None
    bounce_validation: bool | None = None
    bounce_profile: ProfileName | None = None
    tls: Tls | None = None
    dane: Dane | None = None

    @property
    def has_limits(self) -> bool:
        """The limit choices apply only to a concurrency or recipient limit."""
        return has_limits(self.__dict__)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.recipient_limit is None) != (self.recipient_minutes is None):
            raise ValueError("recipient_limit and recipient_minutes go together")
        if has_limits(self.__dict__):
            if self.limit_type is None or self.limit_apply is None:
                raise ValueError(
                    "an entry with a concurrency or recipient limit needs limit_type and "
                    "limit_apply"
                )
        elif self.limit_type is not None or self.limit_apply is not None:
            raise ValueError("limit_type and limit_apply need a concurrency or recipient limit")
        # The name's pattern is checked by ProfileName; the reserved words here.
        if (
            self.bounce_profile is not None
            and self.bounce_profile.lower() in _RESERVED_PROFILE_NAMES
        ):
            raise ValueError(f"invalid bounce profile name {self.bounce_profile!r}")
        return self


class DefaultEntry(_Frozen):
    """The ``(Default)`` row: every value but the recipient limit is set."""

    ip_sort_pref: IpSort = IpSort.PREFER_V6
    max_host_concurrency: Concurrency = 500
    max_messages_per_connection: MessagesPerConnection = 50
    recipient_minutes: RecipientMinutes | None = None
    recipient_limit: RecipientLimit | None = None
    limit_type: LimitType = LimitType.HOST
    limit_apply: LimitApply = LimitApply.SYSTEM
    bounce_validation: bool = False
    tls: Tls = Tls.NO
    # Left out of a document while No (a file from before DANE reads and writes the same);
    # model_dump() leaves it out too: read default.dane, or effective(), not a dump.
    dane: Dane = Field(default=Dane.NO, exclude_if=lambda dane: dane is Dane.NO)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.recipient_limit is None) != (self.recipient_minutes is None):
            raise ValueError("recipient_limit and recipient_minutes go together")
        return self


UNWRITTEN_DEFAULTS: dict[str, Any] = {"dane": Dane.NO}
"""The default entry's values its documents leave out: written only when changed, so that a
table from before the setting existed reads and writes as it did."""

DEFAULT_NAME = "(Default)"  # how a refusal names the default entry


def without_tls(tls: Tls, dane: Dane) -> bool:
    """The DANE rule: DANE Opportunistic or Mandatory needs TLS to be attempted, so with
    the effective TLS No the effective DANE must be No."""
    return tls is Tls.NO and dane is not Dane.NO


def dane_conflicts(
    default_tls: Tls, default_dane: Dane, entries: Iterable[tuple[str, Tls | None, Dane | None]]
) -> Iterator[str]:
    """The destinations (:data:`DEFAULT_NAME` for the default entry) that break the DANE
    rule, from the default's values and each entry's own ``(key, tls, dane)``."""
    if without_tls(default_tls, default_dane):
        yield DEFAULT_NAME
    for key, tls, dane in entries:
        if without_tls(default_tls if tls is None else tls, default_dane if dane is None else dane):
            yield key


def dane_refusal(default: DefaultEntry, entries: Mapping[str, Entry]) -> str | None:
    """The refusal of the first destination of *entries* (or the default) that breaks the
    DANE rule under *default*; ``None`` when none does."""
    # With the default's TLS on and its DANE No, only an entry's own DANE can break it:
    # most tables have none.
    if (
        default.tls is not Tls.NO
        and default.dane is Dane.NO
        and all(entry.dane is None or entry.dane is Dane.NO for entry in entries.values())
    ):
        return None
    rows = ((key, entry.tls, entry.dane) for key, entry in entries.items())
    for key in dane_conflicts(default.tls, default.dane, rows):
        return dane_needs_tls(key)
    return None


FACTORY_DEFAULT = DefaultEntry.model_construct()  # the field defaults, valid as they are
"""The factory default entry; its values are also what NEW offers in brackets."""
RECIPIENT_MINUTES_OFFER = 60
DEFAULT_RECIPIENT_LIMIT_OFFER = 500


def settle_limits(values: dict[str, Any]) -> dict[str, Any]:
    """Entry values with the limit choices as an entry may hold them.

    With a concurrency or recipient limit, a missing choice takes the value NEW
    offers; without one, the choices go (they are stored only alongside a limit).
    """
    settled = dict(values)
    limited = has_limits(settled)
    for name in LIMIT_CHOICES:
        if not limited:
            settled[name] = None
        elif settled.get(name) is None:
            settled[name] = getattr(FACTORY_DEFAULT, name)
    return settled


def effective(entry: Entry | None, default: DefaultEntry) -> dict[str, Any]:
    """What applies to a destination: each of the entry's settings, else the default's.

    ``bounce_profile`` is ``None`` when the system default profile applies. The
    recipient limit and its minutes come as a pair from one side.
    """
    values: dict[str, Any] = dict(default)
    values["bounce_profile"] = None
    if entry is not None:
        own = {name: value for name, value in entry if value is not None}
        if "recipient_limit" in own:
            values["recipient_minutes"] = own["recipient_minutes"]
        values.update(own)
    return values


class Settings(_Frozen):
    """Global settings made with SETUP."""

    certificate: str = DEMO_CERTIFICATE
    tls_alert: bool = False


class Table(_Frozen):
    """The whole configuration a session edits and commit saves."""

    settings: Settings = Settings.model_construct()
    certificates: tuple[str, ...] = (DEMO_CERTIFICATE,)
    bounce_profiles: tuple[str, ...] = ()
    default: DefaultEntry = DefaultEntry.model_construct()
    entries: dict[str, Entry] = {}

    @field_validator("certificates")
    @classmethod
    def _certificates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = set(value) | {DEMO_CERTIFICATE}
        for name in names:
            if not name or not name.isprintable():
                raise ValueError(f"invalid certificate name {name!r}")
        return tuple(sorted(names))

    @field_validator("bounce_profiles")
    @classmethod
    def _profiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({_check_profile_name(name) for name in value}))

    @field_validator("entries", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if not all(map(isinstance, value, itertools.repeat(str))):
            raise ValueError("destinations must be strings")
        if all_stored(value):
            return value
        for key in value:  # find the first key that is not, and say why
            if is_stored(key):
                continue
            try:
                stored = normalise(key)
            except InvalidDestination:
                raise ValueError(f"invalid destination {key!r}") from None
            raise ValueError(f"destination {key!r} is not in its stored form {stored!r}")
        return value

    @model_validator(mode="after")
    def _references(self) -> Self:
        if self.settings.certificate not in self.certificates:
            raise ValueError(f"unknown certificate {self.settings.certificate!r}")
        known = {None, *self.bounce_profiles}
        used = {entry.bounce_profile for entry in self.entries.values()}
        if used <= known:
            return self
        for key, entry in self.entries.items():  # the first entry with an unknown profile
            if entry.bounce_profile not in known:
                raise ValueError(
                    f"entry {key!r} uses bounce profile {entry.bounce_profile!r}, "
                    "which is not a known profile"
                )
        return self

    @model_validator(mode="after")
    def _dane(self) -> Self:
        refusal = dane_refusal(self.default, self.entries)
        if refusal is not None:
            raise ValueError(refusal)
        return self

    # Operations: each returns a new table and keeps this one as it was.

    def with_entry(self, key: str, entry: Entry) -> Table:
        """The table with *key* set to *entry*; a new profile name becomes known."""
        entries = dict(self.entries)
        entries[key] = entry
        profiles = self.bounce_profiles
        if entry.bounce_profile is not None and entry.bounce_profile not in profiles:
            profiles = tuple(sorted((*profiles, entry.bounce_profile)))
        return self.model_copy(update={"entries": entries, "bounce_profiles": profiles})

    def without_entry(self, key: str) -> Table:
        entries = dict(self.entries)
        del entries[key]
        return self.model_copy(update={"entries": entries})

    def with_default(self, default: DefaultEntry) -> Table:
        return self.model_copy(update={"default": default})

    def with_settings(self, settings: Settings) -> Table:
        return self.model_copy(update={"settings": settings})

    def cleared(self) -> Table:
        return self.model_copy(update={"entries": {}})

    def sorted_keys(self) -> list[str]:
        """Entries in LIST order: plain code-point order of the stored key."""
        return sorted(self.entries)


FACTORY_TABLE = Table.model_construct()
"""The factory configuration (spec §9); its field defaults are valid as they are, so it is
made without validation: a session that only starts and quits builds no validator."""
