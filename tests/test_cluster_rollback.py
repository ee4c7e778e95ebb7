"""``rollback`` in a cluster home: the home's table is its level's in the repository, so
a rollback commits the earlier table to a level (the cluster's, or ``--level``), as
the shell's ``rollbackconfig`` makes it its mode's level's pending change; a rollback of
the home alone would be undone by the next ``cluster apply``. Against a real ``git
daemon``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from destconfig.store import Store
from tests.gitdaemon import Daemon
from tests.helpers import run_cli, run_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def homes(tmp_path: Path, daemon: Daemon) -> dict[str, Path]:
    """Cluster prod of edge1 and edge2; a.example added at the cluster level since (edge1's
    home keeps the table before it as rollback copy 1)."""
    found = {name: tmp_path / name for name in ("edge1", "edge2")}
    run_ok(found["edge1"], "new", "seed.example")
    url = daemon.new_repo("prod")
    run_ok(found["edge1"], "cluster", "create", "prod", "--repo", url, "--machine", "edge1")
    run_ok(found["edge2"], "cluster", "join", url, "--machine", "edge2", "--group", "far")
    run_ok(found["edge1"], "new", "a.example")
    run_ok(found["edge2"], "cluster", "apply")
    return found


def entries(home: Path) -> set[str]:
    return set(Store(home).load().entries)


def level_entries(daemon: Daemon, path: str) -> str:
    return daemon.git("prod", "show", f"main:{path}")


def test_a_rollback_commits_the_earlier_table_to_the_cluster_level(
    homes: dict[str, Path], daemon: Daemon
) -> None:
    done = run_ok(homes["edge1"], "rollback", "1")
    assert done.out.startswith("Changes committed: ")
    assert "a.example" not in level_entries(daemon, "cluster/config.toml")
    assert daemon.git("prod", "log", "-1", "--format=%s", "main") == "destconfig rollback 1\n"
    assert entries(homes["edge1"]) == {"seed.example"}
    status = json.loads(run_ok(homes["edge1"], "cluster", "status", "--format", "json").out)
    assert {each["machine"]: each["newest"] for each in status["machines"]}["edge1"]
    # The next apply keeps it, here and on the other machine.
    assert run_ok(homes["edge1"], "cluster", "apply").out.startswith("Already applied")
    run_ok(homes["edge2"], "cluster", "apply")
    assert entries(homes["edge2"]) == {"seed.example"}


def test_a_rollback_with_a_level_commits_to_that_level(
    homes: dict[str, Path], daemon: Daemon
) -> None:
    run_ok(homes["edge1"], "rollback", "1", "--level", "group:far", "--comment", "far back")
    assert "a.example" not in level_entries(daemon, "groups/far/config.toml")
    assert "a.example" in level_entries(daemon, "cluster/config.toml")
    assert daemon.git("prod", "log", "-1", "--format=%s", "main") == "far back\n"
    assert entries(homes["edge1"]) == {"seed.example", "a.example"}  # its level is the cluster
    run_ok(homes["edge2"], "cluster", "apply")
    assert entries(homes["edge2"]) == {"seed.example"}


def test_the_list_takes_no_level_and_a_plain_home_no_level_at_all(
    homes: dict[str, Path], tmp_path: Path
) -> None:
    listed = run_cli(homes["edge1"], "rollback", "--list", "--level", "cluster")
    assert (listed.status, listed.out) == (2, "")
    assert listed.err == (
        "destconfig: --level is for a rollback: give the number N (the list is this home's)\n"
    )
    plain = tmp_path / "plain"
    run_ok(plain, "new", "one.example")
    run_ok(plain, "new", "two.example")
    refused = run_cli(plain, "rollback", "1", "--level", "cluster")
    assert (refused.status, refused.err) == (2, "destconfig: --level is for a cluster home\n")
    assert entries(plain) == {"one.example", "two.example"}


def test_rollbackconfig_in_the_shell_changes_the_modes_level_as_the_command_does(
    homes: dict[str, Path], daemon: Daemon
) -> None:
    answers = "clustermode cluster\nrollbackconfig\n1\ncommit\n\nquit\n"
    done = run_cli(homes["edge1"], stdin=answers.encode())
    assert (done.status, done.err) == (0, ""), done.out
    assert "The change is pending: 'commit' commits it" in done.out
    assert "a.example" not in level_entries(daemon, "cluster/config.toml")
    assert entries(homes["edge1"]) == {"seed.example"}
    run_ok(homes["edge2"], "cluster", "apply")
    assert entries(homes["edge2"]) == {"seed.example"}
