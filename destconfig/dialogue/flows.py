"""The question sequences of NEW, EDIT, DEFAULT and SETUP, as data.

A flow is a tuple of steps run in order over a *draft*: a dict from setting name
(the :class:`~destconfig.model.Entry` field names) to value. NEW starts from an
empty draft, EDIT from the entry, DEFAULT from the default entry; the steps
read their defaults from the draft, so one definition serves all three. A flow
that is abandoned half-way leaves nothing behind: the caller keeps the draft
only when :func:`run` returns.

Each appliance release the shell speaks is a :class:`Release`: its flows, built
from the same questions, and its DETAIL lines. Where releases differ (the TLS
questions' sequel, the bounce profile choice's order) the difference is an
argument of the builders, never a test of the release inside a step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from destconfig import model, settings, words
from destconfig.dialogue import release
from destconfig.dialogue.questions import (
    Choice,
    Dialogue,
    Invalid,
    Number,
    Question,
    Text,
    YesNo,
)
from destconfig.dialogue.reader import PromptKind
from destconfig.messages import DEMO_CERTIFICATE_NOTE, dane_needs_tls
from destconfig.model import Dane, LimitApply, LimitType, Table, Tls

Draft = dict[str, Any]
T = TypeVar("T")

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


Check = Callable[[Any, Scope], str | None]
"""Why an answer cannot stand in the scope (the message printed before the question is
asked again), or ``None``."""


@dataclass(frozen=True)
class Checked(Generic[T]):
    """*question* whose answers *check* may refuse: a refused answer is :class:`Invalid`,
    so the one loop of :meth:`Dialogue.ask` prints why and asks the question again."""

    question: Question[T]
    check: Callable[[T], str | None]

    @property
    def head(self) -> str:
        return self.question.head

    @property
    def prompt(self) -> str:
        return self.question.prompt

    @property
    def completions(self) -> Iterable[str]:
        return self.question.completions

    @property
    def kind(self) -> PromptKind:
        return self.question.kind

    def interpret(self, answer: str) -> T:
        value = self.question.interpret(answer)
        refusal = self.check(value)
        if refusal is not None:
            raise Invalid(refusal)
        return value


@dataclass(frozen=True)
class Ask:
    """Ask one question and store the answer in the draft under *field*; *check* refuses
    an answer that cannot stand, and the question is asked again (nothing else is lost)."""

    field: str
    template: Template
    check: Check | None = None

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        current = draft.get(self.field)
        default = self.template.fallback if current is None else current
        question = self.template.question(default, ctx, draft)
        check = self.check
        if check is not None:
            question = Checked(question, lambda value: check(value, ctx))
        draft[self.field] = dialogue.ask(question)


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
    """A message block shown when *condition* holds for the draft (in the scope)."""

    condition: Callable[[Draft, Scope], bool]
    text: str

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        if self.condition(draft, ctx):
            dialogue.console.block(self.text)


def run(steps: Sequence[Step], draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
    for step in steps:
        step.run(draft, ctx, dialogue)


@dataclass(frozen=True)
class WhenTls:
    """Run *steps* while the effective TLS (the draft's, else the default entry's) is not
    No. With TLS No, DANE cannot be used: the draft's own DANE is set to No where the
    effective DANE would not be No (rather than the change being refused)."""

    steps: tuple[Step, ...]

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        default = ctx.table.default
        tls = draft.get("tls")
        if (default.tls if tls is None else tls) is not Tls.NO:
            run(self.steps, draft, ctx, dialogue)
            return
        dane = draft.get("dane")
        if (default.dane if dane is None else dane) is not Dane.NO:
            draft["dane"] = Dane.NO


@dataclass(frozen=True)
class Confirmed:
    """Run *steps*, then ask *text* when *condition* holds; N puts *fields* back as they
    were before *steps* (the answers just given are not kept)."""

    steps: tuple[Step, ...]
    condition: Callable[[Draft, Scope], bool]
    text: str
    fields: tuple[str, ...]

    def run(self, draft: Draft, ctx: Scope, dialogue: Dialogue) -> None:
        # A field the draft does not hold (a document leaves out a default value) is
        # taken out again, not set to None.
        before = {name: draft[name] for name in self.fields if name in draft}
        run(self.steps, draft, ctx, dialogue)
        if self.condition(draft, ctx) and not dialogue.ask(YesNo(self.text, True)):
            for name in self.fields:
                draft.pop(name, None)
            draft.update(before)


# The shared questions.

TLS_CHOICE = Ask(
    "tls",
    AskChoice(
        "Do you want to use TLS support?",
        tuple((label, value) for value, label in words.TLS.items()),
        _OFFER.tls,
    ),
)


def _default_tls_refusal(tls: Any, ctx: Scope) -> str | None:
    """DEFAULT's TLS No under an entry with DANE of its own and TLS left at Default: the
    DANE rule's refusal, given at once (the default's own DANE then becomes No)."""
    if tls is not Tls.NO:
        return None
    rows = ((key, entry.tls, entry.dane) for key, entry in ctx.table.entries.items())
    for key in model.dane_conflicts(Tls.NO, Dane.NO, rows):
        return dane_needs_tls(key)
    return None


DEFAULT_TLS_CHOICE = Ask(TLS_CHOICE.field, TLS_CHOICE.template, _default_tls_refusal)


def _tls_chosen(draft: Draft) -> bool:
    """TLS was chosen in this dialogue (not left at Default) and is not No."""
    return draft.get("tls") not in (None, Tls.NO)


CERTCONFIG_NOTE = Note(
    lambda draft, ctx: _tls_chosen(draft),
    "You have chosen to enable TLS. Please use the 'certconfig' command to\n"
    "ensure that there is a valid certificate configured.",
)

DANE_ITEMS = tuple((label, value) for value, label in settings.DANE_SHOWN.items())


def _dane_choice(title: str) -> Ask:
    return Ask("dane", AskChoice(title, DANE_ITEMS, _OFFER.dane))


ENTRY_DANE = Gate(
    "Do you wish to configure DANE Support for this domain?",
    ("dane",),
    (_dane_choice("Please choose a DANE option:"),),
)
DEFAULT_DANE = _dane_choice("Do you want to use DANE Support?")

NO_CERTIFICATE = (
    "You have chosen to enable TLS, but you have not entered a certificate: the\n"
    '"Demo" certificate is for testing only. Use this TLS setting anyway?'
)


def _on_demo_certificate(draft: Draft, ctx: Scope) -> bool:
    return _tls_chosen(draft) and ctx.table.settings.certificate == model.DEMO_CERTIFICATE


def _tls_questions(tls: Step, dane: Step | None) -> tuple[Step, ...]:
    """The TLS questions (*tls*: NEW and EDIT's gate, or DEFAULT's choice) and what follows.

    Without *dane* (the seed release): the certconfig notice. With it (release 13):
    *dane* while TLS is used, then, on the Demo certificate, a question whose N keeps
    TLS and DANE as they were; with another certificate, the notice.
    """
    if dane is None:
        return (tls, WhenTls(()), CERTCONFIG_NOTE)
    return (
        Confirmed((tls, WhenTls((dane,))), _on_demo_certificate, NO_CERTIFICATE, ("tls", "dane")),
        Note(
            lambda draft, ctx: _tls_chosen(draft) and not _on_demo_certificate(draft, ctx),
            CERTCONFIG_NOTE.text,
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


def _profiles_between(ctx: Scope) -> Sequence[tuple[str, Any]]:
    """The seed release's order: the known profiles between Default and New Profile."""
    return (
        ("Default", None),
        *((name, name) for name in ctx.table.bounce_profiles),
        ("New Profile", NEW_PROFILE),
    )


def _profiles_after(ctx: Scope) -> Sequence[tuple[str, Any]]:
    """Release 13's order: New Profile stays the second item, the known profiles follow."""
    return (
        ("Default", None),
        ("New Profile", NEW_PROFILE),
        *((name, name) for name in ctx.table.bounce_profiles),
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


def _bounce_profile_steps(items: Items) -> tuple[Step, ...]:
    return (
        Ask(
            "bounce_profile",
            AskChoice("Please choose a bounce profile to apply:", items, None),
        ),
        When(
            lambda draft: draft["bounce_profile"] is NEW_PROFILE,
            (
                Ask(
                    "bounce_profile",
                    AskText("Please enter the name of a profile.", parse_profile_name),
                ),
            ),
        ),
    )


def _entry_flow(dane: Step | None, profiles: Items) -> tuple[Step, ...]:
    """NEW and EDIT's questions; *dane* and *profiles* as :func:`_release` says."""
    return (
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
        *_tls_questions(
            Gate(
                "Do you wish to apply a specific TLS setting for this domain?",
                ("tls",),
                (TLS_CHOICE,),
            ),
            dane,
        ),
        Gate(
            "Do you wish to apply a specific bounce verification\n"
            "address tagging setting for this domain?",
            ("bounce_validation",),
            (BOUNCE_VALIDATION,),
        ),
        Gate(
            "Do you wish to apply a specific bounce profile to this domain?",
            ("bounce_profile",),
            _bounce_profile_steps(profiles),
        ),
        Gate(
            "Do you wish to apply a specific IP sort preference to this domain?",
            ("ip_sort_pref",),
            (_ip_sort("{dest}"),),
        ),
    )


def _default_flow(dane: Step | None) -> tuple[Step, ...]:
    """DEFAULT's questions; *dane* as :func:`_release` says."""
    return (
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
        *_tls_questions(DEFAULT_TLS_CHOICE, dane),
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
        lambda draft, ctx: draft["certificate"] == model.DEMO_CERTIFICATE,
        DEMO_CERTIFICATE_NOTE,
    ),
    Ask(
        "tls_alert",
        AskYesNo("Do you want to send an alert when a required TLS connection fails?", False),
    ),
)


@dataclass(frozen=True)
class Release:
    """What one appliance release asks and shows: its flows and its DETAIL lines."""

    name: str
    entry: tuple[Step, ...]  # NEW and EDIT
    default: tuple[Step, ...]  # DEFAULT
    setup: tuple[Step, ...]  # SETUP
    detail: tuple[settings.Setting, ...]  # DETAIL's lines, in order


def _release(
    name: str,
    *,
    entry_dane: Step | None,
    default_dane: Step | None,
    profiles: Items,
    detail: tuple[settings.Setting, ...],
) -> Release:
    """A release from what sets it apart: the DANE questions that follow the TLS ones
    (``None``: none, and the certconfig notice), the bounce profile choice's order and
    DETAIL's lines."""
    return Release(
        name,
        _entry_flow(entry_dane, profiles),
        _default_flow(default_dane),
        SETUP_FLOW,
        detail,
    )


SEED = _release(
    release.SEED,
    entry_dane=None,
    default_dane=None,
    profiles=_profiles_between,
    detail=settings.IN_DETAIL,
)
RELEASE_13 = _release(
    release.RELEASE_13,
    entry_dane=ENTRY_DANE,
    default_dane=DEFAULT_DANE,
    profiles=_profiles_after,
    detail=settings.IN_DETAIL_RELEASE13,
)
RELEASES: dict[str, Release] = {profile.name: profile for profile in (SEED, RELEASE_13)}
"""Each release by its name (:data:`destconfig.dialogue.release.NAMES`)."""
