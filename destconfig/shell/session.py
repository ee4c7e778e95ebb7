"""One shell session's state: the committed table, the session's table, what is pending.

The host loop (``shell.host``), the menu (``shell.menu``) and the host command
``tlsverify`` (``shell.tlsverify``) all work on a :class:`Session`; they import
this module, never one another, and the host loop reaches the others lazily.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from destconfig.confdir import ConfigurationDirectory
from destconfig.console import Console
from destconfig.dialogue.questions import Dialogue
from destconfig.dialogue.reader import PromptKind, Reader, StreamReader, binary_lines
from destconfig.env import Environment
from destconfig.shell.options import ShellOptions
from destconfig.store import Store

if TYPE_CHECKING:
    from destconfig.dialogue.flows import Release
    from destconfig.model import Table


class Session:
    """The tables of one session, and the dialogue, console and store it works with."""

    in_cluster = False  # a cluster home's session (shell.cluster) works on the levels

    def __init__(
        self,
        env: Environment,
        options: ShellOptions | None = None,
        *,
        store: Store,
        committed: Table | None,
        console: Console | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.options = options if options is not None else ShellOptions()
        self.env = env
        self.store = store
        self.console = console if console is not None else Console(env.stdout)
        self.reader = (
            reader if reader is not None else make_reader(env, self.options, self.console, store)
        )
        self.dialogue = Dialogue(self.reader, self.console)
        self.configuration = ConfigurationDirectory(store.configuration_dir)
        self.arguments: tuple[str, ...] = ()  # the words after the host command being run
        if committed is not None:
            self.committed = committed

    @property
    def hostname(self) -> str:
        return self.options.hostname

    @cached_property
    def release(self) -> Release:
        """What the session's appliance release asks and shows (looked up when a command
        first asks: the flows bring the models)."""
        from destconfig.dialogue.flows import RELEASES
        from destconfig.dialogue.release import SEED

        return RELEASES[self.options.release or SEED]

    @property
    def prompt(self) -> str:
        """The host prompt."""
        return f"{self.hostname}> "

    # A home with no committed table passes committed=None: the factory table is
    # built when a command first needs it, so a session that only quits defines no
    # models (pydantic's model machinery is most of a start-up's cost). Both tables
    # are replaced by assignment.

    @cached_property
    def committed(self) -> Table:
        from destconfig.model import FACTORY_TABLE

        return FACTORY_TABLE

    @cached_property
    def table(self) -> Table:
        """The session's table: the committed one and the changes made since."""
        return self.committed

    @property
    def pending(self) -> bool:
        return "table" in vars(self) and self.table != self.committed


def make_reader(env: Environment, options: ShellOptions, console: Console, store: Store) -> Reader:
    """The terminal reader at a terminal, else the stream reader (with echo unless told)."""
    if env.interactive:
        from destconfig.dialogue.terminal import TerminalReader

        histories = {PromptKind.HOST: store.history_path, PromptKind.MENU: store.menu_history_path}
        return TerminalReader(console, histories=histories)
    return StreamReader(binary_lines(env.stdin), console, echo=options.echo)
