"""The host prompt (spec §3): one loop, like CPython's ``cmd``, over the one reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig.confdir import ConfigurationDirectory
from destconfig.console import Console, escape, escape_lines, program_error
from destconfig.dialogue.questions import Dialogue, Text, YesNo
from destconfig.dialogue.reader import Reader, StreamReader, binary_lines
from destconfig.env import Environment
from destconfig.messages import NOTHING_TO_COMMIT, committed, not_committed
from destconfig.store import (
    BusyError,
    ConflictError,
    LockError,
    Store,
    StoreError,
    TooLarge,
    format_time,
)

if TYPE_CHECKING:
    from destconfig.model import Table

EXIT_OK = 0
EXIT_DISCARDED = 1


@dataclass(frozen=True)
class HostCommand:
    name: str
    description: str
    run: Callable[[Shell], bool]  # True ends the session


class Shell:
    """One session: the committed table, the session's table, and the host loop."""

    def __init__(
        self,
        env: Environment,
        *,
        store: Store,
        committed: Table | None,
        console: Console | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.env = env
        self.store = store
        self.console = console if console is not None else Console(env.stdout)
        self.reader = reader if reader is not None else make_reader(env, self.console, store)
        self.dialogue = Dialogue(self.reader, self.console)
        self.configuration = ConfigurationDirectory(store.configuration_dir)
        self._committed = committed
        self._table = committed

    # A home with no committed table passes committed=None: the factory table is
    # built when a command first needs it, so a session that only quits defines no
    # models (pydantic's model machinery is most of a start-up's cost).

    @property
    def committed(self) -> Table:
        if self._committed is None:
            from destconfig.model import FACTORY_TABLE

            self._committed = FACTORY_TABLE
        return self._committed

    @committed.setter
    def committed(self, table: Table) -> None:
        self._committed = table

    @property
    def table(self) -> Table:
        """The session's table: the committed one and the changes made since."""
        if self._table is None:
            self._table = self.committed
        return self._table

    @table.setter
    def table(self, table: Table) -> None:
        self._table = table

    @property
    def pending(self) -> bool:
        return self._table is not None and self._table != self.committed

    def run(self) -> int:
        """Run the session until it ends; return the exit status."""
        prompt = f"{self.env.hostname}> "
        first = True
        while True:
            if not first:
                self.console.write("\n")
            first = False
            try:
                line = self.reader.read(prompt, HOST_WORDS, command=True)
            except KeyboardInterrupt:
                continue
            except EOFError:
                if not self.env.stdin_isatty:
                    return self._end_of_input()
                line = "quit"  # Ctrl-D at a terminal's host prompt
            try:
                if self.onecmd(line):
                    self.console.flush()
                    return EXIT_OK
            except KeyboardInterrupt:
                continue
            except EOFError:
                return self._end_of_input()

    def onecmd(self, line: str) -> bool:
        """Run one host command line; True when the session ends."""
        words = line.split()
        if not words:
            return False
        command = HOST_COMMANDS.get(words[0].lower())
        if command is None:
            self.console.block(f"Unknown command or missing feature key: {escape(words[0])}")
            return False
        return command.run(self)

    def _end_of_input(self) -> int:
        self.console.flush()
        if self.pending:
            program_error(self.env.stderr, "end of input: the uncommitted changes were discarded.")
            self.env.stderr.flush()
            return EXIT_DISCARDED
        return EXIT_OK


def do_destconfig(shell: Shell) -> bool:
    from destconfig.shell.menu import run_menu

    run_menu(shell)
    return False


def do_commit(shell: Shell) -> bool:
    if not shell.pending:
        shell.console.block(NOTHING_TO_COMMIT)
        return False
    comment = shell.dialogue.ask(
        Text("Please enter some comments describing your changes:", str.strip, allow_empty=True)
    )
    keep = shell.dialogue.ask(
        YesNo("Do you want to save the current configuration for rollback?", True)
    )
    when = shell.env.clock()
    try:
        warnings = shell.store.commit(shell.table, comment=comment, when=when, keep_rollback=keep)
    except ConflictError:
        shell.console.block(CONFLICT)
        return False
    except BusyError:
        shell.console.block(BUSY)
        return False
    except LockError as error:
        shell.console.block(not_committed(escape(error.reason)))
        return False
    except (TooLarge, StoreError) as error:
        shell.console.block(not_committed(escape_lines(str(error))))
        return False
    except OSError as error:
        shell.console.block(not_committed(escape(error.strerror or str(error))))
        return False
    shell.committed = shell.table
    shell.console.block(committed(format_time(when)))
    for warning in warnings:
        shell.console.reject(f"Warning: {warning}.")
    return False


CONFLICT = (
    "The configuration was committed by another session since this session started.\n"
    "Nothing was committed; your changes are still pending. Use 'clearchanges' to start\n"
    "again from the configuration committed now."
)
BUSY = "Another session is committing. Nothing was committed; try again."


def do_clearchanges(shell: Shell) -> bool:
    if not shell.pending:
        shell.console.block("There are no changes to clear.")
        return False
    if shell.dialogue.ask(
        YesNo("Are you sure you want to clear all changes since the last commit?", True)
    ):
        try:
            # What is committed now, which another session may have changed.
            shell.committed = shell.store.load()
        except StoreError as error:
            shell.console.block(f"The configuration cannot be read: {escape(str(error))}")
            return False
        shell.table = shell.committed
        shell.console.block(f"Changes cleared: {format_time(shell.env.clock())}")
    return False


def do_quit(shell: Shell) -> bool:
    if not shell.pending:
        return True
    return shell.dialogue.ask(
        YesNo("You have uncommitted changes. Exit without committing them?", False)
    )


def _tlsverify(shell: Shell) -> bool:
    from destconfig.shell.tlsverify import do_tlsverify

    return do_tlsverify(shell)


def do_help(shell: Shell) -> bool:
    shell.console.block(
        "\n".join(f"{command.name} - {command.description}" for command in HOST_COMMAND_LIST)
    )
    return False


HOST_COMMAND_LIST: tuple[HostCommand, ...] = (
    HostCommand("clearchanges", "Discard the changes made since the last commit.", do_clearchanges),
    HostCommand("commit", "Save the pending changes.", do_commit),
    HostCommand("destconfig", "Configure destination controls.", do_destconfig),
    HostCommand("exit", "End the session.", do_quit),
    HostCommand("help", "List the available commands.", do_help),
    HostCommand("quit", "End the session.", do_quit),
    HostCommand(
        "tlsverify",
        "Check a domain's TLS delivery against its mail server.",
        _tlsverify,
    ),
)
HOST_COMMANDS = {command.name: command for command in HOST_COMMAND_LIST}
HOST_WORDS = tuple(command.name for command in HOST_COMMAND_LIST)


def make_reader(env: Environment, console: Console, store: Store) -> Reader:
    """The terminal reader at a terminal, else the stream reader (with echo unless told)."""
    if env.stdin_isatty:
        from destconfig.dialogue.terminal import TerminalReader

        return TerminalReader(console, history_file=store.history_path)
    return StreamReader(binary_lines(env.stdin), console, echo=env.echo)
