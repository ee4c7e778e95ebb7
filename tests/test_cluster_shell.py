"""The shell in a cluster home: the modes, the levels' tables, one repository commit for
every level changed, the conflict, the home without its repository; piped and at a real
terminal, against a real ``git daemon`` (tests/gitdaemon.py)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from destconfig.cli import main
from destconfig.env import Environment
from destconfig.messages import CONFLICT
from destconfig.model import Table
from destconfig.replay import FIXED_TIME
from destconfig.store import Store, format_time
from tests.gitdaemon import Daemon
from tests.helpers import ROOT, Result, run_cli, run_ok, run_process

pytestmark = pytest.mark.slow  # each test builds a cluster on a real git daemon

STAMP = format_time(FIXED_TIME)
# A new entry with every question answered N, then back to the prompt.
NEW_ENTRY = ["new", "{}", "N", "N", "N", "N", "N", "N", "N", ""]


ok = run_ok


@pytest.fixture
def hosts(tmp_path: Path, daemon: Daemon) -> dict[str, Path]:
    """Cluster prod: edge1 and edge2 in group edge, core1 in group core, one table."""
    homes = {name: tmp_path / name for name in ("edge1", "edge2", "core1")}
    ok(homes["edge1"], "new", "seed.example", "--tls", "required")
    url = daemon.new_repo("prod")
    created = ("cluster", "create", "prod", "--repo", url, "--machine", "edge1", "--group", "edge")
    ok(homes["edge1"], *created)
    ok(homes["edge2"], "cluster", "join", url, "--machine", "edge2", "--group", "edge")
    ok(homes["core1"], "cluster", "join", url, "--machine", "core1", "--group", "core")
    return homes


def answers(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def new_entry(domain: str) -> list[str]:
    return [word.format(domain) for word in NEW_ENTRY]


def table_of(home: Path) -> Table:
    return Store(home).load()


def head(daemon: Daemon) -> str:
    return daemon.git("prod", "rev-parse", "main").strip()


HELP = (
    "clearchanges - Discard the changes made since the last commit.\n"
    "{}"
    "commit - Save the pending changes.\n"
    "destconfig - Configure destination controls.\n"
    "exit - End the session.\n"
    "help - List the available commands.\n"
    "quit - End the session.\n"
    "rollbackconfig - Return to an earlier committed configuration.\n"
    "tlsverify - Check a domain's TLS delivery against its mail server.\n"
)
CLUSTERMODE_HELP = (
    "clustermode - Choose the level to configure: the cluster, a group or a machine.\n"
)


def test_a_session_starts_in_machine_mode(hosts: dict[str, Path], tmp_path: Path) -> None:
    done = run_cli(hosts["edge1"], stdin=answers("help", "quit"))
    assert (done.status, done.err) == (0, "")
    assert done.out == (
        "(Machine edge1)> help\n\n" + HELP.format(CLUSTERMODE_HELP) + "\n(Machine edge1)> quit\n"
    )
    # A home that is no cluster's machine has neither the modes nor the command.
    plain = run_cli(tmp_path / "plain", stdin=answers("help", "clustermode cluster", "quit"))
    assert plain.out == (
        "ESA> help\n"
        "\n" + HELP.format("") + "\n"
        "ESA> clustermode cluster\n"
        "\n"
        "Unknown command or missing feature key: clustermode\n"
        "\n"
        "ESA> quit\n"
    )


def test_clustermode_switches_to_a_group_and_the_cluster(hosts: dict[str, Path]) -> None:
    done = run_cli(
        hosts["core1"],
        stdin=answers(
            "clustermode group edge",
            "CLUSTERMODE Cluster",
            "clustermode",
            "2",
            "clustermode",
            "",
            "clustermode machine:edge2",
            "clustermode group west",
            "clustermode machine",
            "clustermode machine edge1",
            "quit",
        ),
    )
    assert (done.status, done.err) == (0, "")
    assert done.out == (
        "(Machine core1)> clustermode group edge\n"
        "\n"
        "(Group edge)> CLUSTERMODE Cluster\n"
        "\n"
        "(Cluster prod)> clustermode\n"
        "\n"
        "Choose a mode:\n"
        "1. Cluster: prod\n"
        "2. Group: core\n"
        "3. Machine: core1\n"
        "[1]> 2\n"
        "\n"
        "(Group core)> clustermode\n"
        "\n"
        "Choose a mode:\n"
        "1. Cluster: prod\n"
        "2. Group: core\n"
        "3. Machine: core1\n"
        "[2]> \n"
        "\n"
        "(Group core)> clustermode machine:edge2\n"
        "\n"
        "(Machine edge2)> clustermode group west\n"
        "\n"
        "Unknown group: west. The groups of cluster prod are: core, edge.\n"
        "\n"
        "(Machine edge2)> clustermode machine\n"
        "\n"
        "Usage: clustermode [cluster | group NAME | machine NAME]\n"
        "\n"
        "(Machine edge2)> clustermode machine edge1\n"
        "\n"
        "(Machine edge1)> quit\n"
    )


def test_a_group_change_reaches_that_groups_other_machine(
    hosts: dict[str, Path], daemon: Daemon
) -> None:
    done = run_cli(
        hosts["edge1"],
        stdin=answers(
            "clustermode group edge",
            "destconfig",
            "Y",
            *new_entry("edge.example"),
            "",
            "commit",
            "edge only",
            "quit",
        ),
    )
    assert (done.status, done.err) == (0, ""), done.out
    sha = head(daemon)
    assert done.out.endswith(
        "(Group edge)> commit\n"
        "\n"
        "Please enter some comments describing your changes:\n"
        "[]> edge only\n"
        "\n"
        f"Changes committed: {STAMP} (cluster commit {sha[:12]})\n"
        f"Applied cluster commit {sha[:12]}: the table of group:edge.\n"
        "\n"
        "(Group edge)> quit\n"
    )
    assert daemon.git("prod", "log", "-1", "--format=%s", "main") == "edge only\n"
    changed = daemon.git("prod", "diff-tree", "--no-commit-id", "--name-only", "-r", "main")
    assert changed == "groups/edge/config.toml\n"
    assert "edge.example" in table_of(hosts["edge1"]).entries  # applied at once here
    assert "edge.example" not in table_of(hosts["edge2"]).entries  # not yet there
    applied = ok(hosts["edge2"], "cluster", "apply")
    assert applied.out == f"Applied cluster commit {sha[:12]}: the table of group:edge.\n"
    assert set(table_of(hosts["edge2"]).entries) == {"seed.example", "edge.example"}
    ok(hosts["core1"], "cluster", "apply")
    assert set(table_of(hosts["core1"]).entries) == {"seed.example"}


def test_every_level_changed_is_one_commit(hosts: dict[str, Path], daemon: Daemon) -> None:
    before = head(daemon)
    done = run_cli(
        hosts["edge2"],
        stdin=answers(
            "clustermode cluster",
            "destconfig",
            *new_entry("everyone.example"),
            "",
            "clustermode machine core1",
            "destconfig",
            "Y",
            "delete",
            "seed.example",
            "",
            "commit",
            "",
            "quit",
        ),
    )
    assert (done.status, done.err) == (0, ""), done.out
    sha = head(daemon)
    assert daemon.git("prod", "rev-parse", f"{sha}^").strip() == before  # one commit
    assert daemon.git("prod", "log", "-1", "--format=%s", "main") == "destconfig shell commit\n"
    changed = daemon.git("prod", "diff-tree", "--no-commit-id", "--name-only", "-r", "main")
    assert changed == "cluster/config.toml\nmachines/core1/config.toml\n"
    # edge2's own table is the cluster's: applied at once
    assert f"Applied cluster commit {sha[:12]}: the table of cluster.\n" in done.out
    assert set(table_of(hosts["edge2"]).entries) == {"seed.example", "everyone.example"}
    ok(hosts["core1"], "cluster", "apply")
    # its machine level's table: a copy of the cluster's, the session's change included
    assert set(table_of(hosts["core1"]).entries) == {"everyone.example"}


def test_a_level_without_a_table_offers_a_copy(hosts: dict[str, Path]) -> None:
    ok(hosts["edge2"], "new", "group.example", "--level", "group:edge")
    done = run_cli(
        hosts["edge1"],
        stdin=answers("destconfig", "", "destconfig", "y", "list", "", "quit", "Y"),
    )
    assert (done.status, done.err) == (0, "")
    offer = (
        "(Machine edge1)> destconfig\n"
        "\n"
        "This machine's table is defined at group:edge.\n"
        "Do you want to copy it to machine:edge1? [N]> "
    )
    assert done.out.startswith(
        offer + "\n"  # no: back to the prompt, nothing pending
        "\n" + offer + "y\n"
        "\n"
        "Choose the operation you want to perform:\n"
    )
    listed = done.out.split("[]> list\n", 1)[1]
    assert "group.example" in listed and "seed.example" in listed
    # the copy is the level's pending table: quit asks
    assert done.out.endswith(
        "(Machine edge1)> quit\n"
        "\n"
        "You have uncommitted changes. Exit without committing them? [N]> Y\n"
    )


class Meanwhile(io.BytesIO):
    """Piped answers; when line *before* is read, *action* runs once before the shell
    gets the line (another administrator commits while this session is at its prompt)."""

    def __init__(self, data: bytes, before: bytes, action: Callable[[], None]) -> None:
        super().__init__(data)
        self._before = before
        self._action: Callable[[], None] | None = action

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        if line == self._before and self._action is not None:
            action, self._action = self._action, None
            action()
        return line


def run_shell(home: Path, stdin: io.BytesIO) -> Result:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=stdin, stdout=out, stderr=err, clock=lambda: FIXED_TIME)
    status = main(["--home", str(home)], env)
    return Result(int(status), out.getvalue(), err.getvalue())


def test_a_conflict_keeps_the_changes_pending(hosts: dict[str, Path], daemon: Daemon) -> None:
    def other_administrator() -> None:
        done = run_process(hosts["edge2"], "new", "meanwhile.example")
        assert done.returncode == 0, done.stderr

    stdin = Meanwhile(
        answers(
            "clustermode cluster",
            "destconfig",
            *new_entry("mine.example"),
            "",
            "commit",
            "mine",
            "commit",
            "again",
            "clearchanges",
            "Y",
            "destconfig",
            "list",
            "",
            "quit",
        ),
        b"commit\n",
        other_administrator,
    )
    done = run_shell(hosts["edge1"], stdin)
    assert (done.status, done.err) == (0, ""), done.out
    refused = (
        "(Cluster prod)> commit\n"
        "\n"
        "Please enter some comments describing your changes:\n"
        "[]> {}\n"
        "\n" + CONFLICT + "\n"
    )
    assert refused.format("mine") + "\n" + refused.format("again") in done.out
    assert (
        "(Cluster prod)> clearchanges\n"
        "\n"
        "Are you sure you want to clear all changes since the last commit? [Y]> Y\n"
        "\n"
        f"Changes cleared: {STAMP}\n"
    ) in done.out
    listed = done.out.split("[]> list\n", 1)[1]
    assert "meanwhile.example" in listed and "mine.example" not in listed
    assert done.out.endswith("(Cluster prod)> quit\n")  # nothing pending after clearchanges
    subjects = daemon.git("prod", "log", "--format=%s", "main").splitlines()
    assert "mine" not in subjects and "again" not in subjects
    assert "mine.example" not in table_of(hosts["edge1"]).entries


def test_without_the_repository_the_shell_starts_on_the_state_last_fetched(
    hosts: dict[str, Path], daemon: Daemon
) -> None:
    before = (hosts["core1"] / "config.toml").read_bytes()
    daemon.stop()
    try:
        done = run_cli(
            hosts["core1"],
            stdin=answers(
                "destconfig", "Y", "list", "delete", "seed.example", "", "commit", "", "quit", "Y"
            ),
        )
    finally:
        daemon.start()
    assert done.status == 0
    assert done.err.startswith("destconfig: cannot reach the cluster repository git://")
    assert done.err.endswith("; showing the state last fetched\n")
    assert done.err.count("\n") == 1
    assert done.out.startswith(
        "(Machine core1)> destconfig\n\nThis machine's table is defined at cluster.\n"
    )
    listed = done.out.split("[]> list\n", 1)[1].split("[]> delete", 1)[0]
    assert "seed.example" in listed  # the table the machine applied last
    assert (
        "\n\nThe changes could not be committed: cannot reach the cluster repository git://"
        in done.out
    )
    assert done.out.endswith("Exit without committing them? [N]> Y\n")
    assert (hosts["core1"] / "config.toml").read_bytes() == before


def _terminal(home: Path) -> pexpect.spawn:
    """The shell of this tree (``python -m destconfig`` from its top) in a pseudo-terminal."""
    env = {
        **os.environ,
        "TERM": "xterm",
        "DESTCONFIG_HOME": str(home),
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect does not answer cursor position requests
    }
    return pexpect.spawn(
        sys.executable,
        ["-m", "destconfig"],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 160),
    )


def test_the_modes_at_a_terminal(hosts: dict[str, Path]) -> None:
    child = _terminal(hosts["edge2"])
    child.expect_exact("(Machine edge2)>")  # the prompt's last space is drawn as a cursor move
    child.sendline("clustermode cluster")
    child.expect_exact("(Cluster prod)>")
    child.sendline("clustermode")
    child.expect_exact("1. Cluster: prod")
    child.expect_exact("2. Group: edge")
    child.expect_exact("3. Machine: edge2")
    child.expect_exact("[1]>")
    child.sendline("2")
    child.expect_exact("(Group edge)>")
    child.sendline("clustermode machine nowhere")
    child.expect_exact("Unknown machine: nowhere. The machines of cluster prod are: ")
    child.expect_exact("(Group edge)>")
    child.sendline("destconfig")
    child.expect_exact("The table of group edge is defined at cluster.")
    child.expect_exact("Do you want to copy it to group:edge? [N]>")
    child.sendline("")
    child.expect_exact("(Group edge)>")
    child.sendline("help")
    child.expect_exact("clustermode - Choose the level to configure")
    child.expect_exact("(Group edge)>")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
