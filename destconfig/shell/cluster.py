"""The shell in a cluster home (spec cluster §4): the prompt names the mode, ``clustermode``
chooses the level, the menu works on that level's table, and ``commit`` pushes every level
changed in the session as one repository commit.

The session works over one state of the repository: the newest when it started (else the
one last fetched), or the one its last commit or ``clearchanges`` made. It keeps the table
of each level changed in it, so that changes stay pending while another mode is worked
on. A level that defines no table has the one it inherits; a level changed in the session
counts as defining its table, for the levels below it too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from destconfig.cluster.git import GitError
from destconfig.cluster.levels import CLUSTER, GROUP, MACHINE, Level, inherited_level
from destconfig.cluster.member import (
    ClusterError,
    Member,
    State,
    current,
    push_tables,
    subject,
)
from destconfig.console import Console, escape, program_error
from destconfig.dialogue.questions import Choice, YesNo
from destconfig.messages import CONFLICT, committed, not_committed
from destconfig.shell.session import Session
from destconfig.store import BusyError, LockError, format_time

if TYPE_CHECKING:
    from destconfig.dialogue.reader import Reader
    from destconfig.env import Environment
    from destconfig.model import Table
    from destconfig.shell.options import ShellOptions
    from destconfig.store import Store

COMMIT_MESSAGE = "destconfig shell commit"  # the commit's subject when no comment was given
USAGE = "Usage: clustermode [cluster | group NAME | machine NAME]"
MODE_QUESTION = "Choose a mode:"


@dataclass(frozen=True)
class Mode:
    """A level the session works on, and its tables as they were when it was entered."""

    level: Level
    source: Level  # where its table comes from: itself, or the level it inherits from
    base: Table  # that table (the session's, when that level changed in the session)
    committed: Table  # the level's table in the repository's state (own, else inherited)


class ClusterSession(Session):
    """A session on the levels of a cluster; ``table`` is the current mode's level's."""

    in_cluster = True

    def __init__(
        self,
        env: Environment,
        options: ShellOptions | None = None,
        *,
        store: Store,
        member: Member,
        state: State,
        console: Console | None = None,
        reader: Reader | None = None,
    ) -> None:
        super().__init__(env, options, store=store, committed=None, console=console, reader=reader)
        self.member = member
        self.state = state
        self._own: dict[Level, Table | None] = {}  # each level's table in the state, as read
        self._tables: dict[Level, Table] = {}  # the session's table of each level given one
        self.mode = self._enter(self.machine)  # a session starts in machine mode

    @property
    def machine(self) -> Level:
        """This machine's level."""
        return Level(MACHINE, self.member.machine)

    @property
    def prompt(self) -> str:
        level = self.mode.level
        if level.kind == CLUSTER:  # the cluster's mode is named by the cluster's name
            level = replace(level, name=self.state.layout.name)
        return level.prompt()

    @property
    def table(self) -> Table:
        return self._tables.get(self.mode.level, self.mode.base)

    @table.setter
    def table(self, table: Table) -> None:
        self._tables[self.mode.level] = table

    @property
    def committed(self) -> Table:
        return self.mode.committed

    @property
    def pending(self) -> bool:
        return bool(self.changed())

    def changed(self) -> dict[Level, Table]:
        """The session's table of each level whose table it changed (or gave one)."""
        return {
            level: table
            for level, table in sorted(self._tables.items())
            if table != self._own.get(level)  # read when the level was entered
        }

    def defines_table(self) -> bool:
        """Whether the current mode's level has a table of its own (in the session)."""
        return self.mode.source == self.mode.level

    def switch(self, level: Level) -> None:
        """Work on *level*; ClusterError or GitError, with nothing changed, when its table
        cannot be read."""
        self.mode = self._enter(level)

    def committed_as(self, commit: str, tables: dict[Level, Table]) -> None:
        """The session's changes, *tables*, are the repository's *commit* now."""
        state = self.state
        self.state = State(state.mirror, commit, state.layout, state.defined | set(tables))
        self._own.update(tables)
        self._tables = {}
        # Every table the mode needs was read before (or is in *tables*): nothing is read.
        self.mode = self._enter(self.mode.level)

    def restart(self, state: State) -> None:
        """Start again from *state*, in the same mode; ClusterError or GitError, with nothing
        changed, when the mode's table cannot be read there."""
        before = (self.state, self._own, self._tables)
        self.state, self._own, self._tables = state, {}, {}
        try:
            self.mode = self._enter(self.mode.level)
        except BaseException:
            self.state, self._own, self._tables = before
            raise

    def _own_table(self, level: Level) -> Table | None:
        if level not in self._own:
            self._own[level] = self.state.table(level)
        return self._own[level]

    def _table_at(self, level: Level) -> Table | None:
        """The level's table in the session: the session's, else its own in the state."""
        own = self._own_table(level)
        return self._tables.get(level, own)

    def _enter(self, level: Level) -> Mode:
        layout, defined = self.state.layout, self.state.defined
        table = self._table_at(level)
        if table is not None:
            source, base = level, table
        else:
            source = inherited_level(layout, defined | set(self._tables), level)
            base = self._required(source, self._table_at(source))
        own = self._own_table(level)
        if own is None:
            there = inherited_level(layout, defined, level)
            own = self._required(there, self._own_table(there))
        return Mode(level, source, base, own)

    @staticmethod
    def _required(level: Level, table: Table | None) -> Table:
        if table is None:
            raise ClusterError(f"the repository has no table for {level}")
        return table


def _cluster(shell: Session) -> ClusterSession:
    assert isinstance(shell, ClusterSession), "a cluster command outside a cluster home"
    return shell


def _reason(error: ClusterError | GitError) -> str:
    return error.message if isinstance(error, ClusterError) else str(error)


def cluster_session(env: Environment, options: ShellOptions, store: Store) -> Session | None:
    """The session of a cluster home: on the repository's newest state, else (it cannot be
    reached) on the state last fetched, which standard error says. None, said there,
    when there is no state to work on."""
    try:
        member = Member.of(store.home)
        if member is None:
            raise ClusterError("this home is no longer a cluster's machine")
        state, note = current(member, offline_ok=True)
        if note is not None:
            program_error(env.stderr, note, highlight=env.stderr_color)
        return ClusterSession(env, options, store=store, member=member, state=state)
    except (ClusterError, GitError) as error:
        program_error(env.stderr, _reason(error), highlight=env.stderr_color)
        return None


def _whose(shell: ClusterSession, level: Level) -> str:
    if level == shell.machine:
        return "This machine's table"
    if level.kind == CLUSTER:
        return "The cluster's table"
    return f"The table of {level.kind} {level.name}"


def offer_table(shell: Session) -> bool:
    """Whether the menu may start: the mode's level has a table, or the user took a copy
    of the one it inherits (then pending, as any change)."""
    cluster = _cluster(shell)
    if cluster.defines_table():
        return True
    mode = cluster.mode
    question = YesNo(
        f"{_whose(cluster, mode.level)} is defined at {mode.source}.\n"
        f"Do you want to copy it to {mode.level}?",
        False,
    )
    if not shell.dialogue.ask(question):
        return False
    cluster.table = mode.base
    return True


def do_clustermode(shell: Session) -> bool:
    cluster = _cluster(shell)
    level = _named(cluster, shell.arguments) if shell.arguments else _asked(cluster)
    if level is None or level == cluster.mode.level:
        return False
    try:
        cluster.switch(level)
    except (ClusterError, GitError) as error:
        shell.console.block(f"The table of {level} cannot be read: {_reason(error)}")
    return False


def _named(shell: ClusterSession, words: tuple[str, ...]) -> Level | None:
    """The level ``clustermode WORDS`` names (``group NAME`` or ``group:NAME`` alike), or
    None with the refusal said."""
    if len(words) == 1 and ":" in words[0]:
        kind, _colon, name = words[0].partition(":")
        words = (kind, name)
    kind = words[0].lower()
    if kind == CLUSTER and len(words) == 1:
        return Level(CLUSTER)
    if kind not in (GROUP, MACHINE) or len(words) != 2 or not words[1]:
        shell.console.block(USAGE)
        return None
    layout = shell.state.layout
    known = sorted(layout.groups) if kind == GROUP else [name for name, _ in layout.machines()]
    if words[1] in known:
        return Level(kind, words[1])
    shell.console.block(
        f"Unknown {kind}: {escape(words[1])}. "
        f"The {kind}s of cluster {layout.name} are: {', '.join(known) or 'none'}."
    )
    return None


def _asked(shell: ClusterSession) -> Level:
    """The numbered question: the cluster, this machine's group, this machine."""
    layout = shell.state.layout
    items: list[tuple[str, Level]] = [(f"Cluster: {layout.name}", Level(CLUSTER))]
    group = layout.group_of(shell.member.machine)
    if group is not None:
        items.append((f"Group: {group}", Level(GROUP, group)))
    items.append((f"Machine: {shell.member.machine}", shell.machine))
    levels = [level for _, level in items]
    default = levels.index(shell.mode.level) + 1 if shell.mode.level in levels else len(items)
    return shell.dialogue.ask(Choice(MODE_QUESTION, tuple(items), default))


def commit_levels(shell: Session, comment: str) -> None:
    """Every level changed in the session, one repository commit on the session's state
    (refused when another administrator committed since: the changes stay pending), then
    this machine's effective table applied to the home."""
    cluster = _cluster(shell)
    tables = cluster.changed()
    when = shell.env.clock()
    try:
        commit = push_tables(
            cluster.member, cluster.state.commit, tables, subject(comment, COMMIT_MESSAGE), None
        )
    except ClusterError as error:
        shell.console.block(CONFLICT if error.conflict else not_committed(error.message))
        return
    cluster.committed_as(commit, tables)
    shell.console.block(committed(format_time(when)) + f" (cluster commit {commit[:12]})")
    _apply(cluster)


def _apply(shell: ClusterSession) -> None:
    """As ``cluster apply`` after a one-shot change: the home takes its effective table
    when the commit changed it (the line that says so follows the commit's)."""
    from destconfig.commands.context import CommandError, Context
    from destconfig.commands.levels import apply_home

    ctx = Context(shell.env, shell.console, Console(shell.env.stderr), shell.store)
    try:
        apply_home(ctx, shell.member, then=None, quiet=True)
        return
    except CommandError as error:
        reason = error.message
    except (BusyError, LockError) as error:
        reason = str(error)
    shell.console.block(
        f"This machine's table was not updated: {escape(reason)}. "
        "'destconfig cluster apply' applies the commit."
    )


def clear_levels(shell: Session) -> bool:
    """The session started again from a fresh fetch; False, said, when it cannot be had."""
    cluster = _cluster(shell)
    try:
        state, _note = current(cluster.member)
        cluster.restart(state)
    except (ClusterError, GitError) as error:
        shell.console.block(f"The changes were not cleared: {_reason(error)}")
        return False
    return True
