"""A state of the cluster repository read with real git: which levels define a table is
seen in a number of git calls that does not grow with the cluster's machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from destconfig.cluster import git as git_module
from destconfig.cluster.git import Change, Mirror
from destconfig.cluster.levels import Layout, Level
from destconfig.cluster.member import State
from tests.gitdaemon import require_git


def cluster_of(tmp_path: Path, machines: int) -> tuple[Mirror, str]:
    """A commit of a cluster whose every machine and group has a table of its own."""
    require_git()
    names = [f"m{number}" for number in range(machines)]
    groups = {f"g{number % 7}": [] for number in range(min(machines, 7))}
    for number, name in enumerate(names):
        groups[f"g{number % 7}"].append(name)
    changes = [
        Change("cluster.toml", Layout("big", groups).dumps()),
        Change("cluster/config.toml", b""),
        *(Change(f"machines/{name}/config.toml", b"") for name in names),
        *(Change(f"groups/{group}/config.toml", b"") for group in groups),
        Change("machines/m0/notes.txt", b"not a table"),
    ]
    mirror = Mirror.create(tmp_path / f"mirror-{machines}.git", str(tmp_path / f"r{machines}.git"))
    return mirror, mirror.commit(None, changes, "big", None)


def git_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every git program run from now on (the module's one way of running git)."""
    calls: list[list[str]] = []
    run = git_module._run

    def counted(arguments: list[str], **options: object) -> object:
        calls.append(list(arguments))
        return run(arguments, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(git_module, "_run", counted)
    return calls


def test_the_levels_of_any_number_of_machines_in_a_few_git_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, small_commit = cluster_of(tmp_path, 3)
    large, large_commit = cluster_of(tmp_path, 1500)
    calls = git_calls(monkeypatch)
    few = State.at(small, small_commit)
    small_calls = len(calls)
    calls.clear()
    many = State.at(large, large_commit)
    assert len(calls) == small_calls <= 3
    assert len(many.defined) == 1 + 1500 + 7
    assert Level("machine", "m1499") in many.defined and Level("group", "g6") in many.defined
    assert few.defined == {
        Level("cluster"),
        *(Level("machine", f"m{number}") for number in range(3)),
        *(Level("group", f"g{number}") for number in range(3)),
    }
