"""Options of the one-shot commands, read with the rules the shell and the table file use.

A setting's value is parsed by the table file's own value parser (so ``--tls 2``,
``--tls required`` and ``--tls REQUIRED`` all work, as in the file), or is the
word ``default`` to return the setting to Default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from destconfig import model, settings
from destconfig.commands.context import CommandError
from destconfig.destinations import InvalidDestination, normalise
from destconfig.formats.toml import validation_messages
from destconfig.messages import invalid_destination
from destconfig.model import DefaultEntry, Entry
from destconfig.settings import BadValue, Setting


class _Default:
    """The value ``default``: return the setting to Default."""

    def __repr__(self) -> str:
        return "default"


DEFAULT = _Default()
_DEFAULT_WORDS = ("default",)
_NO_LIMIT_WORDS = ("none", "default")


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


# The table file numbers the TLS settings 0 to 5 and the shell's menu 1 to 6 (DANE: 0 to 2,
# 1 to 3): a number on the command line could mean either, so the option takes the words alone.
_WORDS_ONLY = frozenset({"tls", "dane"})


def _parser(setting: Setting, *, allow_default: bool) -> Callable[[str], Any]:
    """An option's value: the table file's word for it, or ``default`` (*allow_default*)."""
    parse = setting.values.parse
    underscored = setting.values.underscored

    def read(text: str) -> Any:
        word = text.strip()
        if allow_default and word.lower() in _DEFAULT_WORDS:
            return DEFAULT
        extra = " or default" if allow_default else ""
        if setting.name in _WORDS_ONLY:
            words = ", ".join(setting.values.named)
            if word.isdigit():
                raise argparse.ArgumentTypeError(
                    f"bad value {text!r}; use {words}{extra} (not a number: the table file "
                    "counts the settings from 0, the menu from 1)"
                )
        try:
            # PREFER-V4, required-verify: hyphens for underscores in the words
            return parse(word.replace("-", "_") if underscored else word)
        except BadValue as bad:
            allowed = words if setting.name in _WORDS_ONLY else bad.allowed
            raise argparse.ArgumentTypeError(f"bad value {text!r}; use {allowed}{extra}") from None

    read.__name__ = setting.name
    return read


def add_setting_options(parser: argparse.ArgumentParser, *, for_default: bool) -> None:
    """An option for each setting; for ``default``, of each the default entry has."""
    group = parser.add_argument_group("settings")
    for setting in settings.IN_OPTIONS:
        option = setting.option
        if not for_default:
            help_text = option.help + "; default returns it to Default"
            read = _parser(setting, allow_default=True)
        elif setting.name not in DefaultEntry.model_fields:
            continue
        elif option.removal is not None:
            help_text = f"{option.help}; {option.removal}"
            read = _no_limit_or(_parser(setting, allow_default=False))
        else:
            help_text = option.help
            read = _parser(setting, allow_default=False)
        group.add_argument(
            option.flag, dest=setting.name, metavar=option.metavar, help=help_text, type=read
        )


def _no_limit_or(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        if text.strip().lower() in _NO_LIMIT_WORDS:
            return DEFAULT
        return parse(text)

    read.__name__ = parse.__name__
    return read


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (``DEFAULT`` for ``default``)."""
    return {
        setting.name: getattr(args, setting.name)
        for setting in settings.IN_OPTIONS
        if getattr(args, setting.name, None) is not None
    }


def _flag(name: str) -> str:
    return settings.BY_NAME[name].option.flag


def _with_changes(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """*values* with *changes* applied, the recipient pair kept whole."""
    result = dict(values)
    for key, value in changes.items():
        result[key] = None if value is DEFAULT else value
    limit, minutes = model.RECIPIENT_PAIR
    if any(changes.get(key) is DEFAULT for key in model.RECIPIENT_PAIR):
        result[limit] = result[minutes] = None
    if result.get(limit) is not None and result.get(minutes) is None:
        result[minutes] = model.RECIPIENT_MINUTES_OFFER
    if result.get(minutes) is not None and result.get(limit) is None:
        raise CommandError(f"{_flag(minutes)} needs {_flag(limit)}")
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
    choices = [key for key in model.LIMIT_CHOICES if changes.get(key) not in (None, DEFAULT)]
    if choices and not model.has_limits(values):
        flags = " and ".join(_flag(key) for key in choices)
        limits = " or ".join(_flag(key) for key in model.LIMITS)
        raise CommandError(f"{flags} need{'s' if len(choices) == 1 else ''} {limits}")
    result: Entry = _build(Entry, model.settle_limits(values))
    return result


def changed_default(default: DefaultEntry, changes: dict[str, Any]) -> DefaultEntry:
    result: DefaultEntry = _build(DefaultEntry, _with_changes(dict(default), changes))
    return result
