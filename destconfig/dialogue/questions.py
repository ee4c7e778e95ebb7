"""Questions as data, and the one loop that asks them.

A question knows how it is shown (the lines before the answer prompt, and the
prompt with its default in brackets), which words to offer for completion, and
how an answer is read (a value, :class:`Invalid` with the message to print
before asking again, or :class:`Abandon`). :func:`ask` is the only place that
loops on a rejected answer, so every question re-asks the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from destconfig.console import Console
from destconfig.dialogue.reader import PromptKind, Reader

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_DIGITS = re.compile(r"[0-9]+")


class Abandon(Exception):
    """The user left the operation with an empty answer to a ``[]>`` question."""


class Invalid(Exception):
    """An answer that is refused; the message is printed and the question asked again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Question(Protocol[T_co]):
    @property
    def head(self) -> str:
        """Lines shown before the prompt line, each ending in ``\\n`` (may be empty)."""
        ...

    @property
    def prompt(self) -> str: ...

    @property
    def completions(self) -> Iterable[str]: ...

    @property
    def kind(self) -> PromptKind:
        """What the prompt asks for: the history recalled there at a terminal."""
        ...

    def interpret(self, answer: str) -> T_co:
        """The value of *answer*; raises :class:`Invalid` or :class:`Abandon`."""
        ...


def _split(text: str) -> tuple[str, str]:
    """A one-line question's text: all but its last line, and its last line."""
    head, _, last = text.rpartition("\n")
    return (head + "\n" if head else ""), last


def _block(text: str) -> str:
    """A question's text above its prompt: the text, then its line end."""
    return text + "\n"


def _brackets(shown: str) -> str:
    """The prompt of a question on its own line: what an empty answer stands for."""
    return f"[{shown}]> "


@dataclass(frozen=True)
class YesNo:
    text: str
    default: bool
    kind: PromptKind = PromptKind.ANSWER

    @property
    def head(self) -> str:
        return _split(self.text)[0]

    @property
    def prompt(self) -> str:
        return f"{_split(self.text)[1]} [{'Y' if self.default else 'N'}]> "

    @property
    def completions(self) -> Sequence[str]:
        return ("Y", "N")

    def interpret(self, answer: str) -> bool:
        word = answer.strip().lower()
        if not word:
            return self.default
        if word in ("y", "yes"):
            return True
        if word in ("n", "no"):
            return False
        raise Invalid("Please answer Y or N.")


def parse_number(answer: str, lo: int, hi: int) -> int:
    """A decimal number in ``lo..hi``, or :class:`Invalid` with the range message."""
    word = answer.strip()
    message = f"You must enter a value from {lo} to {hi}."
    if not _DIGITS.fullmatch(word):
        raise Invalid(message)
    digits = word.lstrip("0") or "0"
    if len(digits) > len(str(hi)):
        raise Invalid(message)
    value = int(digits)
    if not lo <= value <= hi:
        raise Invalid(message)
    return value


@dataclass(frozen=True)
class Number:
    """A number in ``lo..hi``; with no default an empty answer is refused, not abandoned."""

    text: str
    lo: int
    hi: int
    default: int | None
    kind: PromptKind = PromptKind.ANSWER

    @property
    def head(self) -> str:
        return _block(self.text)

    @property
    def prompt(self) -> str:
        return _brackets("" if self.default is None else str(self.default))

    completions: Sequence[str] = field(default=(), init=False)  # a number has no words

    def interpret(self, answer: str) -> int:
        if not answer.strip() and self.default is not None:
            return self.default
        return parse_number(answer, self.lo, self.hi)


@dataclass(frozen=True)
class Choice(Generic[T]):
    """A numbered choice; answered by number or by an item's text (any case)."""

    title: str
    items: tuple[tuple[str, T], ...]
    default: int  # 1-based
    kind: PromptKind = PromptKind.ANSWER

    @property
    def head(self) -> str:
        lines = [self.title]
        lines.extend(f"{number}. {label}" for number, (label, _) in enumerate(self.items, 1))
        return "\n".join(lines) + "\n"

    @property
    def prompt(self) -> str:
        return f"[{self.default}]> "

    @property
    def completions(self) -> Sequence[str]:
        return tuple(label for label, _ in self.items)

    def interpret(self, answer: str) -> T:
        word = answer.strip()
        if not word:
            return self.items[self.default - 1][1]
        for label, value in self.items:
            if label == word:
                return value
        for label, value in self.items:
            if label.lower() == word.lower():
                return value
        return self.items[parse_number(word, 1, len(self.items)) - 1][1]


@dataclass(frozen=True)
class Text(Generic[T]):
    """Free text with no default: an empty answer abandons unless *empty* is allowed."""

    text: str
    parse: Callable[[str], T]
    allow_empty: bool = False
    words: Iterable[str] = ()
    kind: PromptKind = PromptKind.ANSWER
    shown: str = ""  # what an empty answer stands for, shown in the brackets

    @property
    def head(self) -> str:
        return _block(self.text)

    @property
    def prompt(self) -> str:
        return _brackets(self.shown)

    @property
    def completions(self) -> Iterable[str]:
        return self.words

    def interpret(self, answer: str) -> T:
        if not answer.strip() and not self.allow_empty:
            raise Abandon
        return self.parse(answer)


class DestinationWords:
    """The words offered at a question that asks for an existing destination.

    Each stored key, and beside an ``xn--`` key its Unicode form (which the
    question takes as well: it is normalised to the key), with *extra* words
    first. Worked out each time they are iterated, that is when Tab is pressed:
    piped input never asks, and a large table would make every question slow.
    """

    def __init__(self, keys: Iterable[str], extra: Iterable[str] = ()) -> None:
        self._keys = keys
        self._extra = tuple(extra)

    def __iter__(self) -> Iterator[str]:
        from destconfig.destinations import unicode_form  # a session that only quits never asks

        yield from self._extra
        for key in self._keys:
            yield key
            form = unicode_form(key)
            if form is not None:
                yield form


class Dialogue:
    """The reader and the console of a session, seen as a way to ask questions."""

    def __init__(self, reader: Reader, console: Console) -> None:
        self.reader = reader
        self.console = console

    def ask(self, question: Question[T]) -> T:
        while True:
            self.console.write("\n" + question.head)
            answer = self.reader.read(question.prompt, question.completions, kind=question.kind)
            try:
                return question.interpret(answer)
            except Invalid as refused:
                self.console.reject(refused.message)
