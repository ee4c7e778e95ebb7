"""A home's membership of a cluster when things go wrong: a process killed once its join
or create reached the repository, a join that lost a race, a machine taken out of
``cluster.toml``, a damaged ``member.toml``. Against a real ``git daemon`` whose
repository's own hooks let a test stop a push at the moment it lands."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from destconfig.cluster.member import JOIN_RACE, Member
from destconfig.store import Store
from tests.gitdaemon import Daemon, git
from tests.helpers import ROOT, run_cli, run_ok

pytestmark = pytest.mark.slow

WAIT_SECONDS = 60.0

# A server-side hook that, once armed, says the push reached it and holds it until the
# test releases it (then exits with the status in STATUS, 0 when there is none).
HOLDING_HOOK = """#!/bin/sh
cd "{work}" || exit 0
[ -e armed ] || exit 0
rm -f armed
: > reached
i=0
while [ ! -e release ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
rm -f release
exit "$(cat status 2>/dev/null || echo 0)"
"""


class Holder:
    """The served repository's *hook* (post-receive: after main moved; pre-receive:
    before), armed for one push."""

    def __init__(self, daemon: Daemon, name: str, hook: str, work: Path) -> None:
        work.mkdir()
        self.work = work
        path = daemon.repo(name) / "hooks" / hook
        path.write_text(HOLDING_HOOK.format(work=work))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def arm(self, status: int = 0) -> None:
        (self.work / "status").write_text(f"{status}\n")
        (self.work / "armed").touch()

    def wait_reached(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (self.work / "reached").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the push never reached the hook"
            time.sleep(0.01)

    def release(self) -> None:
        (self.work / "release").touch()


def spawn(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "destconfig", "--home", str(home), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def killed_at_the_hook(holder: Holder, home: Path, *args: str) -> None:
    """``destconfig ARGS`` SIGKILLed while its push is held at the hook."""
    process = spawn(home, *args)
    try:
        holder.wait_reached(process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=WAIT_SECONDS)
        assert process.returncode == -signal.SIGKILL
    finally:
        holder.release()
        if process.poll() is None:
            process.kill()
            process.communicate()


def layout(daemon: Daemon, name: str) -> str:
    return daemon.git(name, "show", "main:cluster.toml")


@pytest.fixture
def cluster(tmp_path: Path, daemon: Daemon) -> str:
    """Cluster prod of machine edge1 (home tmp_path/edge1); its URL."""
    url = daemon.new_repo("prod")
    home = tmp_path / "edge1"
    run_ok(home, "new", "seed.example")
    run_ok(home, "cluster", "create", "prod", "--repo", url, "--machine", "edge1")
    return url


def test_a_join_killed_once_its_push_landed_is_this_homes_machine(
    tmp_path: Path, daemon: Daemon, cluster: str
) -> None:
    holder = Holder(daemon, "prod", "post-receive", tmp_path / "hook")
    home = tmp_path / "core1"
    run_ok(home, "new", "own.example")
    holder.arm()
    killed_at_the_hook(holder, home, "cluster", "join", cluster, "--machine", "core1")
    assert "core1" in layout(daemon, "prod")  # the join landed, the process did not end
    # The same join again finishes it: the name is this home's, not taken by a stranger.
    again = run_ok(home, "cluster", "join", cluster, "--machine", "core1")
    assert again.out.startswith("Joined: this home is machine core1 of group Main_Group.\n")
    assert set(Store(home).load().entries) == {"seed.example"}
    status = json.loads(run_ok(home, "cluster", "status", "--format", "json").out)
    assert [each["machine"] for each in status["machines"]] == ["core1", "edge1"]
    assert {each["machine"]: each["newest"] for each in status["machines"]}["core1"]


def test_a_create_killed_once_its_push_landed_is_applied_by_the_next_command(
    tmp_path: Path, daemon: Daemon
) -> None:
    url = daemon.new_repo("fresh")
    holder = Holder(daemon, "fresh", "post-receive", tmp_path / "hook")
    home = tmp_path / "mx1"
    run_ok(home, "new", "seed.example")
    holder.arm()
    created = ("cluster", "create", "fresh", "--repo", url, "--machine", "mx1")
    killed_at_the_hook(holder, home, *created)
    applied = run_ok(home, "cluster", "apply")
    assert applied.out.endswith(": the table of cluster.\n")
    assert Member.of(home) == Member(home, url, "mx1")


def test_a_join_killed_before_its_push_landed_can_join_again(
    tmp_path: Path, daemon: Daemon, cluster: str
) -> None:
    holder = Holder(daemon, "prod", "pre-receive", tmp_path / "hook")
    home = tmp_path / "core1"
    holder.arm(status=1)  # held, then refused: the killed join never lands
    killed_at_the_hook(holder, home, "cluster", "join", cluster, "--machine", "core1")
    time.sleep(0.5)  # the held push ends (refused) once released
    assert "core1" not in layout(daemon, "prod")
    refused = run_cli(home, "cluster", "status")
    assert refused.status == 2  # the home is no cluster's machine
    assert "joining as machine core1 did not complete" in refused.err
    assert not (home / "cluster" / "member.toml").exists()
    run_ok(home, "cluster", "join", cluster, "--machine", "core1")
    assert "core1" in layout(daemon, "prod")


def test_a_join_that_loses_a_race_says_so(tmp_path: Path, daemon: Daemon, cluster: str) -> None:
    holder = Holder(daemon, "prod", "pre-receive", tmp_path / "hook")
    holder.arm()
    first = spawn(tmp_path / "core1", "cluster", "join", cluster, "--machine", "core1")
    try:
        holder.wait_reached(first)  # core1's join is being pushed, held before main moves
        second = spawn(tmp_path / "core2", "cluster", "join", cluster, "--machine", "core2")
        second.communicate(timeout=WAIT_SECONDS)
    finally:
        holder.release()
        _out, err = first.communicate(timeout=WAIT_SECONDS)
    assert second.returncode == 0  # from the same state, it pushed first
    assert first.returncode == 1
    assert err.decode() == f"destconfig: {JOIN_RACE}\n"
    assert not (tmp_path / "core1" / "cluster" / "member.toml").exists()
    assert "core1" not in layout(daemon, "prod") and "core2" in layout(daemon, "prod")


def test_a_machine_taken_out_of_the_layout_applies_nothing(
    tmp_path: Path, daemon: Daemon, cluster: str
) -> None:
    home = tmp_path / "core1"
    run_ok(home, "cluster", "join", cluster, "--machine", "core1")
    before = (home / "config.toml").read_bytes()
    run_ok(tmp_path / "edge1", "new", "after.example")
    # An administrator takes core1 out of cluster.toml with git by hand.
    admin = tmp_path / "admin"
    git("clone", "-q", "-b", "main", cluster, str(admin))
    text = (admin / "cluster.toml").read_text()
    (admin / "cluster.toml").write_text(text.replace('"core1",', ""))
    git("-C", str(admin), "commit", "-qam", "core1 taken out")
    git("-C", str(admin), "push", "-q", "origin", "main")
    assert "core1" not in layout(daemon, "prod")
    done = run_cli(home, "cluster", "apply")
    assert done.status == 1
    assert done.err.startswith("destconfig: machine core1 is no longer in cluster prod")
    assert "nothing was applied" in done.err
    assert (home / "config.toml").read_bytes() == before
    left = run_ok(home, "cluster", "leave")
    assert left.out == "Machine core1 left the cluster; the home keeps its table.\n"


def test_a_damaged_membership_file_says_what_to_do(tmp_path: Path, cluster: str) -> None:
    home = tmp_path / "edge1"
    path = home / "cluster" / "member.toml"
    path.write_text('url = "git://x"\n')
    done = run_cli(home, "cluster", "status")
    assert done.status == 2
    assert done.err.startswith(f"destconfig: {path} is damaged: ")
    assert "remove the file and 'cluster join' again" in done.err
