"""A home as a machine of a cluster: its membership, the repository's state, and what
both front ends do at the levels.

The home keeps ``cluster/member.toml`` (the repository's URL and this machine's name)
and ``cluster/repo.git``, a bare mirror of the repository that git fetches into; the
store still alone writes ``config.toml``, into which :func:`apply` commits this
machine's effective table. Every change to a level is one repository commit pushed
as a fast-forward: when another administrator pushed first, the push is refused,
nothing is committed, and the caller keeps its changes (as the store's own
"committed by another session" refusal).
"""

from __future__ import annotations

import hashlib
import re
import socket
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomli_w

from destconfig.cluster.edits import edited
from destconfig.cluster.git import Change, GitError, Mirror, PushRefused
from destconfig.cluster.home import MEMBER_DIR, MEMBER_FILE, MIRROR_DIR
from destconfig.cluster.levels import (
    CLUSTER,
    GROUP,
    LAYOUT_PATH,
    MACHINE,
    Layout,
    Level,
    LevelError,
    check_name,
    inherited_level,
    source_level,
)
from destconfig.console import escape
from destconfig.formats import toml as toml_format
from destconfig.formats.problems import FormatError
from destconfig.messages import CONFLICT
from destconfig.model import Table
from destconfig.safeio import make_private_directory, read_regular, write_file

APPLIED_REFS = "refs/destconfig/applied/"
# A join or create whose push was refused: another machine joined (or the cluster was
# made) from the same state at the same moment; nothing of this one was committed.
JOIN_RACE = (
    "the cluster repository changed while this home was joining (another machine joined "
    "at the same moment); nothing was committed: run the same command again"
)


def damaged_membership(path: str, reason: str) -> str:
    """A membership file that cannot be read, and what to do about it."""
    return (
        f"{path} is damaged: {reason}. It holds the repository's url and this machine's "
        f'name (url = "URL" and machine = "NAME"): write them back, or remove the file and '
        "'cluster join' again"
    )


class ClusterError(Exception):
    """A cluster operation that cannot be done; nothing was changed. *conflict*: the push
    was refused because another administrator committed first."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def absolute(url: str) -> str:
    """A local path as an absolute one (the membership is used from any directory); any
    other URL (``ssh://``, ``git://``, ``https://``, ``host:path``) as it is."""
    if "://" in url or re.match(r"[^/]+:", url):
        return url
    return str(Path(url).absolute())


def host_name() -> str:
    """This host's short name, as a machine name (the default of create and join)."""
    name = socket.gethostname().split(".")[0] or "localhost"
    return name if _usable(name) else "localhost"


def _usable(name: str) -> bool:
    try:
        check_name(MACHINE, name)
    except LevelError:
        return False
    return True


@dataclass(frozen=True)
class Member:
    """This home's membership: where the repository is, which machine this is.

    *pending*: the commit that adds this machine (``create`` or ``join``), saved before
    it is pushed, so that a process killed once the push landed leaves a home that
    knows it is that machine; until that commit is seen in the repository the
    membership is not confirmed (:meth:`of` settles it).
    """

    home: Path
    url: str
    machine: str
    pending: str | None = None

    @property
    def directory(self) -> Path:
        return self.home / MEMBER_DIR

    @property
    def path(self) -> Path:
        return self.directory / MEMBER_FILE

    @property
    def mirror(self) -> Mirror:
        return Mirror(self.directory / MIRROR_DIR, self.url)

    @classmethod
    def of(cls, home: Path, *, settle: bool = True) -> Member | None:
        """The membership of *home*, or None when it is no cluster's machine. A pending
        one is settled first (*settle*): confirmed when its commit is in the repository,
        else given up (ClusterError, said)."""
        path = home / MEMBER_DIR / MEMBER_FILE
        try:
            data = read_regular(path, 64 * 1024)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ClusterError(f"cannot read {escape(str(path))}: {error.strerror}") from None
        try:
            document = tomllib.loads(data.decode("utf-8"))
            pending = document.get("pending")
            if pending is not None and not isinstance(pending, str):
                raise KeyError("pending")
            member = cls(
                home,
                str(document["url"]),
                check_name(MACHINE, str(document["machine"])),
                pending,
            )
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, LevelError) as error:
            raise ClusterError(damaged_membership(escape(str(path)), escape(str(error)))) from None
        if member.pending is None or not settle:
            return member
        settled = _settle(member)
        if settled is None:
            raise ClusterError(
                f"this home's joining as machine {member.machine} did not complete (nothing "
                "of it reached the repository): 'cluster join' or 'cluster create' again"
            )
        return settled

    def save(self) -> None:
        make_private_directory(self.directory)
        document = {"url": self.url, "machine": self.machine}
        if self.pending is not None:
            document["pending"] = self.pending
        write_file(self.path, tomli_w.dumps(document).encode("utf-8"), replace=True)

    def forget(self) -> None:
        """The membership file gone (the mirror stays: a later create or join takes it over)."""
        self.path.unlink(missing_ok=True)


def _settle(member: Member) -> Member | None:
    """A pending membership confirmed (its commit reached the repository), else given up
    (None: the membership file is gone)."""
    assert member.pending is not None
    try:
        mirror, head = _fetch(member)
    except ClusterError as error:
        raise ClusterError(
            f"{error.message}; whether this home joined as machine {member.machine} "
            "is not known yet: run the command again once the repository can be reached"
        ) from None
    try:
        landed = mirror.is_ancestor(member.pending, head)
    except GitError:  # the commit is not even in the mirror: it was never pushed
        landed = False
    if landed:
        confirmed = replace(member, pending=None)
        confirmed.save()
        return confirmed
    member.forget()
    return None


def _level_of_path(path: str) -> Level | None:
    """The level whose table is at *path* in the repository, None for any other file."""
    if path == Level(CLUSTER).path:
        return Level(CLUSTER)
    parts = path.split("/")
    for kind in (GROUP, MACHINE):
        if len(parts) == 3 and parts[0] == f"{kind}s" and parts[2] == "config.toml":
            try:
                return Level(kind, check_name(kind, parts[1]))
            except LevelError:
                return None  # not a name the tool makes: no level of its own
    return None


@dataclass
class State:
    """The repository at one commit: its layout, the levels that define a table."""

    mirror: Mirror
    commit: str
    layout: Layout
    defined: set[Level]

    @classmethod
    def at(cls, mirror: Mirror, commit: str) -> State:
        data = mirror.read(commit, LAYOUT_PATH)
        if data is None:
            raise ClusterError(f"the repository has no {LAYOUT_PATH}: it is not a cluster's")
        try:
            layout = Layout.loads(data)
        except LevelError as error:
            raise ClusterError(str(error)) from None
        # Which levels have a table: the tree's file names (one git call, whatever the
        # number of groups and machines), not the tables (large) read.
        defined = set()
        for path in mirror.files(commit, CLUSTER, f"{GROUP}s", f"{MACHINE}s"):
            level = _level_of_path(path)
            if level is not None:
                defined.add(level)
        return cls(mirror, commit, layout, defined)

    def require_known(self, level: Level) -> None:
        """ClusterError when *level* names a group or machine that ``cluster.toml`` has not
        (a typing error would otherwise make a table no machine ever uses)."""
        if level.kind == CLUSTER or level.name is None:
            return
        layout = self.layout
        known = sorted(layout.groups) if level.kind == GROUP else [m for m, _ in layout.machines()]
        if level.name not in known:
            raise ClusterError(
                f"there is no {level.kind} {escape(level.name)} in cluster {layout.name}; "
                f"its {level.kind}s are: {', '.join(known) or 'none'}"
            )

    def text(self, level: Level) -> bytes | None:
        """The level's own table as its file's bytes, None when it defines none."""
        if level not in self.defined:
            return None
        return self.mirror.read(self.commit, level.path)

    def table(self, level: Level, text: bytes | None = None) -> Table | None:
        """The level's own table, None when it defines none (validated, as config.toml is);
        *text*: its bytes, when read already."""
        data = self.text(level) if text is None else text
        if data is None:
            return None
        known = _written.get(hashlib.blake2b(data).digest())
        if known is not None:
            return known
        try:
            return toml_format.loads(data)
        except FormatError as error:
            reasons = "; ".join(problem.reason for problem in error.problems[:3])
            raise ClusterError(f"{level.path} in the repository is not valid: {reasons}") from None

    def effective(self, machine: str) -> tuple[Level, Table]:
        level = source_level(self.layout, self.defined, machine)
        table = self.table(level)
        if table is None:
            raise ClusterError(f"the repository has no table for {level}")
        return level, table

    def inherited(self, level: Level) -> tuple[Level, Table]:
        """The table *level* has now: its own, else the one it inherits."""
        source, _text, table = self.inherited_text(level)
        return source, table

    def inherited_text(self, level: Level) -> tuple[Level, bytes, Table]:
        """The level whose table *level* has now (itself, else the one it inherits), that
        table's file and the table."""
        source = level
        if level not in self.defined:
            source = inherited_level(self.layout, self.defined, level)
        text = self.text(source)
        if text is None:
            raise ClusterError(f"the repository has no table for {source}")
        table = self.table(source, text)
        assert table is not None
        return source, text, table


def _fetch(member: Member) -> tuple[Mirror, str]:
    mirror = member.mirror
    try:
        head = mirror.fetch()
    except GitError as error:
        raise ClusterError(str(error)) from None
    if head is None:
        raise ClusterError("the cluster repository is empty")
    return mirror, head


def current(member: Member, *, offline_ok: bool = False) -> tuple[State, str | None]:
    """The repository's newest state (fetched), or with *offline_ok* the last fetched one
    and a note saying so when the repository cannot be reached."""
    mirror = member.mirror
    note = None
    try:
        head = mirror.fetch()
    except GitError as error:
        if not offline_ok:
            raise ClusterError(str(error)) from None
        head = mirror.head()
        if head is None:  # nothing fetched to fall back on
            raise ClusterError(f"{error}; and no state of it was ever fetched") from None
        note = f"{error}; showing the state last fetched"
    if head is None:
        raise ClusterError("the cluster repository is empty")
    return State.at(mirror, head), note


# The table this process last wrote to a level, by its text's digest: applying a change
# just pushed reads it back instead of parsing its own output again.
_written: dict[bytes, Table] = {}


def _table_bytes(table: Table, before: tuple[Table, bytes] | None = None) -> bytes:
    """*table*'s file; with *before* (a table and its file), made by editing that file
    when few entries changed (:mod:`destconfig.cluster.edits`)."""
    text = None if before is None else edited(before[0], before[1], table)
    if text is None:
        text = toml_format.dumps(table)
    _written.clear()
    _written[hashlib.blake2b(text).digest()] = table
    return text


def subject(comment: str, fallback: str) -> str:
    """A commit's subject: the comment, or *fallback* (``destconfig COMMAND LINE``) when
    it is empty or blank."""
    return comment.strip() or fallback


def _push(
    mirror: Mirror,
    base: str | None,
    changes: list[Change],
    message: str,
    author: str | None,
    machine: str,
    *,
    made: Callable[[str], None] | None = None,
    conflict: str = CONFLICT,
) -> str:
    """One commit of *changes* on *base*, pushed; *made* is told its sha before the push.
    *conflict*: what a refused push says."""
    fallback = f"{machine} <{machine}@{socket.gethostname() or 'localhost'}>"
    try:
        commit = mirror.commit(base, changes, message, author, fallback_author=fallback)
        if made is not None:
            made(commit)
        mirror.push(base, commit)
    except PushRefused:
        raise ClusterError(conflict, conflict=True) from None
    except GitError as error:
        raise ClusterError(str(error)) from None
    return commit


def _push_membership(
    member: Member,
    base: str | None,
    changes: list[Change],
    message: str,
    author: str | None,
) -> Member:
    """The commit that makes *member* a machine of the cluster, pushed, the membership
    saved as pending in between (a kill or an interruption after the push leaves a home
    that knows what it is); when the push failed, the membership file is gone again."""
    try:
        _push(
            member.mirror,
            base,
            changes,
            message,
            author,
            member.machine,
            made=lambda commit: replace(member, pending=commit).save(),
            conflict=JOIN_RACE,
        )
    except ClusterError:
        member.forget()
        raise
    member.save()
    return member


def _existing(home: Path) -> Member | None:
    """The membership of a home about to join or create: a pending one whose commit never
    landed is given up (the command starts over)."""
    existing = Member.of(home, settle=False)
    if existing is not None and existing.pending is not None:
        return _settle(existing)
    return existing


def create(
    home: Path, table: Table, *, name: str, url: str, group: str, machine: str, author: str | None
) -> Member:
    """A new cluster in *url* whose cluster level is *table*; this home its first machine."""
    url = absolute(url)
    check_name(CLUSTER, name)
    check_name(GROUP, group)
    check_name(MACHINE, machine)
    if _existing(home) is not None:
        raise ClusterError("this home is already a machine of a cluster: 'cluster leave' first")
    directory = home / MEMBER_DIR
    mirror = Mirror.create(directory / MIRROR_DIR, url)
    try:
        head = mirror.fetch()
    except GitError as error:
        raise ClusterError(str(error)) from None
    if head is not None:
        raise ClusterError(f"the repository {escape(url)} is not empty")
    layout = Layout(name, {group: [machine]})
    changes = [
        Change(LAYOUT_PATH, layout.dumps()),
        Change(Level(CLUSTER).path, _table_bytes(table)),
    ]
    message = f"destconfig cluster create {name}"
    return _push_membership(Member(home, url, machine), None, changes, message, author)


def join(home: Path, *, url: str, group: str, machine: str, author: str | None) -> Member:
    """This home as machine *machine* of group *group* of the cluster in *url*."""
    url = absolute(url)
    check_name(GROUP, group)
    check_name(MACHINE, machine)
    member = Member(home, url, machine)
    existing = _existing(home)
    if existing is not None:
        if (existing.url, existing.machine) == (url, machine):
            return existing  # joined already (a join whose end was cut short, run again)
        raise ClusterError("this home is already a machine of a cluster: 'cluster leave' first")
    mirror = Mirror.create(home / MEMBER_DIR / MIRROR_DIR, url)
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    try:
        layout = state.layout.with_machine(machine, group)
    except LevelError as error:
        raise ClusterError(str(error)) from None
    changes = [Change(LAYOUT_PATH, layout.dumps())]
    return _push_membership(member, head, changes, f"destconfig cluster join {machine}", author)


def leave(member: Member, *, author: str | None) -> None:
    """This machine out of the cluster (and its machine level); the home keeps its table."""
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    changes = [Change(LAYOUT_PATH, state.layout.without_machine(member.machine).dumps())]
    own = Level(MACHINE, member.machine)
    if own in state.defined:
        changes.append(Change(own.path, None))
    if state.layout.group_of(member.machine) is not None or own in state.defined:
        message = f"destconfig cluster leave {member.machine}"
        _push(mirror, head, changes, message, author, member.machine)
    for path in sorted(member.directory.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    member.directory.rmdir()


@dataclass(frozen=True)
class Applied:
    commit: str
    level: Level
    table: Table
    changed: bool


def effective_text(member: Member, *, pushed: Pushed | None = None) -> tuple[State, Level, bytes]:
    """This machine's effective table as the bytes of its level's file (fetched anew, or
    as this process has just *pushed* it): the home compares them with its config.toml
    before reading either as a table."""
    if pushed is not None:
        state = pushed.state
    else:
        mirror, head = _fetch(member)
        state = State.at(mirror, head)
    if state.layout.group_of(member.machine) is None:
        raise ClusterError(
            f"machine {member.machine} is no longer in cluster {state.layout.name} (someone "
            f"took it out of {LAYOUT_PATH}): nothing was applied, the home keeps its table; "
            "'cluster leave' makes it a home of its own"
        )
    level = source_level(state.layout, state.defined, member.machine)
    text = pushed.text if pushed is not None and pushed.level == level else state.text(level)
    if text is None:
        raise ClusterError(f"the repository has no table for {level}")
    return state, level, text


@dataclass(frozen=True)
class Pushed:
    """A change to one level: the state it made (or the one it started from, when there
    was nothing to commit), the level and its file as pushed, the tables before and after."""

    state: State
    level: Level
    text: bytes | None
    before: Table
    after: Table

    @property
    def commit(self) -> str:
        return self.state.commit


def record_applied(member: Member, commit: str) -> None:
    try:
        member.mirror.set_ref(APPLIED_REFS + member.machine, commit)
    except GitError as error:
        raise ClusterError(str(error)) from None


def push_tables(
    member: Member, base: str, tables: dict[Level, Table], message: str, author: str | None
) -> str:
    """One repository commit on *base* that writes each level's table, pushed as a
    fast-forward; its sha. ClusterError (``conflict`` when another administrator
    committed first) when nothing was committed."""
    changes = [Change(level.path, _table_bytes(table)) for level, table in sorted(tables.items())]
    return _push(member.mirror, base, changes, message, author, member.machine)


def change_level(
    member: Member,
    level: Level,
    change: Callable[[Table], Table],
    *,
    comment: str,
    author: str | None,
    note: Callable[[str], None],
) -> Pushed:
    """*change* made to *level*'s table (a copy of what it inherits when it has none,
    which *note* is told) and pushed."""
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    state.require_known(level)
    source, text, before = state.inherited_text(level)
    if source != level:
        note(f"{level} defines no table: starting from a copy of {source}'s")
    after = change(before)
    if after == before:  # nothing to commit, a level without a table included
        return Pushed(state, level, None, before, after)
    written = _table_bytes(after, (before, text))
    commit = _push(mirror, head, [Change(level.path, written)], comment, author, member.machine)
    made = State(mirror, commit, state.layout, state.defined | {level})
    return Pushed(made, level, written, before, after)


def set_levels(
    member: Member,
    operation: str,
    first: Level,
    second: Level | None,
    *,
    comment: str,
    author: str | None,
) -> str:
    """``cluster set copy|move|delete``: one repository commit."""
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    if operation == "delete":
        if second is not None:
            raise ClusterError("cluster set delete takes one level")
        if first.kind == CLUSTER:
            raise ClusterError(
                "the cluster level's table cannot be deleted: every machine inherits it"
            )
        if first not in state.defined:
            raise ClusterError(f"{first} defines no table")
        changes = [Change(first.path, None)]
    else:
        if second is None:
            raise ClusterError(f"cluster set {operation} takes two levels: from and to")
        table = state.table(first)
        if table is None:
            raise ClusterError(f"{first} defines no table")
        state.require_known(second)
        changes = [Change(second.path, _table_bytes(table))]
        if operation == "move":
            if first.kind == CLUSTER:
                raise ClusterError("the cluster level's table cannot be moved: copy it")
            changes.append(Change(first.path, None))
    fallback = f"destconfig cluster set {operation} {first}" + (f" {second}" if second else "")
    return _push(mirror, head, changes, subject(comment, fallback), author, member.machine)


def status(member: Member) -> tuple[dict[str, Any], str | None]:
    """The document of ``cluster status``, and a note when the repository was not reached."""
    state, note = current(member, offline_ok=True)
    applied = state.mirror.refs(APPLIED_REFS)
    machines = []
    for machine, group in state.layout.machines():
        done = applied.get(machine)
        machines.append(
            {
                "machine": machine,
                "group": group,
                "level": str(source_level(state.layout, state.defined, machine)),
                "applied": done,
                "newest": done == state.commit,
            }
        )
    return {"cluster": state.layout.name, "head": state.commit, "machines": machines}, note
