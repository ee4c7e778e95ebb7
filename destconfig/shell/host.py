"""The host prompt (spec §3): one loop, like CPython's ``cmd``, over the one reader.

The loop and the host commands work on a :class:`~destconfig.shell.session.Session`,
which holds the tables; the menu, ``tlsverify`` and a cluster home's commands
(``shell.cluster``) are imported when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from destconfig.console import escape, escape_lines, program_error
from destconfig.dialogue.questions import Text, YesNo
from destconfig.dialogue.reader import Leave, PromptKind
from destconfig.exitstatus import ExitStatus
from destconfig.messages import CONFLICT, NOTHING_TO_COMMIT, committed, not_committed
from destconfig.shell.session import Session
from destconfig.store import (
    StoreError,
    format_time,
)


@dataclass(frozen=True)
class HostCommand:
    name: str
    description: str
    run: Callable[[Session], bool]  # True ends the session


def run(shell: Session) -> ExitStatus:
    """Run the session until it ends; return the exit status."""
    first = True
    while True:
        if not first:
            shell.console.write("\n")
        first = False
        try:
            line = shell.reader.read(shell.prompt, _words(shell), kind=PromptKind.HOST)
        except KeyboardInterrupt:
            continue
        except EOFError:
            if not shell.env.interactive:
                return _end_of_input(shell)
            line = "quit"  # Ctrl-D at a terminal's host prompt
        try:
            if onecmd(shell, line):
                shell.console.flush()
                return ExitStatus.OK
        except (KeyboardInterrupt, Leave):
            # Ctrl-C or Ctrl-D: the command is left; what it had not finished is
            # dropped, the changes made before it stay pending.
            continue
        except EOFError:
            return _end_of_input(shell)


def onecmd(shell: Session, line: str) -> bool:
    """Run one host command line; True when the session ends."""
    words = line.split()
    if not words:
        return False
    command = (CLUSTER_COMMANDS if shell.in_cluster else HOST_COMMANDS).get(words[0].lower())
    if command is None:
        shell.console.block(f"Unknown command or missing feature key: {escape(words[0])}")
        return False
    shell.arguments = tuple(words[1:])
    return command.run(shell)


def _end_of_input(shell: Session) -> ExitStatus:
    shell.console.flush()
    if shell.pending:
        program_error(shell.env.stderr, "end of input: the uncommitted changes were discarded.")
        shell.env.stderr.flush()
        return ExitStatus.DISCARDED
    return ExitStatus.OK


def do_destconfig(shell: Session) -> bool:
    if shell.in_cluster:
        from destconfig.shell.cluster import offer_table

        if not offer_table(shell):
            return False
    from destconfig.shell.menu import run_menu

    run_menu(shell)
    return False


def do_commit(shell: Session) -> bool:
    if not shell.pending:
        shell.console.block(NOTHING_TO_COMMIT)
        return False
    comment = shell.dialogue.ask(
        Text("Please enter some comments describing your changes:", str.strip, allow_empty=True)
    )
    if shell.in_cluster:
        from destconfig.shell.cluster import commit_levels

        commit_levels(shell, comment)
        return False
    keep = shell.dialogue.ask(
        YesNo("Do you want to save the current configuration for rollback?", True)
    )
    from destconfig import operations  # here: it brings the models, which a quit never needs

    when = shell.env.clock()
    try:
        warnings = operations.commit(
            shell.store, shell.table, comment=comment, when=when, keep_rollback=keep
        )
    except operations.CommitRefused as refusal:
        if refusal.conflict:
            shell.console.block(CONFLICT)
        elif refusal.busy:
            shell.console.block(BUSY)
        else:
            shell.console.block(not_committed(refusal.message))
        return False
    shell.committed = shell.table
    shell.console.block(committed(format_time(when)))
    for warning in warnings:
        shell.console.reject(f"Warning: {warning}.")
    return False


BUSY = "Another session is committing. Nothing was committed; try again."


def do_clearchanges(shell: Session) -> bool:
    if not shell.pending:
        shell.console.block("There are no changes to clear.")
        return False
    if shell.dialogue.ask(
        YesNo("Are you sure you want to clear all changes since the last commit?", True)
    ):
        if not _start_again(shell):
            return False
        shell.console.block(f"Changes cleared: {format_time(shell.env.clock())}")
    return False


def _start_again(shell: Session) -> bool:
    """The session's tables as committed now (which another session may have changed);
    False, with the reason said, when they cannot be read."""
    if shell.in_cluster:
        from destconfig.shell.cluster import clear_levels

        return clear_levels(shell)
    try:
        shell.committed = shell.store.load()
    except StoreError as error:
        shell.console.block(f"The configuration cannot be read: {escape_lines(str(error))}")
        return False
    shell.table = shell.committed
    return True


def do_quit(shell: Session) -> bool:
    if not shell.pending:
        return True
    return shell.dialogue.ask(
        YesNo("You have uncommitted changes. Exit without committing them?", False)
    )


def _rollbackconfig(shell: Session) -> bool:
    from destconfig.shell.rollback import do_rollbackconfig

    return do_rollbackconfig(shell)


def _tlsverify(shell: Session) -> bool:
    from destconfig.shell.tlsverify import do_tlsverify

    return do_tlsverify(shell)


def _clustermode(shell: Session) -> bool:
    from destconfig.shell.cluster import do_clustermode

    return do_clustermode(shell)


def do_help(shell: Session) -> bool:
    commands = CLUSTER_COMMAND_LIST if shell.in_cluster else HOST_COMMAND_LIST
    shell.console.block(
        "\n".join(f"{command.name} - {command.description}" for command in commands)
    )
    return False


def _words(shell: Session) -> tuple[str, ...]:
    return CLUSTER_WORDS if shell.in_cluster else HOST_WORDS


HOST_COMMAND_LIST: tuple[HostCommand, ...] = (
    HostCommand("clearchanges", "Discard the changes made since the last commit.", do_clearchanges),
    HostCommand("commit", "Save the pending changes.", do_commit),
    HostCommand("destconfig", "Configure destination controls.", do_destconfig),
    HostCommand("exit", "End the session.", do_quit),
    HostCommand("help", "List the available commands.", do_help),
    HostCommand("quit", "End the session.", do_quit),
    HostCommand("rollbackconfig", "Return to an earlier committed configuration.", _rollbackconfig),
    HostCommand(
        "tlsverify",
        "Check a domain's TLS delivery against its mail server.",
        _tlsverify,
    ),
)
HOST_COMMANDS = {command.name: command for command in HOST_COMMAND_LIST}
HOST_WORDS = tuple(command.name for command in HOST_COMMAND_LIST)

# A cluster home's session has one command more.
CLUSTER_COMMAND_LIST: tuple[HostCommand, ...] = tuple(
    sorted(
        (
            *HOST_COMMAND_LIST,
            HostCommand(
                "clustermode",
                "Choose the level to configure: the cluster, a group or a machine.",
                _clustermode,
            ),
        ),
        key=lambda command: command.name,
    )
)
CLUSTER_COMMANDS = {command.name: command for command in CLUSTER_COMMAND_LIST}
CLUSTER_WORDS = tuple(command.name for command in CLUSTER_COMMAND_LIST)
