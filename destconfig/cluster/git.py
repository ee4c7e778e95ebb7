"""The cluster repository through the git program: a bare local mirror, fetched into and
committed in with plumbing, pushed as a fast-forward only.

Git does the work so that the user's own SSH keys, credential helpers, URL rewrites and
servers work unchanged; that is why the user's configuration is read (no
``GIT_CONFIG_NOSYSTEM``). What could get in the way is kept out: every call runs with
the user's hooks off (``core.hooksPath=/dev/null``), no automatic gc, no guessed
identity, no terminal prompt, in the C locale (git's words are read), in a process
group of its own that is killed whole when the call outlives its time limit. Commits
are made with plumbing; fetch and push are the only porcelain, every option that
matters given on their command line (aliases never shadow a git command). Whatever git
prints is read up to a limit, and a blob's size is checked before the blob is read.

A failure is one line (:class:`GitError`) and changes nothing that matters: a commit is
made without moving any ref, the mirror's ``main`` moves only to what the repository
has, and nothing is ever force-pushed.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from destconfig.console import escape
from destconfig.formats import limits

BRANCH = "main"
GIT_TIMEOUT = 30.0

MAIN_REF = f"refs/heads/{BRANCH}"
OWN_REFS = "refs/destconfig/"  # the refs the tool keeps beside main (what each machine applied)
FALLBACK_AUTHOR = "destconfig <destconfig@localhost>"
NOT_INSTALLED = "git is not installed"
UPDATED = "updated"  # what push --porcelain's flag other than '!' means here

# Every call: no pager, none of the user's hooks (a pre-push or reference-transaction hook
# of theirs must not run in our mirror), no gc or maintenance started behind our back (it
# would outlive the call), and no identity guessed from the host's name.
_ALWAYS = (
    "--no-pager",
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "user.useConfigOnly=true",
)
# Variables that would point git at another repository or index than the one named
# (set, for instance, when destconfig runs from a git hook).
_REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_SHALLOW_FILE",
        "GIT_REPLACE_REF_BASE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_QUARANTINE_PATH",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    }
)
_FIXED_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat", "PAGER": "cat"}

ANY_STATUS = tuple(range(256))
_CHUNK = 64 * 1024
_OUTPUT_BYTES = 16 * 1024 * 1024  # of a command whose output is not a blob or a tree's names
_ERROR_BYTES = 64 * 1024  # of git's standard error, the first this many bytes are kept
_REASON_CHARS = 300
_POLL_SECONDS = 0.1  # how often a call whose pipes stay open checks that git is still there

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_IDENTITY = re.compile(r"\s*([^<>]*?)\s*<([^<>]*)>\s*")
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@")
# Git's words for a fetch that failed on this side, not on the way to the repository.
_LOCAL_FAILURES = (
    "cannot lock ref",
    "unable to update local ref",
    "some local refs could not be updated",
    "No space left on device",
    "Read-only file system",
    "unable to create temporary file",
    "unknown option",
)
_BOILERPLATE = frozenset(
    {
        "Could not read from remote repository.",
        "Please make sure you have the correct access rights",
        "and the repository exists.",
    }
)


class GitError(Exception):
    """A git operation that failed; str() is one line for the user; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(escape(message))


class PushRefused(GitError):
    """The push was refused because the branch moved since *base* (another administrator
    committed)."""


class Unreachable(GitError):
    """The repository could not be reached (network, daemon down, timeout)."""


@dataclass(frozen=True)
class Change:
    """A file to write (*data*) or delete (*data* None) at a repository path."""

    path: str
    data: bytes | None


# --- running git ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Done:
    status: int
    out: bytes
    err: bytes


class _TimedOut(Exception):
    pass


class _TooMuch(Exception):
    pass


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items() if name not in _REPOSITORY_VARIABLES
    }
    environment.update(_FIXED_ENVIRONMENT)
    if extra:
        environment.update(extra)
    return environment


def _exited(pid: int) -> bool:
    """Whether *pid* has ended, without reaping it: while it is a zombie its process
    group's id cannot be taken by another process, so the group can still be killed."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _exit_descriptor(pid: int) -> int:
    """A descriptor that becomes readable when *pid* ends (Linux), else -1 (then the
    end is looked for every _POLL_SECONDS)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _exchange(
    process: subprocess.Popen[bytes], data: bytes | None, deadline: float, limit: int
) -> tuple[bytes, bytes]:
    """Standard input written, standard output (at most *limit* bytes) and the start of
    standard error read, until git ends or *deadline* passes. Git ended and its pipes
    still open means something it started holds them: that is not waited for."""
    assert process.stdout is not None and process.stderr is not None
    out, err = bytearray(), bytearray()
    out_fd, err_fd = process.stdout.fileno(), process.stderr.fileno()
    pending = memoryview(data or b"")
    in_fd = -1
    exit_fd = _exit_descriptor(process.pid)
    exited = False
    try:
        with selectors.DefaultSelector() as selector:
            pipes = {out_fd, err_fd}
            for fd in pipes:
                selector.register(fd, selectors.EVENT_READ)
            if process.stdin is not None:
                if pending:
                    in_fd = process.stdin.fileno()
                    os.set_blocking(in_fd, False)
                    selector.register(in_fd, selectors.EVENT_WRITE)
                    pipes.add(in_fd)
                else:
                    process.stdin.close()
            if exit_fd >= 0:
                selector.register(exit_fd, selectors.EVENT_READ)
            while pipes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _TimedOut
                wait = remaining if exit_fd >= 0 else min(remaining, _POLL_SECONDS)
                piped = False
                for key, _mask in selector.select(wait):
                    if key.fd == exit_fd:
                        exited = True
                        selector.unregister(exit_fd)
                        continue
                    piped = True
                    if key.fd == in_fd:
                        try:
                            written = os.write(in_fd, pending[:_CHUNK])
                        except BrokenPipeError:
                            written = len(pending)
                        pending = pending[written:]
                        if not pending:
                            selector.unregister(in_fd)
                            pipes.discard(in_fd)
                            assert process.stdin is not None
                            process.stdin.close()
                        continue
                    chunk = os.read(key.fd, _CHUNK)
                    if not chunk:
                        selector.unregister(key.fd)
                        pipes.discard(key.fd)
                    elif key.fd == out_fd:
                        out += chunk
                        if len(out) > limit:
                            raise _TooMuch
                    elif len(err) < _ERROR_BYTES:
                        err += chunk[: _ERROR_BYTES - len(err)]
                if not piped and (exited or (exit_fd < 0 and _exited(process.pid))):
                    exited = True
                    break  # nothing left to read from git itself
            while not exited:  # its pipes closed: git is ending
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _TimedOut
                if exit_fd >= 0:
                    exited = bool(selector.select(remaining))
                else:
                    exited = _exited(process.pid)
                    if not exited:
                        time.sleep(0.002)
    finally:
        if exit_fd >= 0:
            os.close(exit_fd)
    return bytes(out), bytes(err)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Git and everything it started (ssh, a remote helper, upload-pack) gone, git reaped."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:  # no such group (git alone, already ended): git itself, to be sure
        with contextlib.suppress(OSError):
            process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _run(
    arguments: Sequence[str],
    *,
    timeout: float,
    data: bytes | None = None,
    environment: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> _Done:
    """``git ARGUMENTS``, bounded in time and in what is read of its output."""
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(
            ["git", *_ALWAYS, *arguments],
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(environment),
            cwd="/",
            start_new_session=True,  # its own process group, and no terminal to prompt on
        )
    except FileNotFoundError:
        raise GitError(NOT_INSTALLED) from None
    except OSError as error:
        raise GitError(f"git cannot be run: {error.strerror}") from None
    try:
        out, err = _exchange(process, data, deadline, _OUTPUT_BYTES if limit is None else limit)
    finally:
        _end(process)
    return _Done(process.returncode, out, err)


def _call(
    arguments: Sequence[str],
    *,
    timeout: float,
    data: bytes | None = None,
    environment: Mapping[str, str] | None = None,
    limit: int | None = None,
    ok: tuple[int, ...] = (0,),
) -> _Done:
    """A git command that works on this machine only: a time-out, too much output or an
    exit status outside *ok* is a GitError naming the command."""
    name = next(argument for argument in arguments if not argument.startswith("-"))
    try:
        done = _run(arguments, timeout=timeout, data=data, environment=environment, limit=limit)
    except _TimedOut:
        raise GitError(f"git {name} did not finish in {timeout:g} seconds") from None
    except _TooMuch:
        raise GitError(f"git {name} wrote more than expected") from None
    if done.status not in ok:
        raise GitError(f"git {name} failed: {_reason(done.err)}")
    return done


def _reason(err: bytes) -> str:
    """Git's standard error as one short line: its messages, without hints, advice, or
    the generic words that follow the real cause (kept only when there is nothing else)."""
    kept: list[str] = []
    generic: list[str] = []
    for raw in err.decode("utf-8", "replace").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line or line.startswith(("hint:", "warning:")):
            continue
        for prefix in ("fatal: ", "error: "):
            line = line.removeprefix(prefix)
        (generic if line in _BOILERPLATE else kept).append(line)
    text = escape(" ".join(kept or generic)) or "git gave no reason"
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 3] + "..."
    return text


def _remote_lines(err: bytes) -> str:
    """What the server said (``remote:`` lines), for a refusal."""
    said = []
    for raw in err.decode("utf-8", "replace").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("remote:") and line.removeprefix("remote:").strip():
            said.append(line.removeprefix("remote:").strip())
    return escape("; ".join(said[:3]))[:_REASON_CHARS]


# --- names, paths and identities -----------------------------------------------------------


def _shown(url: str) -> str:
    """*url* for a message: a password in it left out."""
    return escape(_PASSWORD.sub(r"\1@", url))


def _check_url(url: str) -> str:
    if not url or url.startswith("-") or not url.isprintable():
        raise GitError(f"invalid cluster repository URL: {escape(url)}")
    return url


def _local_path(url: str) -> Path | None:
    """The directory *url* names when it is a local path (as git tells: no scheme, and no
    ``host:`` before the first slash), else None."""
    if url.startswith("file://"):
        rest = url.removeprefix("file://")
        return Path(rest) if rest.startswith("/") else None
    if "://" in url:
        return None
    colon, slash = url.find(":"), url.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        return None
    return Path(url).absolute()


def _remote(url: str) -> str:
    """What git is given for *url*: a local path made absolute (git runs from /)."""
    local = _local_path(_check_url(url))
    return str(local) if local is not None and not url.startswith("file://") else url


def _check_sha(sha: str) -> str:
    if _SHA.fullmatch(sha) is None:
        raise GitError(f"invalid commit name: {escape(sha)}")
    return sha


def _check_path(path: str, *, directory: bool = False) -> str:
    """A path inside the repository, as git names it: relative, no empty, ``.`` or ``..``
    part; '' (a directory only) is the top."""
    text = path.rstrip("/") if directory else path
    bad = (
        (text == "" and not directory)
        or "\x00" in text
        or "\n" in text
        or (text != "" and any(part in ("", ".", "..") for part in text.split("/")))
    )
    if bad:
        raise GitError(f"invalid path in the cluster repository: {escape(path)}")
    return text


def _identity(text: str, what: str) -> tuple[str, str]:
    match = _IDENTITY.fullmatch(text)
    if match is None or not match.group(1) or not text.isprintable():
        raise GitError(f"invalid {what} {escape(text)}: expected 'Name <email>'")
    return match.group(1), match.group(2)


def _short(sha: str | None) -> str:
    return "none" if sha is None else sha[:12]


# --- the mirror ----------------------------------------------------------------------------


class Mirror:
    """A bare local copy of the cluster repository in *path* (the home's cluster/repo.git),
    with the remote URL.

    Every fetch and push names *url* itself (the mirror's ``origin`` records it for a
    person looking with git): the URL the caller keeps is the one used, so the two
    cannot drift apart.
    """

    def __init__(self, path: Path, url: str, timeout: float = GIT_TIMEOUT) -> None:
        self.path = Path(path).absolute()
        self.url = url
        self.timeout = timeout

    @classmethod
    def create(cls, path: Path, url: str, timeout: float = GIT_TIMEOUT) -> Mirror:
        """git init --bare at path, remote 'origin' = url. If url is a local path with no
        repository, a bare repository is created there (git init --bare) first.

        A *path* that is already a git directory (a mirror left by an attempt that failed
        later) is taken over: it is only a copy, and the next fetch makes it the
        repository's. On failure, what was created here is removed again.
        """
        mirror = cls(path, url, timeout)
        remote = _remote(url)
        local = _local_path(url)
        undo: list[Callable[[], None]] = []
        try:
            if local is not None and _vacant(local):
                undo.append(_undoing(local))
                mirror._init(local, templates=True)
            elif local is not None and not mirror._is_git_directory(local):
                raise GitError(f"{escape(url)} is not a bare git repository")
            if _vacant(mirror.path):
                undo.append(_undoing(mirror.path))
                mirror._init(mirror.path, templates=False)
            elif not mirror._is_git_directory(mirror.path):
                raise GitError(f"{escape(str(mirror.path))} exists and is not a git repository")
            mirror._local("config", "--replace-all", "remote.origin.url", remote)
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        return mirror

    # -- network --

    def fetch(self) -> str | None:
        """Fetch refs/heads/main and refs/destconfig/* from origin into the mirror; the
        newest main commit's sha, None when the repository is empty. Unreachable when it
        cannot be reached."""
        self._require()
        mains = f"+{MAIN_REF}:{MAIN_REF}"
        owns = f"+{OWN_REFS}*:{OWN_REFS}*"
        done = self._fetch(mains, owns)
        if done.status != 0 and f"couldn't find remote ref {MAIN_REF}" in done.err.decode(
            "utf-8", "replace"
        ):
            # No main: an empty repository (its own refs, if any, are still mirrored).
            done = self._fetch(owns)
            if done.status == 0:
                self._local("update-ref", "-d", MAIN_REF)
        if done.status != 0:
            self._fetch_failed(done)
        return self.head()

    def push(self, base: str | None, commit: str) -> None:
        """Push *commit* to refs/heads/main of origin, as a fast-forward only: refused
        (PushRefused) when the remote's main is no longer *base*. On success the
        mirror's refs/heads/main is updated.

        A plain push: git refuses it when it is not a fast-forward, and as *commit*'s
        parent is *base*, it is one exactly while main is still *base* (only a force push
        elsewhere could move main back behind *base*). Where the server refuses the
        update itself (two pushes at once, a hook), main is asked for again to tell
        whether it moved.
        """
        self._require()
        _check_sha(commit)
        if base is not None:
            _check_sha(base)
        parents = self._local("rev-list", "--parents", "--max-count=1", commit).out.split()[1:]
        if [sha.decode() for sha in parents] != ([] if base is None else [base]):
            raise GitError(f"commit {_short(commit)} is not a child of {_short(base)}")
        done = self._push(commit, MAIN_REF)
        if done.status != 0:
            self._push_refused(done, base, commit)  # returns when the commit landed anyway
        self._advance_main(commit)

    def set_ref(self, ref: str, commit: str) -> None:
        """Push *commit* to *ref* (e.g. refs/destconfig/applied/MACHINE) on origin; a
        plain push (this ref only ever moves to a newer commit of main, a fast-forward);
        if refused as non-fast-forward, GitError."""
        self._require()
        _check_sha(commit)
        self._check_ref(ref)
        done = self._push(commit, ref)
        status = _push_status(done.out, ref)
        if done.status != 0 and status is None:
            self._network_failed(done)
        if done.status != 0 and status is not None and status[0] != UPDATED:
            said = _remote_lines(done.err)
            raise GitError(
                f"the cluster repository refused the push of {ref}: {status[1]}"
                + (f" ({said})" if said else "")
            )
        self._local("update-ref", ref, commit)

    # -- the mirror only --

    def head(self) -> str | None:
        """The last fetched main commit (no network)."""
        if not os.path.lexists(self.path):
            return None  # never created: nothing was fetched
        self._require()
        done = self._local("rev-parse", "--verify", "--quiet", MAIN_REF, ok=(0, 1))
        return done.out.decode().strip() if done.status == 0 else None

    def read(self, commit: str, path: str) -> bytes | None:
        """The file at *path* in *commit*, None when absent (bounded)."""
        path = _check_path(path)
        found = self._objects(_check_sha(commit), [f"{commit}:{path}"])[0]
        if found is None:
            return None
        sha, kind, size = found
        if kind != "blob":
            raise GitError(f"{escape(path)} in the cluster repository is not a file")
        most = limits.MAX_FILE_BYTES
        if size > most:
            raise GitError(f"{escape(path)} in the cluster repository: larger than {most} bytes")
        data = self._local("cat-file", "blob", sha, limit=size).out
        if len(data) != size:
            raise GitError(f"{escape(path)} in the cluster repository could not be read whole")
        return data

    def paths(self, commit: str, directory: str) -> list[str]:
        """The names directly under *directory* in *commit* (git ls-tree), [] when absent."""
        directory = _check_path(directory, directory=True)
        spec = f"{commit}:{directory}" if directory else f"{commit}^{{tree}}"
        found = self._objects(_check_sha(commit), [spec])[0]
        if found is None or found[1] != "tree":
            return []
        sha, _kind, size = found
        most = limits.MAX_FILE_BYTES
        if size > most:
            raise GitError(
                f"{escape(directory)} in the cluster repository: larger than {most} bytes"
            )
        listed = self._local("ls-tree", "-z", "--name-only", sha, limit=size).out
        names = listed.split(b"\0")
        return sorted(name.decode("utf-8", "surrogateescape") for name in names if name)

    def files(self, commit: str, *directories: str) -> list[str]:
        """Every file's path under *directories* in *commit*, whatever their number: one
        ``git ls-tree -r`` (its output bounded as any command's)."""
        tops = [_check_path(directory) for directory in directories]
        listed = self._local(
            "ls-tree", "-r", "-z", "--name-only", "--full-tree", _check_sha(commit), "--", *tops
        ).out
        names = listed.split(b"\0")
        return sorted(name.decode("utf-8", "surrogateescape") for name in names if name)

    def commit(
        self,
        base: str | None,
        changes: Sequence[Change],
        message: str,
        author: str | None,
        fallback_author: str = FALLBACK_AUTHOR,
    ) -> str:
        """A new commit on top of *base* (None: a root commit, for an empty repository)
        with *changes*, made with plumbing in a temporary index; nothing is pushed and no
        ref moves. *author* 'Name <email>' or None: git's own configuration, and where git
        has no identity configured, *fallback_author* (for the committer too)."""
        self._require()
        if base is not None:
            _check_sha(base)
        if "\x00" in message:
            raise GitError("a commit message cannot hold a NUL character")
        text = message if message.endswith("\n") else message + "\n"
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            raise GitError("a commit message must be UTF-8 text") from None
        environment = self._identities(author, fallback_author)
        paths = self._check_changes(base, changes)
        with tempfile.TemporaryDirectory(prefix="destconfig-index-") as scratch:
            environment["GIT_INDEX_FILE"] = str(Path(scratch) / "index")
            if base is None:
                self._local("read-tree", "--empty", environment=environment)
            else:
                self._local("read-tree", base, environment=environment)
            zero = "0" * len(base or "0" * 40)
            entries = []
            for path, change in zip(paths, changes, strict=True):
                if change.data is None:
                    entries.append(f"0 {zero}\t{path}\0")
                    continue
                blob = self._local("hash-object", "-w", "--stdin", data=change.data)
                entries.append(f"100644 blob {blob.out.decode().strip()}\t{path}\0")
            if entries:
                self._local(
                    "update-index",
                    "-z",
                    "--index-info",
                    data="".join(entries).encode("utf-8", "surrogateescape"),
                    environment=environment,
                )
            tree = self._local("write-tree", environment=environment).out.decode().strip()
        parent = [] if base is None else ["-p", base]
        made = self._local("commit-tree", tree, *parent, data=encoded, environment=environment)
        return _check_sha(made.out.decode().strip())

    def refs(self, prefix: str) -> dict[str, str]:
        """The fetched refs under *prefix* (e.g. 'refs/destconfig/applied/'), name without
        prefix -> sha."""
        if not os.path.lexists(self.path):
            return {}
        self._require()
        listed = self._local("for-each-ref", "--format=%(objectname) %(refname)").out
        found = {}
        for line in listed.decode("utf-8", "surrogateescape").splitlines():
            sha, _space, name = line.partition(" ")
            if name.startswith(prefix) and name != prefix:
                found[name.removeprefix(prefix)] = sha
        return found

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether *older* is *newer* or one of its ancestors."""
        self._require()
        done = self._local(
            "merge-base", "--is-ancestor", _check_sha(older), _check_sha(newer), ok=(0, 1)
        )
        return done.status == 0

    # -- helpers --

    def _local(
        self,
        *arguments: str,
        data: bytes | None = None,
        environment: Mapping[str, str] | None = None,
        limit: int | None = None,
        ok: tuple[int, ...] = (0,),
        git_dir: Path | None = None,
    ) -> _Done:
        """A git command in the mirror (or *git_dir*) only; any failure is a GitError."""
        return _call(
            [f"--git-dir={git_dir or self.path}", *arguments],
            timeout=self.timeout,
            data=data,
            environment=environment,
            limit=limit,
            ok=ok,
        )

    def _network(self, *arguments: str) -> _Done:
        """A git command that talks to the repository; a time-out is Unreachable."""
        try:
            return _run([f"--git-dir={self.path}", *arguments], timeout=self.timeout)
        except _TimedOut:
            raise self._unreachable(f"no answer in {self.timeout:g} seconds") from None
        except _TooMuch:
            raise GitError(f"git {arguments[0]} wrote more than expected") from None

    def _unreachable(self, reason: str) -> Unreachable:
        return Unreachable(f"cannot reach the cluster repository {_shown(self.url)}: {reason}")

    def _fetch(self, *refspecs: str) -> _Done:
        return self._network(
            "fetch",
            "--quiet",
            "--no-tags",
            "--prune",
            "--no-write-fetch-head",  # a fetch that fails would empty FETCH_HEAD (git 2.29)
            "--no-recurse-submodules",
            "--",
            _remote(self.url),
            *refspecs,
        )

    def _push(self, commit: str, ref: str) -> _Done:
        return self._network(
            "push",
            "--porcelain",
            "--no-follow-tags",
            "--no-recurse-submodules",
            "--",
            _remote(self.url),
            f"{commit}:{ref}",
        )

    def _fetch_failed(self, done: _Done) -> NoReturn:
        said = done.err.decode("utf-8", "replace")
        if str(self.path) in said or any(words in said for words in _LOCAL_FAILURES):
            raise GitError(
                f"cannot update the cluster mirror {escape(str(self.path))}: {_reason(done.err)}"
            )
        raise self._unreachable(_reason(done.err))

    def _network_failed(self, done: _Done) -> NoReturn:
        """A push that got no answer for its ref: the repository was not reached."""
        said = done.err.decode("utf-8", "replace")
        if str(self.path) in said or any(words in said for words in _LOCAL_FAILURES):
            raise GitError(f"git push failed: {_reason(done.err)}")
        raise self._unreachable(_reason(done.err))

    def _push_refused(self, done: _Done, base: str | None, commit: str) -> None:
        status = _push_status(done.out, MAIN_REF)
        if status is None:
            self._network_failed(done)
        kind, reason = status
        if kind == UPDATED:
            return  # main was updated; what failed came after
        moved = PushRefused(
            "the cluster repository refused the push: "
            + (
                f"{BRANCH} was created meanwhile"
                if base is None
                else f"{BRANCH} moved on from {_short(base)}"
            )
            + " (another administrator committed)"
        )
        if kind == "[rejected]":
            raise moved  # not a fast-forward: main is no longer base
        # The server refused the update itself: a push that won the race, or a hook.
        now = self._remote_main()
        if now == commit:
            return  # it did land (the report was lost on the way)
        if now is not None and now != (base or ""):
            raise moved
        said = _remote_lines(done.err)
        raise GitError(
            f"the cluster repository refused the push: {reason}" + (f" ({said})" if said else "")
        )

    def _remote_main(self) -> str | None:
        """Where the repository's main is now, None when that cannot be told."""
        try:
            done = self._network("ls-remote", "--", _remote(self.url), MAIN_REF)
        except GitError:
            return None
        if done.status != 0:
            return None
        for line in done.out.decode("utf-8", "replace").splitlines():
            sha, _tab, name = line.partition("\t")
            if name == MAIN_REF:
                return sha
        return ""  # no main at all

    def _advance_main(self, commit: str) -> None:
        """The mirror's main at the commit just pushed, unless a fetch meanwhile brought a
        newer one (the repository has it: the next fetch would bring it anyway)."""
        with contextlib.suppress(GitError):
            current = self.head()
            if current is None or (current != commit and self.is_ancestor(current, commit)):
                old = current or "0" * len(commit)
                self._local("update-ref", MAIN_REF, commit, old)

    def _objects(self, commit: str, specs: list[str]) -> list[tuple[str, str, int] | None]:
        """Each of *specs* as (sha, type, size), None when absent; *commit* must be in the
        mirror (one ``git cat-file --batch-check``: sizes are known before anything is read)."""
        lines = [commit, *specs]
        data = "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")
        out = self._local(
            "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", data=data
        ).out
        answers = out.decode("utf-8", "surrogateescape").split("\n")[: len(lines)]
        if len(answers) != len(lines):
            raise GitError("git cat-file answered short")
        found: list[tuple[str, str, int] | None] = []
        for answer in answers:
            if answer.endswith((" missing", " ambiguous")):
                found.append(None)
                continue
            sha, _space, rest = answer.partition(" ")
            kind, _space, size = rest.partition(" ")
            if _SHA.fullmatch(sha) is None or not size.isdigit():
                raise GitError(f"git cat-file answered {escape(answer[:80])}")
            found.append((sha, kind, int(size)))
        first = found.pop(0)
        if first is None or first[1] != "commit":
            raise GitError(f"commit {_short(commit)} is not in the cluster mirror")
        return found

    def _check_changes(self, base: str | None, changes: Sequence[Change]) -> list[str]:
        """The changes' paths, checked: each once, within the file limit, and no file
        where the base has a directory or the other way round (the index would replace
        a whole directory silently)."""
        paths = [_check_path(change.path) for change in changes]
        if len(set(paths)) != len(paths):
            raise GitError("a commit changes a path twice")
        most = limits.MAX_FILE_BYTES
        for path, change in zip(paths, changes, strict=True):
            if change.data is not None and len(change.data) > most:
                raise GitError(f"{escape(path)}: larger than {most} bytes")
        files = set(paths)
        directories = {
            "/".join(path.split("/")[:depth])
            for path, change in zip(paths, changes, strict=True)
            if change.data is not None
            for depth in range(1, path.count("/") + 1)
        }
        if clash := sorted(files & directories):
            raise GitError(f"{escape(clash[0])} cannot be both a file and a directory")
        if base is None:
            return paths
        specs = sorted(files) + sorted(directories)
        found = self._objects(base, [f"{base}:{spec}" for spec in specs])
        for spec, answer in zip(specs, found, strict=True):
            if answer is not None and answer[1] != ("blob" if spec in files else "tree"):
                raise GitError(f"{escape(spec)} cannot be both a file and a directory")
        return paths

    def _identities(self, author: str | None, fallback: str) -> dict[str, str]:
        """The environment that names the commit's author and committer: *author* if
        given, else git's configuration, else *fallback*."""
        name, email = _identity(fallback, "fallback author")
        environment: dict[str, str] = {}
        if author is not None:
            given = _identity(author, "author")
            environment.update(GIT_AUTHOR_NAME=given[0], GIT_AUTHOR_EMAIL=given[1])
        elif not self._configured("GIT_AUTHOR_IDENT"):
            environment.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email)
        if not self._configured("GIT_COMMITTER_IDENT"):
            environment.update(GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email)
        return environment

    def _configured(self, variable: str) -> bool:
        """Whether git has this identity configured (``user.useConfigOnly``: not guessed)."""
        return self._local("var", variable, ok=ANY_STATUS).status == 0

    def _check_ref(self, ref: str) -> None:
        if not ref.startswith(OWN_REFS) or not ref.isprintable():
            raise GitError(f"invalid ref {escape(ref)}: the tool's refs are under {OWN_REFS}")
        if self._local("check-ref-format", ref, ok=ANY_STATUS).status != 0:
            raise GitError(f"invalid ref {escape(ref)}")

    def _require(self) -> None:
        if not (self.path / "HEAD").is_file():
            raise GitError(f"{escape(str(self.path))} is not a git repository")

    def _is_git_directory(self, path: Path) -> bool:
        done = self._local("rev-parse", "--git-dir", git_dir=path, ok=ANY_STATUS)
        return done.status == 0

    def _init(self, path: Path, *, templates: bool) -> None:
        """A new bare repository at *path* whose HEAD names main. The mirror takes no
        templates (they may hold hooks); a repository created for the cluster gets git's
        own, as ``git init --bare`` by hand would."""
        options = [] if templates else ["--template="]
        _call(["init", "--bare", "--quiet", *options, "--", str(path)], timeout=self.timeout)
        self._local("symbolic-ref", "HEAD", MAIN_REF, git_dir=path)


def _push_status(out: bytes, ref: str) -> tuple[str, str] | None:
    """From ``git push --porcelain``: what became of *ref*: ``updated``, or how it was
    refused (``[rejected]``, ``[remote rejected]``...) and the reason; None when git
    reported nothing for it (it never got that far)."""
    for line in out.decode("utf-8", "replace").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1].endswith(f":{ref}"):
            if fields[0] != "!":
                return UPDATED, ""
            summary = fields[2].strip()
            kind, bracket, reason = summary.partition("]")
            if not summary.startswith("[") or not bracket:
                return summary, escape(summary)
            return kind + bracket, escape(reason.strip().removeprefix("(").removesuffix(")"))
    return None


def _vacant(path: Path) -> bool:
    """Nothing at *path*, or an empty directory: where a repository may be created."""
    if not os.path.lexists(path):
        return True
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _undoing(path: Path) -> Callable[[], None]:
    """What takes away a repository about to be made at *path* (vacant): the directories
    made for it, or only what it holds when *path* was there, empty."""
    if os.path.lexists(path):
        return lambda: _empty(path)
    top = path
    while not os.path.lexists(top.parent) and top.parent != top:
        top = top.parent
    return lambda: shutil.rmtree(top, ignore_errors=True)


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
