"""The terminal driver of the reader, on a prompt_toolkit ``PromptSession``.

Kept apart from :mod:`destconfig.dialogue.reader` so that a piped session never
imports prompt_toolkit (it is the largest part of start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from destconfig.console import Console
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
    """Reads answers at a terminal: line editing, history, completion, Ctrl-C, Ctrl-D."""

    def __init__(
        self,
        console: Console,
        *,
        history_file: Path | None = None,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self._console = console
        self._words = _Words()
        commands: History = InMemoryHistory()
        if history_file is not None and _private(history_file):
            commands = FileHistory(str(history_file))
        # Commands are remembered across sessions; other answers (Y, N, numbers,
        # names) only within this one, so that Up at ESA> finds commands.
        self._commands = self._session(commands, input, output)
        self._answers = self._session(InMemoryHistory(), input, output)

    def _session(
        self, history: History, input: Input | None, output: Output | None
    ) -> PromptSession[str]:
        return PromptSession(
            history=history,
            completer=self._words,
            complete_while_typing=False,
            input=input,
            output=output,
        )

    def read(self, prompt: str, completions: Iterable[str] = (), *, command: bool = False) -> str:
        self._console.flush()
        self._words.words = completions
        session = self._commands if command else self._answers
        return session.prompt(prompt)
