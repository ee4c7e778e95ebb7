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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

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
    """This home's membership: where the repository is, which machine this is."""

    home: Path
    url: str
    machine: str

    @property
    def directory(self) -> Path:
        return self.home / MEMBER_DIR

    @property
    def mirror(self) -> Mirror:
        return Mirror(self.directory / MIRROR_DIR, self.url)

    @classmethod
    def of(cls, home: Path) -> Member | None:
        """The membership of *home*, or None when it is no cluster's machine."""
        path = home / MEMBER_DIR / MEMBER_FILE
        try:
            data = read_regular(path, 64 * 1024)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ClusterError(f"cannot read {escape(str(path))}: {error.strerror}") from None
        try:
            document = tomllib.loads(data.decode("utf-8"))
            return cls(home, str(document["url"]), check_name(MACHINE, str(document["machine"])))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, LevelError) as error:
            raise ClusterError(f"{escape(str(path))} is damaged: {escape(str(error))}") from None

    def save(self) -> None:
        make_private_directory(self.directory)
        data = tomli_w.dumps({"url": self.url, "machine": self.machine}).encode("utf-8")
        write_file(self.directory / MEMBER_FILE, data, replace=True)


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
        # Which levels have a table: their directories' names, not the tables (large) read.
        defined = set()
        if "config.toml" in mirror.paths(commit, CLUSTER):
            defined.add(Level(CLUSTER))
        for kind in (GROUP, MACHINE):
            for name in mirror.paths(commit, f"{kind}s"):
                if "config.toml" in mirror.paths(commit, f"{kind}s/{name}"):
                    defined.add(Level(kind, name))
        return cls(mirror, commit, layout, defined)

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
        own = self.table(level)
        if own is not None:
            return level, own
        source = inherited_level(self.layout, self.defined, level)
        table = self.table(source)
        if table is None:
            raise ClusterError(f"the repository has no table for {source}")
        return source, table


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


def _table_bytes(table: Table) -> bytes:
    text = toml_format.dumps(table)
    _written.clear()
    _written[hashlib.blake2b(text).digest()] = table
    return text


def _message(comment: str, fallback: str) -> str:
    return comment.strip() or fallback


def _push(
    mirror: Mirror,
    base: str | None,
    changes: list[Change],
    message: str,
    author: str | None,
    machine: str,
) -> str:
    fallback = f"{machine} <{machine}@{socket.gethostname() or 'localhost'}>"
    try:
        commit = mirror.commit(base, changes, message, author, fallback_author=fallback)
        mirror.push(base, commit)
    except PushRefused:
        raise ClusterError(CONFLICT, conflict=True) from None
    except GitError as error:
        raise ClusterError(str(error)) from None
    return commit


def create(
    home: Path, table: Table, *, name: str, url: str, group: str, machine: str, author: str | None
) -> Member:
    """A new cluster in *url* whose cluster level is *table*; this home its first machine."""
    url = absolute(url)
    check_name(CLUSTER, name)
    check_name(GROUP, group)
    check_name(MACHINE, machine)
    if Member.of(home) is not None:
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
    _push(mirror, None, changes, f"destconfig cluster create {name}", author, machine)
    member = Member(home, url, machine)
    member.save()
    return member


def join(home: Path, *, url: str, group: str, machine: str, author: str | None) -> Member:
    """This home as machine *machine* of group *group* of the cluster in *url*."""
    url = absolute(url)
    check_name(GROUP, group)
    check_name(MACHINE, machine)
    if Member.of(home) is not None:
        raise ClusterError("this home is already a machine of a cluster: 'cluster leave' first")
    mirror = Mirror.create(home / MEMBER_DIR / MIRROR_DIR, url)
    member = Member(home, url, machine)
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    try:
        layout = state.layout.with_machine(machine, group)
    except LevelError as error:
        raise ClusterError(str(error)) from None
    _push(
        mirror,
        head,
        [Change(LAYOUT_PATH, layout.dumps())],
        f"destconfig cluster join {machine}",
        author,
        machine,
    )
    member.save()
    return member


def leave(member: Member, *, author: str | None) -> None:
    """This machine out of the cluster (and its machine level); the home keeps its table."""
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    changes = [Change(LAYOUT_PATH, state.layout.without_machine(member.machine).dumps())]
    own = Level(MACHINE, member.machine)
    if own in state.defined:
        changes.append(Change(own.path, None))
    _push(
        mirror, head, changes, f"destconfig cluster leave {member.machine}", author, member.machine
    )
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


def effective_now(member: Member) -> tuple[State, Level, Table]:
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    level, table = state.effective(member.machine)
    return state, level, table


def effective_text(member: Member, *, fetch: bool = True) -> tuple[State, Level, bytes]:
    """This machine's effective table as the bytes of its level's file (fetched anew, or
    as the mirror has it when this process has just pushed): the home compares them with
    its config.toml before reading either as a table."""
    if fetch:
        mirror, head = _fetch(member)
    else:
        mirror = member.mirror
        last = mirror.head()
        if last is None:
            raise ClusterError("the cluster repository was never fetched")
        head = last
    state = State.at(mirror, head)
    level = source_level(state.layout, state.defined, member.machine)
    text = state.text(level)
    if text is None:
        raise ClusterError(f"the repository has no table for {level}")
    return state, level, text


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
) -> tuple[str, Table, Table]:
    """*change* made to *level*'s table (a copy of what it inherits when it has none,
    which *note* is told) and pushed; the new commit, the tables before and after."""
    mirror, head = _fetch(member)
    state = State.at(mirror, head)
    source, before = state.inherited(level)
    if source != level:
        note(f"{level} defines no table: starting from a copy of {source}'s")
    after = change(before)
    if after == before and source == level:
        return head, before, after
    commit = _push(
        mirror, head, [Change(level.path, _table_bytes(after))], comment, author, member.machine
    )
    return commit, before, after


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
        changes = [Change(second.path, _table_bytes(table))]
        if operation == "move":
            if first.kind == CLUSTER:
                raise ClusterError("the cluster level's table cannot be moved: copy it")
            changes.append(Change(first.path, None))
    fallback = f"destconfig cluster set {operation} {first}" + (f" {second}" if second else "")
    return _push(mirror, head, changes, _message(comment, fallback), author, member.machine)


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
