"""What a change in a cluster home commits to the repository: nothing for no change (at
a level without a table too), a subject that is the comment or ``destconfig COMMAND
LINE``, and only levels that ``cluster.toml`` knows. Against a real ``git daemon``."""

from __future__ import annotations

from pathlib import Path

import pytest

from destconfig.messages import NOTHING_TO_COMMIT
from tests.gitdaemon import Daemon
from tests.helpers import run_cli, run_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def homes(tmp_path: Path, daemon: Daemon) -> dict[str, Path]:
    """Cluster prod: edge1 in group edge, core1 in group core."""
    found = {name: tmp_path / name for name in ("edge1", "core1")}
    run_ok(found["edge1"], "new", "seed.example")
    url = daemon.new_repo("prod")
    run_ok(found["edge1"], "cluster", "create", "prod", "--repo", url, "--machine", "edge1")
    run_ok(found["core1"], "cluster", "join", url, "--machine", "core1", "--group", "core")
    return found


def main_of(daemon: Daemon) -> str:
    return daemon.git("prod", "rev-parse", "main").strip()


def last_subject(daemon: Daemon) -> str:
    return daemon.git("prod", "log", "-1", "--format=%s", "main")


@pytest.mark.parametrize("level", ["group:core", "machine:core1", "cluster"])
def test_no_change_commits_nothing_at_any_level(
    homes: dict[str, Path], daemon: Daemon, level: str
) -> None:
    before = main_of(daemon)
    done = run_cli(homes["edge1"], "setup", "--level", level)
    assert (done.status, done.out) == (0, NOTHING_TO_COMMIT + "\n")
    assert main_of(daemon) == before
    tree = daemon.git("prod", "ls-tree", "-r", "--name-only", "main")
    assert tree == "cluster.toml\ncluster/config.toml\n"


def test_a_subject_is_the_comment_else_destconfig_and_the_command(
    homes: dict[str, Path], daemon: Daemon
) -> None:
    run_ok(homes["edge1"], "new", "a.example")
    assert last_subject(daemon) == "destconfig new a.example\n"
    run_ok(homes["edge1"], "new", "b.example", "--comment", "")
    assert last_subject(daemon) == "destconfig new b.example\n"
    run_ok(homes["edge1"], "delete", "b.example", "--comment", "  \t ")
    assert last_subject(daemon) == "destconfig delete b.example\n"
    run_ok(homes["edge1"], "new", "c.example", "--level", "group:core", "--comment", "core only")
    assert last_subject(daemon) == "core only\n"
    run_ok(homes["edge1"], "cluster", "set", "delete", "group:core", "--comment", " ")
    assert last_subject(daemon) == "destconfig cluster set delete group:core\n"


@pytest.mark.parametrize(
    ("command", "level", "said"),
    [
        (
            ("new", "x.example"),
            "group:nosuch",
            "there is no group nosuch in cluster prod; its groups are: Main_Group, core",
        ),
        (
            ("new", "x.example"),
            "machine:core9",
            "there is no machine core9 in cluster prod; its machines are: core1, edge1",
        ),
        (
            ("list",),
            "group:nosuch",
            "there is no group nosuch in cluster prod; its groups are: Main_Group, core",
        ),
        (
            ("new", "x.example", "--dry-run"),
            "machine:nope",
            "there is no machine nope in cluster prod; its machines are: core1, edge1",
        ),
    ],
)
def test_a_level_that_cluster_toml_does_not_name_is_refused(
    homes: dict[str, Path], daemon: Daemon, command: tuple[str, ...], level: str, said: str
) -> None:
    before = main_of(daemon)
    done = run_cli(homes["edge1"], *command, "--level", level)
    assert (done.status, done.out, done.err) == (1, "", f"destconfig: {said}\n")
    assert main_of(daemon) == before


def test_a_copy_to_a_level_that_cluster_toml_does_not_name_is_refused(
    homes: dict[str, Path], daemon: Daemon
) -> None:
    before = main_of(daemon)
    done = run_cli(homes["edge1"], "cluster", "set", "copy", "cluster", "group:nosuch")
    assert done.status == 1
    assert done.err == (
        "destconfig: there is no group nosuch in cluster prod; its groups are: Main_Group, core\n"
    )
    assert main_of(daemon) == before
