"""The cluster repository's git layer against a real ``git daemon`` on 127.0.0.1.

Mirrors fetch, commit with plumbing and push as fast-forwards only: of two
administrators committing from one state exactly one lands and the other is told,
however the pushes interleave. Without the repository nothing changes; a repository
that never answers is given up on in time, and nothing git started is left running.
Git's configuration is each test's own (no system file, a global file of the test's),
so that a test can give the code under test a user's configuration, hooks included.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from destconfig.cluster.git import (
    FALLBACK_AUTHOR,
    Change,
    GitError,
    Mirror,
    PushRefused,
    Unreachable,
)
from destconfig.formats import limits
from tests.gitdaemon import LOOPBACK, Daemon, git, git_daemon, require_git

APPLIED = "refs/destconfig/applied/"
ROOT_FILES = {
    "cluster.toml": b'name = "prod"\n',
    # Bytes as they are: CRLF, a NUL, no UTF-8, no final newline (git must not filter).
    "cluster/config.toml": b"a = 1\r\nb\x00\xff",
    "machines/m1/config.toml": b"",
    "machines/m2/config.toml": b"2\n",
}
IDENTITY_VARIABLES = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
)


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The git configuration the code under test sees: a global file of the test's own
    (empty unless the test writes it), no system file, no identity in the environment."""
    require_git()
    config = tmp_path / "user.gitconfig"
    config.write_text("")
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return config


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with git_daemon(tmp_path / "served") as served:
        yield served


@pytest.fixture
def url(daemon: Daemon) -> str:
    return daemon.new_repo("cluster")


def mirror_at(tmp_path: Path, url: str, name: str, timeout: float | None = None) -> Mirror:
    path = tmp_path / name / "cluster" / "repo.git"
    if timeout is None:
        return Mirror.create(path, url)
    return Mirror.create(path, url, timeout=timeout)


def one_line(error: pytest.ExceptionInfo[GitError]) -> str:
    text = str(error.value)
    assert "\n" not in text and text.isprintable(), text
    return text


def served_history(daemon: Daemon, name: str = "cluster") -> list[list[str]]:
    """main of the served repository, newest first: each commit and its parents."""
    return [
        line.split()
        for line in daemon.git(name, "rev-list", "--parents", "main").split("\n")
        if line
    ]


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under *path* and its bytes: to tell that nothing changed at all."""
    return {
        str(each.relative_to(path)): each.read_bytes()
        for each in sorted(path.rglob("*"))
        if each.is_file()
    }


def commit_object(mirror: Mirror, commit: str) -> tuple[dict[str, str], str]:
    """A commit's header lines (author, committer...) and its message, as git stored them."""
    raw = git("--git-dir", str(mirror.path), "cat-file", "commit", commit)
    header, _blank, message = raw.partition("\n\n")
    fields = {}
    for line in header.split("\n"):
        key, _space, value = line.partition(" ")
        fields.setdefault(key, value)
    return fields, message


def identity(value: str) -> str:
    """``Name <email>`` of a commit's author or committer line (the date left out)."""
    return value.rsplit(" ", 2)[0]


def pushed_root(tmp_path: Path, url: str, name: str = "admin") -> tuple[Mirror, str]:
    mirror = mirror_at(tmp_path, url, name)
    assert mirror.fetch() is None
    changes = [Change(path, data) for path, data in ROOT_FILES.items()]
    root = mirror.commit(None, changes, "destconfig cluster create prod", None)
    mirror.push(None, root)
    return mirror, root


# --- an empty repository, a first commit, reading -----------------------------------------


def test_a_mirror_of_an_empty_repository_has_no_head(tmp_path: Path, url: str) -> None:
    mirror = mirror_at(tmp_path, url, "admin")
    assert mirror.fetch() is None
    assert mirror.head() is None
    assert mirror.refs(APPLIED) == {}
    git_dir = ["--git-dir", str(mirror.path)]
    assert git(*git_dir, "rev-parse", "--is-bare-repository") == "true\n"
    assert git(*git_dir, "symbolic-ref", "HEAD") == "refs/heads/main\n"
    assert git(*git_dir, "config", "remote.origin.url") == f"{url}\n"
    assert not (mirror.path / "hooks").exists()  # no templates: no hooks of anyone's


def test_a_root_commit_pushed_is_what_every_mirror_reads(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin = mirror_at(tmp_path, url, "admin")
    assert admin.fetch() is None
    changes = [Change(path, data) for path, data in ROOT_FILES.items()]
    root = admin.commit(None, changes, "destconfig cluster create prod", None)
    # Committing moves no ref and pushes nothing.
    assert admin.head() is None
    assert daemon.git("cluster", "for-each-ref") == ""
    admin.push(None, root)
    assert admin.head() == root
    assert served_history(daemon) == [[root]]
    _fields, message = commit_object(admin, root)
    assert message == "destconfig cluster create prod\n"

    host = mirror_at(tmp_path, url, "host")
    assert host.fetch() == root
    assert host.head() == root
    for path, data in ROOT_FILES.items():
        assert host.read(root, path) == data
    assert host.read(root, "machines/m3/config.toml") is None
    assert host.read(root, "groups/edge/config.toml") is None
    assert host.paths(root, "machines") == ["m1", "m2"]
    assert host.paths(root, "machines/") == ["m1", "m2"]
    assert host.paths(root, "") == ["cluster", "cluster.toml", "machines"]
    assert host.paths(root, "groups") == []
    assert host.paths(root, "cluster.toml") == []  # a file has no names under it


def test_a_commit_writes_and_deletes_on_top_of_its_base(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    changes = [
        Change("machines/m1/config.toml", b"one\n"),
        Change("machines/m2/config.toml", None),
        Change("groups/edge/config.toml", b"edge\n"),
    ]
    second = admin.commit(root, changes, "two machines become one\n\nTrailer: yes", None)
    admin.push(root, second)
    assert served_history(daemon) == [[second, root], [root]]
    assert admin.paths(second, "machines") == ["m1"]
    assert admin.read(second, "machines/m1/config.toml") == b"one\n"
    assert admin.read(second, "machines/m2/config.toml") is None
    assert admin.read(second, "groups/edge/config.toml") == b"edge\n"
    assert admin.read(second, "cluster.toml") == ROOT_FILES["cluster.toml"]
    assert admin.read(root, "machines/m2/config.toml") == b"2\n"  # the old commit is as it was
    assert commit_object(admin, second)[1] == "two machines become one\n\nTrailer: yes\n"
    assert admin.is_ancestor(root, second)
    assert admin.is_ancestor(second, second)
    assert not admin.is_ancestor(second, root)


def test_bad_names_paths_and_changes_are_refused(tmp_path: Path, url: str) -> None:
    admin, root = pushed_root(tmp_path, url)
    for path in ("../x", "/cluster.toml", "machines//m1", "machines/./m1", "a\nb", "", "x\x00"):
        with pytest.raises(GitError) as refused:
            admin.read(root, path)
        assert one_line(refused).startswith("invalid path in the cluster repository: ")
    with pytest.raises(GitError) as refused:
        admin.read(root, "machines")
    assert one_line(refused) == "machines in the cluster repository is not a file"
    with pytest.raises(GitError) as refused:
        admin.read("HEAD", "cluster.toml")
    assert one_line(refused) == "invalid commit name: HEAD"
    with pytest.raises(GitError) as refused:
        admin.read("0" * 40, "cluster.toml")
    assert one_line(refused) == "commit 000000000000 is not in the cluster mirror"
    clashes = {
        # A file where the base has a directory would replace it whole, and the reverse.
        "machines": [Change("machines", b"x")],
        "cluster.toml": [Change("cluster.toml/inner", b"x")],
        "a": [Change("a", b"x"), Change("a/b", b"y")],
    }
    for clash, changes in clashes.items():
        with pytest.raises(GitError) as refused:
            admin.commit(root, changes, "clash", None)
        assert one_line(refused) == f"{clash} cannot be both a file and a directory"
    with pytest.raises(GitError) as refused:
        admin.commit(root, [Change("x", b"1"), Change("x", None)], "twice", None)
    assert one_line(refused) == "a commit changes a path twice"
    assert admin.head() == root


def test_a_push_of_a_commit_not_made_on_its_base_is_refused_here(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    second = admin.commit(root, [Change("x", b"1")], "second", None)
    with pytest.raises(GitError) as refused:
        admin.push(None, second)
    assert one_line(refused) == f"commit {second[:12]} is not a child of none"
    assert served_history(daemon) == [[root]]
    assert admin.head() == root


# --- two administrators ---------------------------------------------------------------------


@pytest.mark.slow
def test_of_two_pushes_from_one_base_exactly_one_lands(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    first, root = pushed_root(tmp_path, url, "first")
    second = mirror_at(tmp_path, url, "second")
    assert second.fetch() == root
    mine = first.commit(root, [Change("machines/m1/config.toml", b"first's")], "first's", None)
    theirs = second.commit(root, [Change("machines/m1/config.toml", b"second's")], "second's", None)
    first.push(root, mine)
    refs_before = second.refs("refs/")
    with pytest.raises(PushRefused) as refused:
        second.push(root, theirs)
    assert one_line(refused) == (
        f"the cluster repository refused the push: main moved on from {root[:12]} "
        "(another administrator committed)"
    )
    assert served_history(daemon) == [[mine, root], [root]]
    assert second.head() == root  # nothing changed in the refused mirror
    assert second.refs("refs/") == refs_before
    # The refused one starts again from the new state, and lands on top.
    assert second.fetch() == mine
    again = second.commit(mine, [Change("machines/m1/config.toml", b"second's")], "again", None)
    second.push(mine, again)
    assert served_history(daemon) == [[again, mine], [mine, root], [root]]
    assert first.fetch() == again


def test_of_two_root_commits_one_lands(tmp_path: Path, daemon: Daemon, url: str) -> None:
    first = mirror_at(tmp_path, url, "first")
    second = mirror_at(tmp_path, url, "second")
    assert first.fetch() is None and second.fetch() is None
    mine = first.commit(None, [Change("cluster.toml", b"first")], "first", None)
    theirs = second.commit(None, [Change("cluster.toml", b"second")], "second", None)
    first.push(None, mine)
    with pytest.raises(PushRefused) as refused:
        second.push(None, theirs)
    assert one_line(refused) == (
        "the cluster repository refused the push: main was created meanwhile "
        "(another administrator committed)"
    )
    assert served_history(daemon) == [[mine]]
    assert second.head() is None


def race(mirrors: dict[str, Mirror], round_number: int) -> dict[str, tuple[str, str]]:
    """Each mirror fetches and commits a change of its own, then all push at once: each
    one's commit and what became of it (landed, refused, or failed with the reason)."""
    start = threading.Barrier(len(mirrors))
    outcomes: dict[str, tuple[str, str]] = {}

    def administrator(name: str) -> None:
        mirror = mirrors[name]
        try:
            base = mirror.fetch()
            assert base is not None
            change = Change(f"rounds/{round_number}/{name}", name.encode())
            commit = mirror.commit(base, [change], f"round {round_number} by {name}", None)
        except BaseException:
            start.abort()
            raise
        start.wait()
        try:
            mirror.push(base, commit)
        except PushRefused:
            outcomes[name] = (commit, "refused")
        except GitError as error:
            outcomes[name] = (commit, f"failed: {error}")
        else:
            outcomes[name] = (commit, "landed")

    threads = [threading.Thread(target=administrator, args=(name,)) for name in mirrors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.slow
def test_racing_pushes_land_one_at_a_time_and_none_is_lost(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    _admin, root = pushed_root(tmp_path, url)
    mirrors = {name: mirror_at(tmp_path, url, name) for name in ("a", "b", "c")}
    landed: list[str] = []
    refused: list[str] = []
    for round_number in range(20):
        outcomes = race(mirrors, round_number)
        assert sorted(outcome for _commit, outcome in outcomes.values()) == [
            "landed",
            "refused",
            "refused",
        ], outcomes
        for commit, outcome in outcomes.values():
            (landed if outcome == "landed" else refused).append(commit)
    history = served_history(daemon)
    assert all(len(line) <= 2 for line in history)  # linear: no merge
    assert [line[0] for line in history] == [*reversed(landed), root]
    assert not set(refused) & {line[0] for line in history}
    newest = mirrors["a"]
    assert newest.fetch() == landed[-1]
    assert len(newest.paths(landed[-1], "rounds")) == 20  # every landed change is there


# --- without the repository -----------------------------------------------------------------


@pytest.mark.slow
def test_without_the_daemon_nothing_changes_and_a_fetch_catches_up_after(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    host = mirror_at(tmp_path, url, "host")
    assert host.fetch() == root
    newer = admin.commit(root, [Change("machines/m1/config.toml", b"new")], "newer", None)
    admin.push(root, newer)
    pending = host.commit(root, [Change("x", b"1")], "offline", None)
    before = snapshot(host.path)
    daemon.stop()
    calls = {
        "fetch": host.fetch,
        "push": lambda: host.push(root, pending),
        "set_ref": lambda: host.set_ref(APPLIED + "host", root),
    }
    for call in calls.values():
        with pytest.raises(Unreachable) as unreachable:
            call()
        text = one_line(unreachable)
        assert text.startswith(f"cannot reach the cluster repository {url}: ")
        assert "Connection refused" in text  # refused at once: not a time limit reached
    assert snapshot(host.path) == before
    assert host.head() == root
    assert host.read(root, "cluster.toml") == ROOT_FILES["cluster.toml"]  # still readable
    daemon.start()
    assert host.fetch() == newer
    assert served_history(daemon) == [[newer, root], [root]]


# --- refs beside main -------------------------------------------------------------------------


@pytest.mark.slow
def test_applied_refs_are_pushed_fetched_and_never_moved_back(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    host = mirror_at(tmp_path, url, "host")
    host.fetch()
    host.set_ref(APPLIED + "m1", root)
    assert host.refs(APPLIED) == {"m1": root}
    assert daemon.git("cluster", "rev-parse", APPLIED + "m1") == f"{root}\n"
    assert admin.refs(APPLIED) == {}
    admin.fetch()
    assert admin.refs(APPLIED) == {"m1": root}
    assert admin.refs("refs/destconfig/") == {"applied/m1": root}
    newer = admin.commit(root, [Change("x", b"1")], "newer", None)
    admin.push(root, newer)
    host.fetch()
    host.set_ref(APPLIED + "m1", newer)
    host.set_ref(APPLIED + "m1", newer)  # already there: nothing to do
    with pytest.raises(GitError) as refused:
        host.set_ref(APPLIED + "m1", root)
    assert type(refused.value) is GitError
    assert one_line(refused).startswith(f"the cluster repository refused the push of {APPLIED}m1: ")
    assert daemon.git("cluster", "rev-parse", APPLIED + "m1") == f"{newer}\n"
    assert host.refs(APPLIED) == {"m1": newer}
    # A ref gone from the repository is gone from the mirror at the next fetch.
    daemon.git("cluster", "update-ref", "-d", APPLIED + "m1")
    host.fetch()
    assert host.refs(APPLIED) == {}
    for ref in ("refs/heads/main", "refs/destconfig/bad..name", "refs/destconfig/a b"):
        with pytest.raises(GitError) as refused:
            host.set_ref(ref, newer)
        assert one_line(refused).startswith("invalid ref ")
    assert daemon.git("cluster", "rev-parse", "main") == f"{newer}\n"


def test_a_repository_whose_main_is_gone_is_empty_again(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    admin.set_ref(APPLIED + "admin", root)
    host = mirror_at(tmp_path, url, "host")
    assert host.fetch() == root
    daemon.git("cluster", "update-ref", "-d", "refs/heads/main")
    assert host.fetch() is None
    assert host.head() is None
    assert host.refs(APPLIED) == {"admin": root}  # the tool's own refs are still mirrored


def test_main_is_fetched_and_pushed_whatever_the_servers_head_names(
    tmp_path: Path, daemon: Daemon
) -> None:
    url = daemon.new_repo("odd", initial_branch="trunk")
    _admin, root = pushed_root(tmp_path, url)
    daemon.git("odd", "update-ref", "refs/heads/trunk", root)
    daemon.git("odd", "update-ref", "refs/tags/v1", root)
    daemon.git("odd", "update-ref", "refs/review/x", root)
    host = mirror_at(tmp_path, url, "host")
    assert host.fetch() == root
    refs = git("--git-dir", str(host.path), "for-each-ref", "--format=%(refname)")
    assert refs == "refs/heads/main\n"  # only main (and the tool's own refs) are mirrored


# --- limits ---------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_neither_read_nor_written(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, root = pushed_root(tmp_path, url)
    big = admin.commit(root, [Change("big", b"x" * 17), Change("fits", b"x" * 16)], "big", None)
    admin.push(root, big)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 16)
    assert admin.read(big, "fits") == b"x" * 16
    with pytest.raises(GitError) as refused:
        admin.read(big, "big")
    assert one_line(refused) == "big in the cluster repository: larger than 16 bytes"
    with pytest.raises(GitError) as refused:
        admin.commit(big, [Change("bigger", b"x" * 17)], "bigger", None)
    assert one_line(refused) == "bigger: larger than 16 bytes"


@pytest.mark.slow
def test_a_blob_over_64_mib_is_refused_before_it_is_read(tmp_path: Path, url: str) -> None:
    admin, root = pushed_root(tmp_path, url)
    most = limits.MAX_FILE_BYTES
    assert most == 64 * 1024 * 1024
    git_dir = ["--git-dir", str(admin.path)]
    blob = git(*git_dir, "hash-object", "-w", "--stdin", data=b"x" * (most + 1)).strip()
    tree = git(*git_dir, "mktree", data=f"100644 blob {blob}\thuge\n".encode()).strip()
    commit = git(*git_dir, "commit-tree", tree, "-p", root, "-m", "huge").strip()
    with pytest.raises(GitError) as refused:
        admin.read(commit, "huge")
    assert one_line(refused) == f"huge in the cluster repository: larger than {most} bytes"
    with pytest.raises(GitError) as refused:
        admin.commit(root, [Change("huge", b"x" * (most + 1))], "huge", None)
    assert one_line(refused) == f"huge: larger than {most} bytes"


# --- git itself -------------------------------------------------------------------------------


def test_without_git_every_call_says_git_is_not_installed(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, root = pushed_root(tmp_path, url)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    calls = {
        "create": lambda: Mirror.create(tmp_path / "new" / "repo.git", url),
        "fetch": admin.fetch,
        "head": admin.head,
        "read": lambda: admin.read(root, "cluster.toml"),
        "paths": lambda: admin.paths(root, "machines"),
        "commit": lambda: admin.commit(root, [Change("x", b"1")], "x", None),
        "push": lambda: admin.push(root, root),
        "refs": lambda: admin.refs(APPLIED),
    }
    for name, call in calls.items():
        with pytest.raises(GitError) as missing:
            call()
        assert one_line(missing) == "git is not installed", name
    assert not (tmp_path / "new").exists()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _address = self.listener.accept()
                self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def live_processes_marked(marker: str) -> list[int]:
    """Processes (not zombies) whose environment holds *marker*: what git started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            if state != "Z" and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
    return found


def assert_nothing_left(marker: str) -> None:
    """Nothing marked alive; SIGKILL is delivered at once, but allow a moment to die."""
    for _ in range(500):
        if not live_processes_marked(marker):
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"left running: {live_processes_marked(marker)}")


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch) -> str:
    if not Path("/proc/self/environ").exists():
        pytest.skip("telling which processes are left needs /proc")
    value = f"destconfig-test-{uuid.uuid4()}"
    monkeypatch.setenv("DESTCONFIG_TEST_MARKER", value)  # inherited by all git starts
    return value


@pytest.mark.slow
def test_a_repository_that_never_answers_is_given_up_on_in_time(
    tmp_path: Path, marker: str
) -> None:
    server = SilentServer()
    try:
        url = f"git://{LOOPBACK}:{server.port}/cluster.git"
        mirror = mirror_at(tmp_path, url, "host", timeout=2)
        before = snapshot(mirror.path)
        with pytest.raises(Unreachable) as unreachable:
            mirror.fetch()
        assert one_line(unreachable) == (
            f"cannot reach the cluster repository {url}: no answer in 2 seconds"
        )
        assert server.accepted  # it was reached, and said nothing
        assert_nothing_left(marker)
        assert snapshot(mirror.path) == before
    finally:
        server.close()


@pytest.mark.slow
def test_a_time_limit_ends_everything_git_started(
    tmp_path: Path, marker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ssh that hangs (a shell running sleep): killing git alone would leave both.
    ssh = tmp_path / "hanging-ssh"
    ssh.write_text("#!/bin/sh\nsleep 300\n")
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GIT_SSH", str(ssh))
    url = "ssh://cluster.example.test/cluster.git"
    mirror = mirror_at(tmp_path, url, "host", timeout=2)
    with pytest.raises(Unreachable) as unreachable:
        mirror.fetch()
    assert one_line(unreachable) == (
        f"cannot reach the cluster repository {url}: no answer in 2 seconds"
    )
    assert_nothing_left(marker)


def test_the_reason_is_the_cause_git_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ssh that cannot connect: its own words are the reason, not git's generic lines.
    ssh = tmp_path / "refused-ssh"
    ssh.write_text(
        "#!/bin/sh\necho 'ssh: connect to host cluster.example.test port 22: "
        "Connection refused' >&2\nexit 255\n"
    )
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GIT_SSH", str(ssh))
    url = "ssh://admin:secret@cluster.example.test/cluster.git"
    mirror = mirror_at(tmp_path, url, "host")
    with pytest.raises(Unreachable) as unreachable:
        mirror.fetch()
    assert one_line(unreachable) == (
        "cannot reach the cluster repository ssh://admin@cluster.example.test/cluster.git: "
        "ssh: connect to host cluster.example.test port 22: Connection refused"
    )


# --- the user's configuration ------------------------------------------------------------


def failing_hooks(directory: Path, witness: Path) -> Path:
    """Hooks that leave *witness* behind and fail: none must ever run."""
    directory.mkdir(parents=True)
    for name in ("pre-push", "reference-transaction", "pre-commit", "post-commit", "post-update"):
        hook = directory / name
        hook.write_text(f"#!/bin/sh\necho {name} >> {witness}\nexit 1\n")
        hook.chmod(0o755)
    return directory


def test_the_users_configuration_is_used_and_their_hooks_are_not(
    tmp_path: Path, daemon: Daemon, url: str, user_config: Path
) -> None:
    witness = tmp_path / "hooks-ran"
    hooks = failing_hooks(tmp_path / "user-hooks", witness)
    templates = tmp_path / "user-templates"
    failing_hooks(templates / "hooks", witness)
    user_config.write_text(
        "[user]\n\tname = Configured Person\n\temail = configured@example.test\n"
        f"[core]\n\thooksPath = {hooks}\n"
        f"[init]\n\ttemplateDir = {templates}\n"
        # The user's URL rewriting applies: "cluster:" is their short name for the daemon.
        f'[url "git://{LOOPBACK}:{daemon.port}/"]\n\tinsteadOf = cluster:\n'
    )
    admin = Mirror.create(tmp_path / "admin" / "repo.git", "cluster:cluster.git")
    assert admin.fetch() is None
    root = admin.commit(None, [Change("cluster.toml", b"x")], "root", None)
    admin.push(None, root)
    admin.set_ref(APPLIED + "admin", root)
    assert served_history(daemon) == [[root]]
    fields, _message = commit_object(admin, root)
    assert identity(fields["author"]) == "Configured Person <configured@example.test>"
    assert identity(fields["committer"]) == "Configured Person <configured@example.test>"
    assert not witness.exists()
    assert not (admin.path / "hooks").exists()


def test_without_a_configured_identity_the_fallback_makes_the_commit(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With EMAIL set git could guess an identity (a name from the account): a guess is
    # not a configured identity.
    monkeypatch.setenv("EMAIL", "guessed@example.test")
    admin = mirror_at(tmp_path, url, "admin")
    admin.fetch()
    given = admin.commit(
        None, [Change("a", b"1")], "given", None, fallback_author="m1 <m1@host.example.test>"
    )
    fields, _message = commit_object(admin, given)
    assert identity(fields["author"]) == "m1 <m1@host.example.test>"
    assert identity(fields["committer"]) == "m1 <m1@host.example.test>"
    default = admin.commit(None, [Change("a", b"2")], "default", None)
    fields, _message = commit_object(admin, default)
    assert identity(fields["author"]) == FALLBACK_AUTHOR == "destconfig <destconfig@localhost>"
    assert identity(fields["committer"]) == FALLBACK_AUTHOR
    # --author names the author; the committer is still whoever git says, here the fallback.
    authored = admin.commit(None, [Change("a", b"3")], "authored", "Ann Admin <ann@example.test>")
    fields, _message = commit_object(admin, authored)
    assert identity(fields["author"]) == "Ann Admin <ann@example.test>"
    assert identity(fields["committer"]) == FALLBACK_AUTHOR
    for author in ("nobody", "<no-name@example.test>", "Two <a> <b>"):
        with pytest.raises(GitError) as refused:
            admin.commit(None, [Change("a", b"4")], "bad", author)
        assert one_line(refused) == f"invalid author {author}: expected 'Name <email>'"


def test_an_environment_pointing_at_another_repository_changes_nothing(
    tmp_path: Path, daemon: Daemon, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when destconfig runs from a git hook: the variables name another repository.
    other = tmp_path / "other.git"
    git("init", "--quiet", "--bare", str(other))
    before = snapshot(other)
    monkeypatch.setenv("GIT_DIR", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "other-index"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other / "objects"))
    monkeypatch.setenv("GIT_NAMESPACE", "elsewhere")
    admin, root = pushed_root(tmp_path, url)
    admin.set_ref(APPLIED + "admin", root)
    assert snapshot(other) == before
    assert not (tmp_path / "other-index").exists()
    assert served_history(daemon) == [[root]]
    assert daemon.git("cluster", "for-each-ref", "--format=%(refname)") == (
        f"{APPLIED}admin\nrefs/heads/main\n"
    )
    assert admin.read(root, "cluster.toml") == ROOT_FILES["cluster.toml"]


def test_a_refusal_by_the_server_is_said_and_is_not_a_conflict(
    tmp_path: Path, daemon: Daemon, url: str
) -> None:
    admin, root = pushed_root(tmp_path, url)
    hook = daemon.repo("cluster") / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nprintf 'no pushes \\033[31mtoday\\n' >&2\nexit 1\n")
    hook.chmod(0o755)
    second = admin.commit(root, [Change("x", b"1")], "second", None)
    with pytest.raises(GitError) as refused:
        admin.push(root, second)
    assert type(refused.value) is GitError
    text = one_line(refused)
    assert text.startswith("the cluster repository refused the push: pre-receive hook declined")
    assert "no pushes" in text and "\x1b" not in text
    assert served_history(daemon) == [[root]]
    assert admin.head() == root


# --- the repository as a local path -------------------------------------------------------


def test_a_local_path_with_no_repository_gets_a_bare_one(tmp_path: Path) -> None:
    shared = tmp_path / "srv" / "clusters" / "prod.git"
    _admin, root = pushed_root(tmp_path, str(shared))
    assert git("--git-dir", str(shared), "rev-parse", "--is-bare-repository") == "true\n"
    assert git("--git-dir", str(shared), "symbolic-ref", "HEAD") == "refs/heads/main\n"
    assert git("--git-dir", str(shared), "rev-parse", "main") == f"{root}\n"
    host = mirror_at(tmp_path, f"file://{shared}", "host")
    assert host.fetch() == root
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    other = mirror_at(tmp_path, str(empty), "other")
    assert other.fetch() is None
    assert git("--git-dir", str(empty), "rev-parse", "--is-bare-repository") == "true\n"


def test_a_local_path_that_is_not_a_repository_is_refused_and_nothing_is_made(
    tmp_path: Path,
) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine\n")
    with pytest.raises(GitError) as refused:
        Mirror.create(tmp_path / "home" / "cluster" / "repo.git", str(occupied))
    assert one_line(refused) == f"{occupied} is not a bare git repository"
    assert not (tmp_path / "home").exists()
    assert snapshot(occupied) == {"notes.txt": b"mine\n"}
    # A mirror path already holding something else: the repository just made goes again.
    new = tmp_path / "new.git"
    with pytest.raises(GitError) as refused:
        Mirror.create(occupied, str(new))
    assert one_line(refused) == f"{occupied} exists and is not a git repository"
    assert not new.exists()


def test_control_characters_in_a_url_are_escaped(tmp_path: Path) -> None:
    url = f"git://{LOOPBACK}:1/\x1b[31mred.git"
    with pytest.raises(GitError) as refused:
        Mirror.create(tmp_path / "repo.git", url)
    assert (
        one_line(refused) == f"invalid cluster repository URL: git://{LOOPBACK}:1/\\x1b[31mred.git"
    )
    assert not (tmp_path / "repo.git").exists()
