"""The catalogue of an entry's eleven settings, each described once.

A setting's record says what the program knows of it besides the model's rules:
its name (the model names its fields after the keys of the appliance's table
file), the words its values are read from and written in there (the one-shot
options read the same words), how a person is shown them, its line in DETAIL, its
cell in LIST and its one-shot option. The table file's reader and writer, DETAIL,
LIST and the options loop over the catalogue, so that a setting is added or
changed here alone; each view's order is given once, below the records.

The settings that are special say so as data: the recipient limit's DETAIL line
shows its minutes too, and LIST's Rate Limiting is one cell for three settings.
The rules between settings are the model's (:data:`~destconfig.model.RECIPIENT_PAIR`,
:func:`~destconfig.model.has_limits`), which every reader of the catalogue uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from destconfig import model, words
from destconfig.model import Dane, IpSort, LimitApply, LimitType, Tls


class BadValue(Exception):
    """A word that names no value of the setting; *allowed* says which words do."""

    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


@dataclass(frozen=True)
class Values:
    """The values a setting takes, in the words of the table file and of a person."""

    parse: Callable[[str], Any]  # a word of the table file, in any case; BadValue
    write: Callable[[Any], str]  # what export writes: the first of the value's words
    show: Callable[[Any], str]  # what DETAIL and LIST show of it
    underscored: bool = False  # its words have "_", which an option may write "-" (PREFER-V4)
    named: tuple[str, ...] = ()  # a word for each value, as a person types it (completion)


def _choice(
    file_words: Mapping[Any, tuple[str, ...]],
    listed: str,
    show: Callable[[Any], str],
    typed: int = 0,
) -> Values:
    """One of a few values, each read from any of its *file_words* (the first is the one
    written); *listed* is how a value's words are put when a word is refused; *typed*,
    which of a value's words a person types (a name, where the file writes a number)."""
    by_word = {word.lower(): value for value, each in file_words.items() for word in each}
    allowed = ", ".join(listed.format(*each) for each in file_words.values())

    def parse(text: str) -> Any:
        try:
            return by_word[text.lower()]
        except KeyError:
            raise BadValue(allowed) from None

    written = {value: each[0] for value, each in file_words.items()}
    named = tuple(each[typed] for each in file_words.values())
    return Values(parse, written.__getitem__, show, any("_" in word for word in by_word), named)


def _number(bounds: tuple[int, int]) -> Values:
    lo, hi = bounds

    def parse(text: str) -> int:
        # Digits only (no sign, no space); no more than the largest has, but leading zeros.
        if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(hi)):
            value = int(text)
            if lo <= value <= hi:
                return value
        raise BadValue(f"a number from {lo} to {hi}")

    return Values(parse, str, str)


def _profile_name(text: str) -> str:
    if model.is_profile_name(text):
        return text
    raise BadValue("a profile name: a letter, then letters, digits, '-', '_' or '.' (64 at most)")


@dataclass(frozen=True)
class Line:
    """A setting's line in DETAIL: its own words, or ``Default (EFFECTIVE)``."""

    label: str
    also: tuple[str, ...] = ()  # other settings the line shows (the recipient limit's minutes)
    show: Callable[..., str] | None = None  # the words of all its values; else the setting's


@dataclass(frozen=True)
class Column:
    """A column of LIST, after the destination's."""

    upper: str  # the two lines of its head
    lower: str
    width: int  # (the least, for a column of names)
    any_set: str | None = None  # a column of several settings, showing this when one is set
    names: bool = False  # as wide as the longest name it shows


@dataclass(frozen=True)
class Cell:
    """A setting's cell in LIST: ``Default`` when left at Default, else its words."""

    column: Column
    show: Callable[[Any], str] | None = None  # else the setting's own words


@dataclass(frozen=True)
class Option:
    """A setting's option of the one-shot ``new``, ``edit`` and ``default``."""

    flag: str
    metavar: str
    help: str
    # ``default`` may take it out of the default entry with ``none``; its help then says so.
    removal: str | None = None


def _exact(value: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Mta:
    """What a setting becomes on Postfix and on KumoMTA, and what is lost there.

    The exporters write the values; what each value loses is worded here, once, and
    the README's mapping tables say the same in prose. A loss function takes the
    setting's value (the recipient limit: the pair ``(limit, minutes)``) and gives
    the reason it is not kept exactly, or ``None`` when it is.
    """

    postfix: str
    kumomta: str
    postfix_loss: Callable[[Any], str | None] = _exact
    kumomta_loss: Callable[[Any], str | None] = _exact


POSTFIX_TLS = {
    Tls.NO: "none",
    Tls.PREFERRED: "may",
    Tls.REQUIRED: "encrypt",
    Tls.PREFERRED_VERIFY: "may",
    Tls.REQUIRED_VERIFY: "verify",
    Tls.REQUIRED_VERIFY_HOSTED: "verify",
}
"""The TLS policy (smtp_tls_policy_maps, smtp_tls_security_level) of each setting."""
POSTFIX_VERIFY_MATCH = "nexthop:hostname"  # the names a Verify setting accepts
KUMOMTA_TLS = {
    Tls.NO: "Disabled",
    Tls.PREFERRED: "OpportunisticInsecure",
    Tls.REQUIRED: "RequiredInsecure",
    Tls.PREFERRED_VERIFY: "OpportunisticInsecure",
    Tls.REQUIRED_VERIFY: "Required",
    Tls.REQUIRED_VERIFY_HOSTED: "Required",
}
"""KumoMTA's ``enable_tls`` of each setting."""
POSTFIX_DANE = {Dane.OPPORTUNISTIC: "dane", Dane.MANDATORY: "dane-only"}
"""The TLS policy of a DANE setting, in place of the TLS setting's (DANE No: the TLS one)."""
POSTFIX_DNSSEC = "smtp_dns_support_level = dnssec"
"""The main.cf line both DANE policies need (Postfix trusts TLSA records only then)."""


def postfix_policy(tls: Tls, dane: Dane) -> str:
    """The TLS policy word (without ``match=``) of effective *tls* and *dane*."""
    return POSTFIX_DANE.get(dane) or POSTFIX_TLS[tls]


POSTFIX_DANE_BACK = {word: dane for dane, word in POSTFIX_DANE.items()}


def postfix_dane(policy: str | None) -> Dane:
    """The DANE setting a TLS policy (a map's value, or a level: ``dane``, ``may ...``) says."""
    return Dane.NO if policy is None else POSTFIX_DANE_BACK.get(policy.split()[0], Dane.NO)


def uses_dane(policies: Iterable[str | None]) -> bool:
    """Whether any of these policy words is a DANE one (main.cf then needs dnssec)."""
    return any(policy in POSTFIX_DANE_BACK for policy in policies)


KUMOMTA_DANE = frozenset({Dane.OPPORTUNISTIC, Dane.MANDATORY})
"""The DANE settings written ``enable_dane = true`` (KumoMTA has one DANE mode)."""
DANE_SHOWN = {Dane.NO: "No", Dane.OPPORTUNISTIC: "Opportunistic", Dane.MANDATORY: "Mandatory"}
"""How a person is shown each DANE setting (the appliance's menu words)."""
POSTFIX_INITIAL_CONCURRENCY = 5  # initial_destination_concurrency's default

_TLS_POSTFIX_LOSSES = {
    Tls.PREFERRED: "on a handshake failure after the 220, Postfix defers once and then "
    "delivers in clear; the appliance does not fall back on that connection",
    Tls.PREFERRED_VERIFY: "the same deliveries as Preferred; that the certificate verified "
    "is not checked or logged",
    Tls.REQUIRED_VERIFY: "the names differ: the appliance accepts a common name matching "
    "the domain even beside SAN names; Postfix ignores the common name when there are SAN "
    "names and accepts one matching the MX host",
}
_DANE_POSTFIX_LOSSES = {
    Dane.OPPORTUNISTIC: "Postfix's dane policy takes the place of the TLS setting: where no "
    "usable TLSA records are published it delivers as may (Preferred), whatever the TLS "
    "setting says",
}
_NO_TLSA_NAME = "an address has no host name for Postfix to look up TLSA records at"
POSTFIX_ADDRESS_DANE_LOSSES = {
    Dane.OPPORTUNISTIC: f"{_NO_TLSA_NAME}: Postfix's dane policy always delivers to it as may "
    "(Preferred), whatever the TLS setting says",
    Dane.MANDATORY: f"{_NO_TLSA_NAME}: Postfix's dane-only policy never delivers to it; the "
    "mail is deferred until it bounces",
}
"""What DANE loses on an address entry (in place of the setting's own loss): Postfix
finds TLSA records at ``_25._tcp.`` of a host name, and an address literal has none."""
_DANE_KUMOMTA_LOSSES = {
    Dane.MANDATORY: "KumoMTA has no DANE-only mode: where no usable TLSA records are published "
    "it delivers as enable_tls says instead of queueing",
}
_TLS_KUMOMTA_LOSSES = {
    Tls.PREFERRED_VERIFY: "the same deliveries as Preferred; that the certificate verified "
    "is not checked",
    Tls.REQUIRED_VERIFY: "KumoMTA verifies the MX host's name, not the domain's",
}


def _concurrency_postfix(value: Any) -> str | None:
    if value > POSTFIX_INITIAL_CONCURRENCY:
        initial = POSTFIX_INITIAL_CONCURRENCY
        return f"Postfix ramps up to it from initial_destination_concurrency ({initial})"
    return None


def _reuse_postfix(value: Any) -> str | None:
    if value > 1:
        return "Postfix reuses a connection only while mail for the destination is waiting"
    return None


def _rate_postfix(value: Any) -> str | None:
    limit, _minutes = value
    if limit == 0:
        return "a limit of 0 recipients cannot be expressed: not limited"
    return (
        "an upper bound only, as a delay between deliveries; a rate delay makes the concurrency 1"
    )


def _rate_kumomta(value: Any) -> str | None:
    limit, minutes = value
    if limit == 0:
        return "a limit of 0 recipients cannot be expressed: not limited"
    if 60 % minutes:
        return f"counted per hour, {limit * 60 // minutes}/h, rounded down"
    return None


def _ip_sort_postfix(value: Any) -> str | None:
    if value in (IpSort.PREFER_V4, IpSort.PREFER_V6):
        return "Postfix prefers the address family only among MX hosts of equal preference"
    return None


def _lost(what: str) -> Callable[[Any], str | None]:
    def loss(value: Any) -> str | None:
        return what if value else None

    return loss


_NOT_ON_MTAS = "kept only in the comments of the export"


def _lost_if(lossy: Any, what: str) -> Callable[[Any], str | None]:
    def loss(value: Any) -> str | None:
        return what if value == lossy else None

    return loss


@dataclass(frozen=True)
class Setting:
    """One setting of an entry (and of the default entry, where it has the field)."""

    name: str  # the model's field and the table file's key
    values: Values
    option: Option
    line: Line | None = None  # None: another setting's line shows it
    cell: Cell | None = None  # None: LIST does not show it
    mta: Mta | None = None  # None: another setting's record says it (the recipient pair)


RATE_LIMITING = Column("Rate", "Limiting", 8, any_set="On")
TLS_SUPPORT = Column("", "TLS", 7)
BOUNCE_VERIFICATION = Column("Bounce", "Verification", 12)
BOUNCE_PROFILE = Column("Bounce", "Profile", 9, names=True)
IP_PREFERENCE = Column("IP Version", "Preference", 12)

_BOOLEAN_WORDS = {False: ("0", "off"), True: ("1", "on")}

# In the table file's key order, which is the order of the model's fields.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ip_sort_pref",
        _choice({sort: (sort.value,) for sort in IpSort}, "{0}", words.IP_SORT.__getitem__),
        Option("--ip-sort", "PREF", "PREFER_V4, PREFER_V6, REQUIRE_V4 or REQUIRE_V6"),
        Line("IP Address Preference"),
        Cell(IP_PREFERENCE),
        mta=Mta(
            "Prefer: -o smtp_address_preference=ipv4|ipv6; Require: -o inet_protocols on the "
            "clone (the default entry's Require is not written)",
            "not kept",
            _ip_sort_postfix,
            lambda value: "KumoMTA's shaping has no address family preference",
        ),
    ),
    Setting(
        "max_host_concurrency",
        _number(model.CONCURRENCY),
        Option("--concurrency", "N", "maximum concurrent connections"),
        Line("Concurrent Connections"),
        Cell(RATE_LIMITING),
        mta=Mta(
            "CLONE_destination_concurrency_limit (default_destination_concurrency_limit)",
            "connection_limit",
            _concurrency_postfix,
        ),
    ),
    Setting(
        "max_messages_per_connection",
        _number(model.MESSAGES_PER_CONNECTION),
        Option("--messages-per-connection", "N", "maximum messages per connection"),
        Line("Maximum Messages Per Connection"),
        Cell(RATE_LIMITING),
        mta=Mta(
            "-o smtp_connection_reuse_count_limit=N-1 (1: -o smtp_connection_cache_on_demand=no)",
            "max_deliveries_per_connection",
            _reuse_postfix,
        ),
    ),
    Setting(
        "recipient_minutes",
        _number(model.RECIPIENT_MINUTES),
        Option("--recipient-minutes", "M", "the recipient limit's period"),
    ),
    Setting(
        "recipient_limit",
        _number(model.RECIPIENT_LIMIT),
        Option(
            "--recipient-limit",
            "N",
            "maximum recipients per period (see --recipient-minutes; default 60)",
            removal="none removes the default recipient limit",
        ),
        Line("Recipients Limit", also=("recipient_minutes",), show=words.recipients),
        Cell(RATE_LIMITING),
        mta=Mta(
            "CLONE_destination_rate_delay with CLONE_destination_recipient_limit",
            "max_message_rate",
            _rate_postfix,
            _rate_kumomta,
        ),
    ),
    Setting(
        "limit_type",
        _choice(
            {kind: (kind.value, str(number)) for number, kind in enumerate(LimitType)},
            "{0} (or {1})",
            words.LIMIT_TYPE.__getitem__,
        ),
        Option(
            "--limit-type",
            "host|MXIP",
            "limits for the entire domain (host) or each mail exchanger IP (MXIP)",
        ),
        Line("Apply Limits Per Destination"),
        mta=Mta(
            "not kept",
            "not kept",
            _lost_if(LimitType.MXIP, "counted per domain, not per MX IP address"),
            _lost_if(LimitType.MXIP, "counted per domain, not per MX IP address"),
        ),
    ),
    Setting(
        "limit_apply",
        _choice(
            {apply: (apply.value, str(number)) for number, apply in enumerate(LimitApply)},
            "{0} (or {1})",
            words.LIMIT_APPLY.__getitem__,
        ),
        Option("--limit-apply", "system|VG", "limits counted system wide or per virtual gateway"),
        Line("Apply Limits Per ESA Hostname"),
        mta=Mta(
            "not kept",
            "not kept",
            _lost_if(LimitApply.VG, "counted system-wide, not per virtual gateway"),
            _lost_if(LimitApply.VG, "counted system-wide, not per virtual gateway"),
        ),
    ),
    Setting(
        "bounce_validation",
        _choice(_BOOLEAN_WORDS, "{0} (or {1})", words.on_off, typed=1),
        Option("--bounce-verification", "on|off", "bounce verification address tagging"),
        Line("Bounce Verification"),
        Cell(BOUNCE_VERIFICATION),
        mta=Mta("not kept", "not kept", _lost(_NOT_ON_MTAS), _lost(_NOT_ON_MTAS)),
    ),
    Setting(
        "bounce_profile",
        Values(_profile_name, str, str),
        Option("--bounce-profile", "NAME", "bounce profile (a new name becomes a known profile)"),
        Line("Bounce Profile"),
        Cell(BOUNCE_PROFILE),
        mta=Mta("not kept", "not kept", _lost(_NOT_ON_MTAS), _lost(_NOT_ON_MTAS)),
    ),
    Setting(
        "tls",
        # The file numbers the settings 0 to 5, in the order of the appliance's menu.
        _choice(
            {tls: (str(number), tls.value) for number, tls in enumerate(Tls)},
            "{0} ({1})",
            words.TLS.__getitem__,
            typed=1,
        ),
        Option(
            "--tls",
            "SETTING",
            "NO, PREFERRED, REQUIRED, PREFERRED_VERIFY, REQUIRED_VERIFY or "
            "REQUIRED_VERIFY_HOSTED (words only)",
        ),
        Line("TLS Support"),
        Cell(TLS_SUPPORT, show=words.tls_on_off),
        mta=Mta(
            "smtp_tls_policy_maps (smtp_tls_security_level for the default entry)",
            "enable_tls",
            _TLS_POSTFIX_LOSSES.get,
            _TLS_KUMOMTA_LOSSES.get,
        ),
    ),
    Setting(
        "dane",
        # The file numbers the settings 0 to 2, in the order of the appliance's menu.
        _choice(
            {dane: (str(number), dane.value) for number, dane in enumerate(Dane)},
            "{0} ({1})",
            DANE_SHOWN.__getitem__,
            typed=1,
        ),
        Option("--dane", "SETTING", "NO, OPPORTUNISTIC or MANDATORY (words only; needs TLS)"),
        Line("DANE Support"),
        mta=Mta(
            "smtp_tls_policy_maps (smtp_tls_security_level for the default entry): dane, or "
            f"dane-only for Mandatory, in place of the TLS policy; {POSTFIX_DNSSEC} in main.cf",
            "enable_dane = true",
            _DANE_POSTFIX_LOSSES.get,
            _DANE_KUMOMTA_LOSSES.get,
        ),
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
NAMES = tuple(BY_NAME)
"""The names in the table file's key order."""


def _in_order(names: str) -> tuple[Setting, ...]:
    return tuple(BY_NAME[name] for name in names.split())


# Each view's order.
_DETAIL = (
    "ip_sort_pref max_host_concurrency max_messages_per_connection recipient_limit "
    "limit_type limit_apply tls {} bounce_validation bounce_profile"
)
IN_DETAIL = _in_order(_DETAIL.format(""))
"""DETAIL's lines as the seed-era appliance shows them (no DANE line)."""
IN_DETAIL_RELEASE13 = _in_order(_DETAIL.format("dane"))
"""DETAIL's lines in release 13: ``DANE Support`` right after ``TLS Support``."""
IN_OPTIONS = _in_order(
    "max_host_concurrency max_messages_per_connection recipient_limit recipient_minutes "
    "limit_type limit_apply tls dane bounce_validation bounce_profile ip_sort_pref"
)
MTA_SETTINGS = tuple(setting for setting in SETTINGS if setting.mta is not None)
"""The settings an MTA export reports on, in the table file's order."""

COLUMNS = (RATE_LIMITING, TLS_SUPPORT, BOUNCE_VERIFICATION, BOUNCE_PROFILE, IP_PREFERENCE)
