"""Many hosts, one table: homes as machines of a cluster whose levels live in a real git
repository served by a real ``git daemon`` on 127.0.0.1 (tests/gitdaemon.py).

Each home is a host; they share nothing but the repository.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from destconfig.cluster.levels import Level
from destconfig.cluster.member import ClusterError, Member, change_level
from destconfig.formats import toml as toml_format
from destconfig.messages import CONFLICT
from destconfig.model import Entry, Table, Tls
from destconfig.store import Store
from tests.gitdaemon import Daemon
from tests.helpers import run_cli, run_ok

pytestmark = pytest.mark.slow


ok = run_ok


def table_of(home: Path) -> Table:
    return Store(home).load()


def cluster_of(hosts: dict[str, Path], url: str) -> None:
    """The first host creates the cluster from its table; the others join, in order."""
    names = list(hosts)
    first = hosts[names[0]]
    ok(first, "cluster", "create", "prod", "--repo", url, "--machine", names[0], "--group", "edge")
    for name in names[1:]:
        group = "core" if name.startswith("core") else "edge"
        ok(hosts[name], "cluster", "join", url, "--machine", name, "--group", group)


@pytest.fixture
def hosts(tmp_path: Path, daemon: Daemon) -> dict[str, Path]:
    homes = {name: tmp_path / name for name in ("edge1", "edge2", "core1")}
    ok(homes["edge1"], "new", "seed.example", "--tls", "required")
    cluster_of(homes, daemon.new_repo("prod"))
    return homes


def test_join_takes_the_clusters_table(hosts: dict[str, Path]) -> None:
    expected = table_of(hosts["edge1"])
    assert "seed.example" in expected.entries
    for home in hosts.values():
        assert table_of(home) == expected
    # the joiner's own table before joining is kept for rollback
    assert any((hosts["core1"] / "rollback").glob("config-*.toml"))


def test_a_cluster_change_reaches_every_host_after_apply(hosts: dict[str, Path]) -> None:
    done = ok(hosts["edge2"], "new", "all.example", "--tls", "preferred")
    assert done.out.startswith("Changes committed: ")
    assert "all.example" in table_of(hosts["edge2"]).entries  # applied at once here
    assert "all.example" not in table_of(hosts["core1"]).entries  # not yet there
    for home in (hosts["edge1"], hosts["core1"]):
        applied = ok(home, "cluster", "apply")
        assert applied.out.startswith("Applied cluster commit ")
        assert table_of(home).entries["all.example"] == Entry(tls=Tls.PREFERRED)
    again = ok(hosts["core1"], "cluster", "apply")
    assert again.out.startswith("Already applied cluster commit ")


def test_a_group_override_is_seen_by_that_groups_machines_only(hosts: dict[str, Path]) -> None:
    changed = run_cli(hosts["edge1"], "new", "core-only.example", "--level", "group:core")
    assert changed.status == 0, changed.err
    assert (
        changed.err
        == "destconfig: group:core defines no table: starting from a copy of cluster's\n"
    )
    for home in hosts.values():
        ok(home, "cluster", "apply")
    assert "core-only.example" in table_of(hosts["core1"]).entries
    assert "core-only.example" not in table_of(hosts["edge1"]).entries
    assert "core-only.example" not in table_of(hosts["edge2"]).entries
    status = json.loads(ok(hosts["edge2"], "cluster", "status", "--format", "json").out)
    levels = {each["machine"]: each["level"] for each in status["machines"]}
    assert levels == {"core1": "group:core", "edge1": "cluster", "edge2": "cluster"}
    assert all(each["newest"] for each in status["machines"])
    listed = run_cli(hosts["edge1"], "list", "--level", "group:core")
    assert "core-only.example" in listed.out
    before_the_command = run_cli(hosts["edge1"], "--level", "group:core", "list")
    assert before_the_command.out == listed.out
    assert "core-only.example" not in run_cli(hosts["edge1"], "list").out  # its own table


def test_set_copy_move_delete(hosts: dict[str, Path]) -> None:
    ok(hosts["edge1"], "new", "m.example", "--level", "machine:edge2")
    ok(hosts["edge2"], "cluster", "apply")
    assert "m.example" in table_of(hosts["edge2"]).entries
    ok(hosts["edge1"], "cluster", "set", "copy", "machine:edge2", "group:core")
    ok(hosts["core1"], "cluster", "apply")
    assert "m.example" in table_of(hosts["core1"]).entries
    ok(hosts["edge1"], "cluster", "set", "move", "group:core", "machine:core1")
    ok(hosts["edge1"], "cluster", "set", "delete", "machine:edge2")
    for home in hosts.values():
        ok(home, "cluster", "apply")
    assert "m.example" not in table_of(hosts["edge2"]).entries
    assert "m.example" in table_of(hosts["core1"]).entries
    status = json.loads(ok(hosts["edge1"], "cluster", "status", "--format", "json").out)
    levels = {each["machine"]: each["level"] for each in status["machines"]}
    assert levels == {"core1": "machine:core1", "edge1": "cluster", "edge2": "cluster"}
    refused = run_cli(hosts["edge1"], "cluster", "set", "delete", "cluster")
    assert refused.status == 1


def test_two_administrators_from_the_same_state_one_lands(hosts: dict[str, Path]) -> None:
    """Driven step by step: the second administrator pushes while the first is mid-change."""
    first, second = Member.of(hosts["edge1"]), Member.of(hosts["edge2"])
    assert first is not None and second is not None

    def first_change(table: Table) -> Table:
        # Meanwhile, the other administrator commits from the same state.
        ok(hosts["edge2"], "new", "second.example")
        return table.with_entry("first.example", Entry())

    with pytest.raises(ClusterError) as refused:
        change_level(
            first,
            Level("cluster"),
            first_change,
            comment="first",
            author=None,
            note=lambda text: None,
        )
    assert refused.value.conflict
    assert "committed by another session" in refused.value.message
    ok(hosts["edge1"], "cluster", "apply")
    entries = table_of(hosts["edge1"]).entries
    assert "second.example" in entries and "first.example" not in entries


# The served repository's pre-receive hook: each push waits there (20 s at most) until a
# second one has arrived, so that the two pushes of a round surely start from one state.
MEETING_HOOK = """#!/bin/sh
cd "{work}" || exit 0
: > "arrived.$$"
i=0
while [ "$(ls | grep -c '^arrived[.]')" -lt 2 ] && [ "$i" -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
done
"""


def test_two_administrators_racing_lose_nothing(
    tmp_path: Path, hosts: dict[str, Path], daemon: Daemon
) -> None:
    """Rounds of two one-shot commits at once, their pushes meeting at the server: in each,
    exactly one lands and the other is refused with the conflict message; every one that
    said it landed is in the repository's table; nothing is merged in silently."""
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    hook = daemon.repo("prod") / "hooks" / "pre-receive"
    hook.write_text(MEETING_HOOK.format(work=meeting))
    hook.chmod(0o755)
    landed: list[str] = []
    for round_number in range(4):
        for arrived in meeting.iterdir():
            arrived.unlink()
        names = [f"r{round_number}-{side}.example" for side in ("a", "b")]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "destconfig", "--home", str(home), "new", name],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for home, name in zip((hosts["edge1"], hosts["edge2"]), names, strict=True)
        ]
        refused = 0
        for process, name in zip(processes, names, strict=True):
            _, err = process.communicate(timeout=120)
            if process.returncode == 0:
                landed.append(name)
            else:
                assert process.returncode == 1, err
                assert err.decode() == f"destconfig: {CONFLICT.replace(chr(10), ' ')}\n"
                refused += 1
        assert refused == 1  # of two from one state, one lands and one is told
    hook.unlink()
    assert len(landed) == 4
    ok(hosts["core1"], "cluster", "apply")
    entries = set(table_of(hosts["core1"]).entries)
    racing = {name for name in entries if name.startswith("r")}
    assert racing == set(landed)


def test_a_host_offline_changes_nothing_then_catches_up(
    hosts: dict[str, Path], daemon: Daemon
) -> None:
    before = (hosts["core1"] / "config.toml").read_bytes()
    ok(hosts["edge1"], "new", "while-away.example")
    daemon.stop()
    try:
        away = run_cli(hosts["core1"], "cluster", "apply")
        assert (away.status, away.out) == (1, "")
        assert away.err.startswith("destconfig: cannot reach the cluster repository")
        assert (hosts["core1"] / "config.toml").read_bytes() == before
        refused = run_cli(hosts["core1"], "new", "offline.example")
        assert refused.status == 1
        assert (hosts["core1"] / "config.toml").read_bytes() == before
        listed = run_cli(hosts["core1"], "list")
        assert listed.status == 0  # the last applied table, read without the repository
    finally:
        daemon.start()
    ok(hosts["core1"], "cluster", "apply")
    assert "while-away.example" in table_of(hosts["core1"]).entries


def test_sigkill_during_apply_leaves_the_old_or_the_new_table(hosts: dict[str, Path]) -> None:
    """SIGKILL at moments spread over an apply's run (timed on another host applying the
    same change): each time the table is the old one or the new one, never broken."""
    home = hosts["core1"]
    old = (home / "config.toml").read_bytes()
    ok(hosts["edge1"], "new", "killed.example")
    command = [sys.executable, "-m", "destconfig", "--home"]
    start = time.monotonic()
    subprocess.run([*command, str(hosts["edge2"]), "cluster", "apply"], check=True, timeout=120)
    whole = time.monotonic() - start
    killed = 0
    for fraction in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0):
        process = subprocess.Popen(
            [*command, str(home), "cluster", "apply"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(whole * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        data = (home / "config.toml").read_bytes()
        table = toml_format.loads(data)  # never broken
        if process.returncode == -signal.SIGKILL:
            killed += 1
            assert data == old or "killed.example" in table.entries  # the old one or the new
        else:
            assert process.returncode == 0
            assert "killed.example" in table.entries
        if data != old:
            break
    assert killed >= 1  # at least one apply was cut short
    ok(home, "cluster", "apply")
    assert "killed.example" in table_of(home).entries
    assert toml_format.loads((home / "config.toml").read_bytes()) == table_of(hosts["edge2"])


def test_then_runs_after_a_change_only(hosts: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ok(hosts["edge1"], "new", "then.example")
    command = f"echo ran >> {marker}"
    ok(hosts["core1"], "cluster", "apply", "--then", command)
    ok(hosts["core1"], "cluster", "apply", "--then", command)
    assert marker.read_text() == "ran\n"


def test_a_machine_name_already_in_the_cluster_is_refused(
    tmp_path: Path, daemon: Daemon, hosts: dict[str, Path]
) -> None:
    url = Member.of(hosts["edge1"]).url  # type: ignore[union-attr]
    again = run_cli(tmp_path / "another", "cluster", "join", url, "--machine", "edge2")
    assert again.status == 1
    assert "machine 'edge2' is already in the cluster" in again.err
    assert not (tmp_path / "another" / "cluster" / "member.toml").exists()


def test_status_says_which_machines_applied_the_newest(hosts: dict[str, Path]) -> None:
    ok(hosts["edge1"], "new", "newest.example")
    status = json.loads(ok(hosts["edge1"], "cluster", "status", "--format", "json").out)
    newest = {each["machine"]: each["newest"] for each in status["machines"]}
    assert newest == {"edge1": True, "edge2": False, "core1": False}
    text = ok(hosts["edge1"], "cluster", "status").out
    assert text.startswith(f"Cluster prod at commit {status['head'][:12]}\n")
    assert "core1    core   cluster" in text


def test_a_relative_repository_path_is_kept_absolute(tmp_path: Path) -> None:
    """The membership is used from any directory: a local path is stored resolved."""
    (tmp_path / "work").mkdir()
    home = tmp_path / "home"
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "destconfig",
            "--home",
            str(home),
            "cluster",
            "create",
            "rel",
            "--repo",
            "rel.git",
            "--machine",
            "m1",
        ],
        cwd=tmp_path / "work",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    member = Member.of(home)
    assert member is not None and member.url == str(tmp_path / "work" / "rel.git")
    applied = subprocess.run(
        [sys.executable, "-m", "destconfig", "--home", str(home), "cluster", "apply"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
