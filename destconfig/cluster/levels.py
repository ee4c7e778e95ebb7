"""The levels of a cluster, as the repository lays them out: pure, no git.

``cluster.toml`` names the cluster, its groups and their machines; each level that
defines a table has a ``config.toml`` of its own (the schema of the home's). As on the
appliance, a level's table replaces the whole table of the levels above it: the
effective table of a machine is its machine's, else its group's, else the cluster's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import tomli_w

LAYOUT_PATH = "cluster.toml"
CLUSTER, GROUP, MACHINE = "cluster", "group", "machine"
DEFAULT_GROUP = "Main_Group"

# Names that are safe as one directory of the repository and as one word of a ref.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class LevelError(ValueError):
    """A level, a name or a cluster.toml that cannot be used; str() says why."""


def check_name(kind: str, name: str) -> str:
    if _NAME.fullmatch(name) is None or name.endswith((".lock", ".")) or ".." in name:
        raise LevelError(
            f"invalid {kind} name {name!r}: letters, digits, '.', '_' or '-' (63 at most), "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, order=True)
class Level:
    """``cluster``, ``group:NAME`` or ``machine:NAME``."""

    kind: str
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> Level:
        kind, colon, name = text.partition(":")
        kind = kind.strip().lower()
        if kind == CLUSTER and not colon:
            return cls(CLUSTER)
        if kind in (GROUP, MACHINE) and colon:
            return cls(kind, check_name(kind, name.strip()))
        raise LevelError(f"invalid level {text!r}: cluster, group:NAME or machine:NAME")

    @property
    def path(self) -> str:
        """Where the level's table lives in the repository."""
        if self.kind == CLUSTER:
            return "cluster/config.toml"
        return f"{self.kind}s/{self.name}/config.toml"

    def __str__(self) -> str:
        return CLUSTER if self.kind == CLUSTER else f"{self.kind}:{self.name}"

    def prompt(self) -> str:
        """The shell's prompt in this level's mode."""
        return f"({self.kind.capitalize()} {self.name})> "


@dataclass
class Layout:
    """``cluster.toml``: the cluster's name, and each group's machines."""

    name: str
    groups: dict[str, list[str]] = field(default_factory=dict)

    def group_of(self, machine: str) -> str | None:
        for group, machines in self.groups.items():
            if machine in machines:
                return group
        return None

    def machines(self) -> list[tuple[str, str]]:
        """(machine, group) of every machine, in name order."""
        return sorted((machine, group) for group, each in self.groups.items() for machine in each)

    def with_machine(self, machine: str, group: str) -> Layout:
        if self.group_of(machine) is not None:
            raise LevelError(f"machine {machine!r} is already in the cluster")
        groups = {name: list(each) for name, each in self.groups.items()}
        groups.setdefault(group, []).append(machine)
        return Layout(self.name, groups)

    def without_machine(self, machine: str) -> Layout:
        groups = {
            name: [each for each in machines if each != machine]
            for name, machines in self.groups.items()
        }
        return Layout(self.name, groups)

    def dumps(self) -> bytes:
        document: dict[str, Any] = {
            "name": self.name,
            "groups": {
                group: {"machines": sorted(each)} for group, each in sorted(self.groups.items())
            },
        }
        return tomli_w.dumps(document).encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Layout:
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise LevelError(f"{LAYOUT_PATH} is not valid TOML: {error}") from None
        name = document.get("name")
        groups = document.get("groups", {})
        if not isinstance(name, str) or not isinstance(groups, dict):
            raise LevelError(f"{LAYOUT_PATH} needs a name and a table of groups")
        layout = cls(check_name(CLUSTER, name))
        seen: set[str] = set()
        for group, body in groups.items():
            machines = body.get("machines", []) if isinstance(body, dict) else None
            if not isinstance(machines, list) or not all(isinstance(m, str) for m in machines):
                raise LevelError(f"{LAYOUT_PATH}: group {group!r} needs a list of machines")
            for machine in machines:
                check_name(MACHINE, machine)
                if machine in seen:
                    raise LevelError(f"{LAYOUT_PATH}: machine {machine!r} is in two groups")
                seen.add(machine)
            layout.groups[check_name(GROUP, group)] = list(machines)
        return layout


def source_level(layout: Layout, defined: set[Level], machine: str) -> Level:
    """The level a machine's effective table comes from: the most specific that defines one."""
    own = Level(MACHINE, machine)
    if own in defined:
        return own
    group = layout.group_of(machine)
    if group is not None and Level(GROUP, group) in defined:
        return Level(GROUP, group)
    return Level(CLUSTER)


def inherited_level(layout: Layout, defined: set[Level], level: Level) -> Level:
    """For a level without a table, the level whose table it inherits now."""
    if level.kind == MACHINE and level.name is not None:
        group = layout.group_of(level.name)
        if group is not None and Level(GROUP, group) in defined:
            return Level(GROUP, group)
    return Level(CLUSTER)
