"""Options of the one-shot commands, read with the rules the shell and the table file use.

A setting's value is parsed by the table file's own value parser (so ``--tls 2``,
``--tls required`` and ``--tls REQUIRED`` all work, as in the file), or is the
word ``default`` to return the setting to Default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from destconfig import model
from destconfig.commands.context import CommandError
from destconfig.destinations import InvalidDestination, normalise
from destconfig.formats import esa
from destconfig.formats.toml import validation_messages
from destconfig.messages import invalid_destination
from destconfig.model import DefaultEntry, Entry


class _Default:
    """The value ``default``: return the setting to Default."""

    def __repr__(self) -> str:
        return "default"


DEFAULT = _Default()
_DEFAULT_WORDS = ("default",)
_NO_LIMIT_WORDS = ("none", "default")
_WORD_KEYS = frozenset({"tls", "ip_sort_pref"})


def destination(text: str) -> str:
    try:
        return normalise(text)
    except InvalidDestination:
        raise argparse.ArgumentTypeError(invalid_destination(text)) from None


def destination_or_word(text: str) -> str:
    """A destination, or ``default``/``all`` (any case)."""
    if text.strip().lower() in ("default", "all"):
        return text.strip().lower()
    return destination(text)


@dataclass(frozen=True)
class SettingOption:
    flag: str
    key: str  # the model field and table file key
    metavar: str
    help: str
    for_default: bool = True  # offered by the ``default`` command too

    def parser(self, *, allow_default: bool) -> Callable[[str], Any]:
        parse = esa.PARSERS[self.key]

        def read(text: str) -> Any:
            word = text.strip()
            if allow_default and word.lower() in _DEFAULT_WORDS:
                return DEFAULT
            try:
                # PREFER-V4, required-verify: hyphens for underscores in the words
                return parse(word.replace("-", "_") if self.key in _WORD_KEYS else word)
            except esa.BadValue as bad:
                extra = " or default" if allow_default else ""
                raise argparse.ArgumentTypeError(
                    f"bad value {text!r}; use {bad.allowed}{extra}"
                ) from None

        read.__name__ = self.key
        return read


SETTINGS: tuple[SettingOption, ...] = (
    SettingOption("--concurrency", "max_host_concurrency", "N", "maximum concurrent connections"),
    SettingOption(
        "--messages-per-connection",
        "max_messages_per_connection",
        "N",
        "maximum messages per connection",
    ),
    SettingOption(
        "--recipient-limit",
        "recipient_limit",
        "N",
        "maximum recipients per period (see --recipient-minutes; default 60)",
    ),
    SettingOption("--recipient-minutes", "recipient_minutes", "M", "the recipient limit's period"),
    SettingOption(
        "--limit-type",
        "limit_type",
        "host|MXIP",
        "limits for the entire domain (host) or each mail exchanger IP (MXIP)",
    ),
    SettingOption(
        "--limit-apply",
        "limit_apply",
        "system|VG",
        "limits counted system wide or per virtual gateway",
    ),
    SettingOption(
        "--tls",
        "tls",
        "SETTING",
        "0-5 or NO, PREFERRED, REQUIRED, PREFERRED_VERIFY, REQUIRED_VERIFY, REQUIRED_VERIFY_HOSTED",
    ),
    SettingOption(
        "--bounce-verification",
        "bounce_validation",
        "on|off",
        "bounce verification address tagging",
    ),
    SettingOption(
        "--bounce-profile",
        "bounce_profile",
        "NAME",
        "bounce profile (a new name becomes a known profile)",
        for_default=False,
    ),
    SettingOption(
        "--ip-sort", "ip_sort_pref", "PREF", "PREFER_V4, PREFER_V6, REQUIRE_V4 or REQUIRE_V6"
    ),
)


def add_setting_options(parser: argparse.ArgumentParser, *, for_default: bool) -> None:
    group = parser.add_argument_group("settings")
    for option in SETTINGS:
        if for_default and not option.for_default:
            continue
        if for_default and option.key == "recipient_limit":
            help_text = option.help + "; none removes the default recipient limit"
            group.add_argument(
                option.flag,
                dest=option.key,
                metavar=option.metavar,
                help=help_text,
                type=_no_limit_or(option.parser(allow_default=False)),
            )
            continue
        suffix = "" if for_default else "; default returns it to Default"
        group.add_argument(
            option.flag,
            dest=option.key,
            metavar=option.metavar,
            help=option.help + suffix,
            type=option.parser(allow_default=not for_default),
        )


def _no_limit_or(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        if text.strip().lower() in _NO_LIMIT_WORDS:
            return DEFAULT
        return parse(text)

    read.__name__ = "recipient_limit"
    return read


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (``DEFAULT`` for ``default``)."""
    return {
        option.key: getattr(args, option.key)
        for option in SETTINGS
        if getattr(args, option.key, None) is not None
    }


def _flag(key: str) -> str:
    return next(option.flag for option in SETTINGS if option.key == key)


def _with_changes(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """*values* with *changes* applied, the recipient pair kept whole."""
    result = dict(values)
    for key, value in changes.items():
        result[key] = None if value is DEFAULT else value
    pair = ("recipient_limit", "recipient_minutes")
    if any(changes.get(key) is DEFAULT for key in pair):
        result["recipient_limit"] = result["recipient_minutes"] = None
    if result.get("recipient_limit") is not None and result.get("recipient_minutes") is None:
        result["recipient_minutes"] = model.RECIPIENT_MINUTES_OFFER
    if result.get("recipient_minutes") is not None and result.get("recipient_limit") is None:
        raise CommandError(f"{_flag('recipient_minutes')} needs {_flag('recipient_limit')}")
    return result


def _build(kind: type[Entry] | type[DefaultEntry], values: dict[str, Any]) -> Any:
    try:
        return kind(**values)
    except ValidationError as error:
        reasons = "; ".join(problem.reason for problem in validation_messages(error))
        raise CommandError(f"the change is refused: {reasons}") from None


def changed_entry(entry: Entry | None, changes: dict[str, Any]) -> Entry:
    """An entry (new when *entry* is None) with the options' changes."""
    values = _with_changes({} if entry is None else dict(entry), changes)
    has_limit = (
        values.get("max_host_concurrency") is not None or values.get("recipient_limit") is not None
    )
    choices = [
        key for key in ("limit_type", "limit_apply") if changes.get(key) not in (None, DEFAULT)
    ]
    if choices and not has_limit:
        flags = " and ".join(_flag(key) for key in choices)
        raise CommandError(
            f"{flags} need{'s' if len(choices) == 1 else ''} {_flag('max_host_concurrency')} "
            f"or {_flag('recipient_limit')}"
        )
    result: Entry = _build(Entry, model.settle_limits(values))
    return result


def changed_default(default: DefaultEntry, changes: dict[str, Any]) -> DefaultEntry:
    result: DefaultEntry = _build(DefaultEntry, _with_changes(dict(default), changes))
    return result
