"""The terminal driver of the reader, on a prompt_toolkit ``PromptSession``.

Kept apart from :mod:`destconfig.dialogue.reader` so that a piped session never
imports prompt_toolkit (it is the largest part of start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import DummyHistory, FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from destconfig.console import Console
from destconfig.dialogue.reader import Leave, PromptKind
from destconfig.safeio import regular_or_absent


class _Words(Completer):
    """Completes the whole answer from the words offered for the current question."""

    def __init__(self) -> None:
        self.words: Iterable[str] = ()

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        typed = document.text_before_cursor
        stripped = typed.lstrip()
        lower = stripped.lower()
        matches = sorted(word for word in self.words if word.lower().startswith(lower))
        for word in matches:
            yield Completion(word, start_position=-len(stripped))


def _private(path: Path) -> bool:
    """Create the history file readable by its owner only (it records what was typed).

    False when it cannot be written, or is not a regular file (a FIFO would block
    the start, a device flood it): the history then lasts for this session only.
    """
    if not regular_or_absent(path):
        return False
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        os.close(os.open(path, flags, 0o600))
    except OSError:
        return False
    return regular_or_absent(path)


class TerminalReader:
    """Reads answers at a terminal: line editing, history, completion, Ctrl-C, Ctrl-D.

    One prompt session per :class:`PromptKind`, each with its own history: Up at
    the host prompt recalls host commands, at a menu the operations chosen there,
    and at any other question nothing (a Y, a number or a comment recalled at
    another question is a wrong answer waiting to be sent). The histories named in
    *histories* are kept in those files; any other, or one whose file cannot be
    used, lasts for this session only.
    """

    def __init__(
        self,
        console: Console,
        *,
        histories: Mapping[PromptKind, Path] | None = None,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self._console = console
        self._words = _Words()
        self._files = dict(histories or {})
        self._input = input
        self._output = output
        self._sessions: dict[PromptKind, PromptSession[str]] = {}

    def _history(self, kind: PromptKind) -> History:
        if kind is PromptKind.ANSWER:
            return DummyHistory()
        path = self._files.get(kind)
        if path is not None and _private(path):
            return FileHistory(str(path))
        return InMemoryHistory()

    def _session(self, kind: PromptKind) -> PromptSession[str]:
        """The session of *kind*, made when first used (each takes a while to build)."""
        session = self._sessions.get(kind)
        if session is None:
            session = PromptSession(
                history=self._history(kind),
                completer=self._words,
                complete_while_typing=False,
                input=self._input,
                output=self._output,
            )
            self._sessions[kind] = session
        return session

    def read(
        self, prompt: str, completions: Iterable[str] = (), *, kind: PromptKind = PromptKind.ANSWER
    ) -> str:
        self._console.flush()
        self._words.words = completions
        session = self._session(kind)
        try:
            return session.prompt(prompt)
        except EOFError:
            if session.input.closed:
                raise  # the terminal's input has ended
            raise Leave from None  # Ctrl-D on an empty line
