"""The question sequences of NEW, EDIT, DEFAULT and SETUP, as data.

A flow is a tuple of steps run in order over a *draft*: a dict from setting name
(the :class:`~destconfig.model.Entry` field names) to value. NEW starts from an
empty draft, EDIT from the entry, DEFAULT from the default entry; the steps
read their defaults from the draft, so one definition serves all three. A flow
that is abandoned half-way leaves nothing behind: the caller keeps the draft
only when :func:`run` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from destconfig import model, words
from destconfig.dialogue.questions import (
    Choice,
    Dialogue,
    Invalid,
    Number,
    Question,
    Text,
    YesNo,
)
from destconfig.messages import DEMO_CERTIFICATE_NOTE
from destconfig.model import LimitApply, LimitType, Table, Tls

Draft = dict[str, Any]

# What NEW offers in brackets: the factory default entry's values.
_OFFER = model.FACTORY_DEFAULT


@dataclass(frozen=True)
class Scope:
    """What a flow's texts and choices depend on besides the draft."""

    table: Table
    dest: str = ""
    new: bool = False

    def fill(self, template: str, draft: Draft) -> str:
        return template.format(dest=self.dest, minutes=draft.get("recipient_minutes"))


class Step(Protocol):
    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None: ...


# Question templates: texts may name {dest} and {minutes}.


@dataclass(frozen=True)
class AskNumber:
    text: str
    bounds: tuple[int, int]
    fallback: int | None  # the default when the draft holds no value

    def question(self, default: Any, ctx: Scope, draft: Draft) -> Question[Any]:
        lo, hi = self.bounds
        return Number(ctx.fill(self.text, draft), lo, hi, default)


@dataclass(frozen=True)
class AskYesNo:
    text: str
    fallback: bool

    def question(self, default: Any, ctx: Scope, draft: Draft) -> Question[Any]:
        return YesNo(ctx.fill(self.text, draft), bool(default))


Items = Callable[[Scope], Sequence[tuple[str, Any]]]


@dataclass(frozen=True)
class AskChoice:
    title: str
    items: Sequence[tuple[str, Any]] | Items
    fallback: Any

    def question(self, default: Any, ctx: Scope, draft: Draft) -> Question[Any]:
        # Names from the table (profiles, certificates) are shown as they are;
        # only the fixed labels are templates.
        if callable(self.items):
            filled = tuple(self.items(ctx))
        else:
            filled = tuple((ctx.fill(label, draft), value) for label, value in self.items)
        values = [value for _, value in filled]
        number = values.index(default) + 1 if default in values else 1
        return Choice(ctx.fill(self.title, draft), filled, number)


@dataclass(frozen=True)
class AskText:
    text: str
    parse: Callable[[str], Any]
    fallback: None = None

    def question(self, default: Any, ctx: Scope, draft: Draft) -> Question[Any]:
        return Text(ctx.fill(self.text, draft), self.parse)


Template = AskNumber | AskYesNo | AskChoice | AskText


# Steps.


@dataclass(frozen=True)
class Ask:
    """Ask one question and store the answer in the draft under *field*."""

    field: str
    template: Template

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        current = draft.get(self.field)
        default = self.template.fallback if current is None else current
        draft[self.field] = dialogue.ask(self.template.question(default, ctx, draft))


@dataclass(frozen=True)
class Gate:
    """``Do you wish to ...?``: Y asks *steps*, N leaves *fields* at Default.

    Its default is Y when the draft has a value for any of *fields* (EDIT, and the
    default entry's recipient limit), and *new_default* in NEW.
    """

    text: str
    fields: tuple[str, ...]
    steps: tuple[Step, ...]
    new_default: bool = False

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        if ctx.new:
            default = self.new_default
        else:
            default = any(draft.get(name) is not None for name in self.fields)
        chosen = dialogue.ask(YesNo(ctx.fill(self.text, draft), default))
        _run_or_clear(chosen, self.steps, self.fields, draft, ctx, dialogue)


@dataclass(frozen=True)
class When:
    """Run *steps* when *condition* holds for the draft, else clear *fields*."""

    condition: Callable[[Draft], bool]
    steps: tuple[Step, ...]
    fields: tuple[str, ...] = field(default=())

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        _run_or_clear(self.condition(draft), self.steps, self.fields, draft, ctx, dialogue)


def _run_or_clear(
    chosen: bool,
    steps: tuple[Step, ...],
    fields: tuple[str, ...],
    draft: Draft,
    ctx: Scope,
    dialogue: Dialogue,
) -> None:
    """Run *steps* when *chosen*, else leave *fields* at Default."""
    if chosen:
        run(steps, draft, ctx, dialogue)
    else:
        for name in fields:
            draft[name] = None


@dataclass(frozen=True)
class Note:
    """A message block shown when *condition* holds for the draft."""

    condition: Callable[[Draft], bool]
    text: str

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        if self.condition(draft):
            dialogue.console.block(self.text)


def run(steps: Sequence[Step], draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
    for step in steps:
        step.run(draft, ctx, dialogue)


# The shared questions.

TLS_STEPS: tuple[Step, ...] = (
    Ask(
        "tls",
        AskChoice(
            "Do you want to use TLS support?",
            tuple((label, value) for value, label in words.TLS.items()),
            _OFFER.tls,
        ),
    ),
    Note(
        lambda draft: draft["tls"] is not Tls.NO,
        "You have chosen to enable TLS. Please use the 'certconfig' command to\n"
        "ensure that there is a valid certificate configured.",
    ),
)

LIMIT_APPLY = Ask(
    "limit_apply",
    AskChoice(
        "Select how the limits will be enforced:",
        (("System Wide", LimitApply.SYSTEM), ("Per Virtual Gateway(tm)", LimitApply.VG)),
        _OFFER.limit_apply,
    ),
)

BOUNCE_VALIDATION = Ask(
    "bounce_validation",
    AskYesNo("Perform bounce verification address tagging?", _OFFER.bounce_validation),
)


def _ip_sort(target: str) -> Ask:
    return Ask(
        "ip_sort_pref",
        AskChoice(
            "How should the appliance sort IP addresses within an MX preference level\n"
            f"for mail destined to {target}?",
            tuple((label, value) for value, label in words.IP_SORT.items()),
            _OFFER.ip_sort_pref,
        ),
    )


def _limit_type(target: str, domain: str) -> Ask:
    return Ask(
        "limit_type",
        AskChoice(
            f"Select how you want to apply the limits for {target}:",
            (
                (f"One limit applies to the entire domain{domain}", LimitType.HOST),
                ("Separate limit for each mail exchanger IP address", LimitType.MXIP),
            ),
            _OFFER.limit_type,
        ),
    )


MINUTES_BOUNDS = model.RECIPIENT_MINUTES
RECIPIENTS_BOUNDS = model.RECIPIENT_LIMIT

# Bounce profiles: a choice among Default, the known profiles and New Profile.

NEW_PROFILE = object()


def _profile_items(ctx: Scope) -> Sequence[tuple[str, Any]]:
    return (
        ("Default", None),
        *((name, name) for name in ctx.table.bounce_profiles),
        ("New Profile", NEW_PROFILE),
    )


PROFILE_NAME_ERROR = (
    "Invalid profile name. A bounce profile name must start with a letter and contain only "
    "letters, digits, '-', '_' and '.'."
)


def parse_profile_name(answer: str) -> str:
    name = answer.strip()
    if not model.is_profile_name(name):
        raise Invalid(PROFILE_NAME_ERROR)
    return name


BOUNCE_PROFILE_STEPS: tuple[Step, ...] = (
    Ask(
        "bounce_profile",
        AskChoice("Please choose a bounce profile to apply:", _profile_items, None),
    ),
    When(
        lambda draft: draft["bounce_profile"] is NEW_PROFILE,
        (
            Ask(
                "bounce_profile", AskText("Please enter the name of a profile.", parse_profile_name)
            ),
        ),
    ),
)


ENTRY_FLOW: tuple[Step, ...] = (
    Gate(
        "Do you wish to configure a concurrency limit for {dest}?",
        ("max_host_concurrency",),
        (
            Ask(
                "max_host_concurrency",
                AskNumber(
                    'Enter the max concurrency limit for "{dest}".',
                    model.CONCURRENCY,
                    _OFFER.max_host_concurrency,
                ),
            ),
        ),
        new_default=True,
    ),
    Gate(
        "Do you wish to apply a messages-per-connection limit to this domain?",
        ("max_messages_per_connection",),
        (
            Ask(
                "max_messages_per_connection",
                AskNumber(
                    'Enter the max number of messages per connection for "{dest}".',
                    model.MESSAGES_PER_CONNECTION,
                    _OFFER.max_messages_per_connection,
                ),
            ),
        ),
    ),
    Gate(
        "Do you wish to apply a recipient limit to this domain?",
        ("recipient_minutes", "recipient_limit"),
        (
            Ask(
                "recipient_minutes",
                AskNumber(
                    "Enter the number of minutes used to measure the recipient limit.",
                    MINUTES_BOUNDS,
                    model.RECIPIENT_MINUTES_OFFER,
                ),
            ),
            Ask(
                "recipient_limit",
                AskNumber(
                    'Enter the max number of recipients per {minutes} minutes for "{dest}".',
                    RECIPIENTS_BOUNDS,
                    None,
                ),
            ),
        ),
    ),
    When(
        model.has_limits,
        (_limit_type("{dest}", " {dest}"), LIMIT_APPLY),
        model.LIMIT_CHOICES,
    ),
    Gate("Do you wish to apply a specific TLS setting for this domain?", ("tls",), TLS_STEPS),
    Gate(
        "Do you wish to apply a specific bounce verification\n"
        "address tagging setting for this domain?",
        ("bounce_validation",),
        (BOUNCE_VALIDATION,),
    ),
    Gate(
        "Do you wish to apply a specific bounce profile to this domain?",
        ("bounce_profile",),
        BOUNCE_PROFILE_STEPS,
    ),
    Gate(
        "Do you wish to apply a specific IP sort preference to this domain?",
        ("ip_sort_pref",),
        (_ip_sort("{dest}"),),
    ),
)

DEFAULT_FLOW: tuple[Step, ...] = (
    Ask(
        "max_host_concurrency",
        AskNumber(
            "Enter the default maximum concurrency limit.",
            model.CONCURRENCY,
            _OFFER.max_host_concurrency,
        ),
    ),
    Ask(
        "max_messages_per_connection",
        AskNumber(
            "Enter the default maximum number of messages per connection.",
            model.MESSAGES_PER_CONNECTION,
            _OFFER.max_messages_per_connection,
        ),
    ),
    Gate(
        "Do you wish to specify a default recipient limit?",
        ("recipient_minutes", "recipient_limit"),
        (
            Ask(
                "recipient_minutes",
                AskNumber(
                    "Enter the number of minutes used to measure recipient limit.",
                    MINUTES_BOUNDS,
                    model.RECIPIENT_MINUTES_OFFER,
                ),
            ),
            Ask(
                "recipient_limit",
                AskNumber(
                    "Enter number of recipients per {minutes} minutes.",
                    RECIPIENTS_BOUNDS,
                    model.DEFAULT_RECIPIENT_LIMIT_OFFER,
                ),
            ),
        ),
    ),
    _limit_type("domains with no specific entry", ""),
    LIMIT_APPLY,
    *TLS_STEPS,
    BOUNCE_VALIDATION,
    _ip_sort("domains with no specific entry"),
)


def _certificate_items(ctx: Scope) -> Sequence[tuple[str, Any]]:
    return tuple((name, name) for name in ctx.table.certificates)


SETUP_FLOW: tuple[Step, ...] = (
    Ask(
        "certificate",
        AskChoice(
            "Please choose the certificate to use for outbound TLS connections:",
            _certificate_items,
            model.DEMO_CERTIFICATE,
        ),
    ),
    Note(
        lambda draft: draft["certificate"] == model.DEMO_CERTIFICATE,
        DEMO_CERTIFICATE_NOTE,
    ),
    Ask(
        "tls_alert",
        AskYesNo("Do you want to send an alert when a required TLS connection fails?", False),
    ),
)
