"""What the one-shot commands draw at a terminal, with rich: colour, tables, a progress bar.

Imported only when the stream drawn on is a terminal that takes it
(:attr:`~destconfig.env.Environment.color`, :attr:`~destconfig.env.Environment.stderr_color`):
rich is a tenth of a second of imports that a piped session, and the shell, never pay. The
plain renderers stay pure and are what a pipe gets; the views here take their text or their
cells, already escaped, and only dress them. Text reaches rich as :class:`rich.text.Text`,
never as markup, and rich reads nothing of the process: its environment is empty, its width
the one the environment measured.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO, cast

from rich import box
from rich.console import Console as RichConsole
from rich.console import RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from destconfig.console import TextSink

_HEIGHT = 25  # rich asks; nothing here is as tall as a screen


def _console(sink: TextSink, columns: int) -> RichConsole:
    return RichConsole(
        file=cast("IO[str]", sink),
        force_terminal=True,
        color_system="standard",  # the sixteen colours every terminal has
        width=max(columns, 20),
        height=_HEIGHT,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
        _environ={},
    )


def _rendered(renderable: RenderableType, columns: int, *, wrap: bool = True) -> str:
    """*renderable* as the text a terminal is sent, without its last line end."""
    buffer = io.StringIO()
    _console(buffer, columns).print(renderable, soft_wrap=not wrap)
    return buffer.getvalue().removesuffix("\n")


# The diff's lines by their first characters (see tablediff.render_diff).
_DIFF_STYLES = (
    ("--- ", "bold"),
    ("+++ ", "bold"),
    ("- ", "red"),
    ("+ ", "green"),
    ("~ ", "bold yellow"),
    ("    ", "yellow"),
)


def colored_diff(text: str, columns: int) -> str:
    """``diff``'s text, its lines coloured: removals red, additions green, changes yellow.

    Lines are never wrapped or cut: the characters are those of *text*.
    """
    lines = []
    for line in text.split("\n"):
        style = next((style for start, style in _DIFF_STYLES if line.startswith(start)), "")
        lines.append(Text(line, style=style))
    return _rendered(Text("\n").join(lines), columns, wrap=False)


def table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    columns: int,
    *,
    row_styles: Sequence[str] | None = None,
) -> str:
    """A table with a bold head, fitted to the terminal; a cell too wide for its column is
    folded onto more lines, never cut short."""
    drawn = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for title in head:
        drawn.add_column(Text(title), overflow="fold")
    for number, row in enumerate(rows):
        style = row_styles[number] if row_styles is not None else None
        drawn.add_row(*(Text(cell) for cell in row), style=style or None)
    return _rendered(drawn, columns)


class ProgressBar:
    """A bar of the steps of a long piece of work, on a terminal; it leaves no trace.

    Drawn by rich's own thread about ten times a second (so that it moves while the
    work holds the interpreter), erased by :meth:`stop`.
    """

    def __init__(self, sink: TextSink, columns: int, steps: Sequence[str]) -> None:
        self._steps = list(steps)
        self._done = 0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_console(sink, columns),
            transient=True,
            redirect_stdout=False,  # the program writes to its own streams, not sys.stdout
            redirect_stderr=False,
        )
        self._task: TaskID = self._progress.add_task(self._steps[0], total=len(self._steps))

    def start(self) -> None:
        self._progress.start()

    def advance(self) -> None:
        """The step under way is done; the next begins."""
        self._done += 1
        description = self._steps[min(self._done, len(self._steps) - 1)]
        self._progress.update(self._task, completed=self._done, description=description)

    def stop(self) -> None:
        self._progress.stop()
