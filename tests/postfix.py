"""A real Postfix for the tests: Debian's package, run as an instance of its own.

The package is fetched and unpacked by :mod:`tests.debpkg`, never installed. Each
instance lives in a scratch directory of its own (configuration, queue, data, log)
and its master runs in a private mount namespace where ``/etc/hosts`` (the test
domains, each a loopback server) and ``/etc/nsswitch.conf`` (host names from that
file only) are bind-mounted: the system's files are never touched, and no name is
ever looked up in DNS. Nothing leaves: there is no smtpd at all (mail goes in with
the instance's own ``sendmail``), only the domains routed to a test server go to
the ``smtp`` transport, everything else to ``error:``.

The destinations are aiosmtpd servers in the test process, on 127.0.0.N port 25
(the first N from 2 that is free), each recording what it received.

Root is needed (mount namespace, port 25, Postfix's own accounts); elsewhere the
tests skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import grp
import json
import os
import pty
import pwd
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.debpkg import unpacked

PACKAGES = ("postfix",)
LIFETIME = 900.0
"""Seconds after which a master exits by itself (``master -e``): an instance whose test
process was killed before it could stop it does not run on for ever."""

COMMAND_SECONDS = 60.0  # any one Postfix command
WAIT_SECONDS = 20.0  # the default deadline of the waits
POLL_SECONDS = 0.05
STOP_SECONDS = 10.0  # from SIGTERM to the master until it is gone
STRAGGLER_SECONDS = 0.3  # from the master's end until its children are gone

HOSTNAME = "harness.test"
SENDER = f"tester@{HOSTNAME}"
NOWHERE = "5.7.1 nothing leaves the test instance"
FIRST_ADDRESS = 2  # 127.0.0.2 is the first server address; 127.0.0.1 is left to the system
SMTP_PORT = 25

# Owner and setgid group: the ones Postfix's documentation names first, then accounts
# Debian has (mail, users). default_privs stays Postfix's default, nobody.
OWNER_CANDIDATES = ("postfix", "mail")
GROUP_CANDIDATES = ("postdrop", "users", "staff")
DEFAULT_PRIVS = "nobody"

# Written by a program other than the test: a minute old, so that Postfix does not
# wait for it to settle (it pauses about 2 s on a main.cf written less than 2 s ago).
SETTLED = 60.0


def unavailable(reason: str) -> NoReturn:
    """Skip with *reason*; under ``CI=true``, where the machine can, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the real Postfix tests: {reason}")
    pytest.skip(reason)


def require_root() -> None:
    if os.geteuid() != 0:
        unavailable("a Postfix instance needs root (a mount namespace, port 25, its own accounts)")


def _settle(*paths: Path) -> None:
    then = time.time() - SETTLED
    for path in paths:
        os.utime(path, (then, then))


# --- the package and the accounts ----------------------------------------------------------


def package() -> Path:
    """The root of Debian's postfix package, unpacked, its programs known to run here."""
    require_root()
    root = unpacked("postfix", PACKAGES)
    library = root / "usr/lib/postfix"
    probe = subprocess.run(
        [str(root / "usr/sbin/postconf"), "-d", "-h", "mail_version"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_LIBRARY_PATH": str(library)},
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )
    if probe.returncode != 0:
        unavailable(f"the unpacked postconf does not run here: {probe.stderr.strip()}")
    return root


@dataclass(frozen=True)
class Accounts:
    """``mail_owner`` and ``setgid_group``: existing accounts whose group IDs are neither
    0 nor each other's nor that of ``default_privs`` (Postfix refuses each of these)."""

    owner: str
    owner_uid: int
    owner_gid: int
    group: str
    gid: int


def accounts() -> Accounts:
    try:
        nobody = pwd.getpwnam(DEFAULT_PRIVS)
    except KeyError:
        unavailable(f"no {DEFAULT_PRIVS} account here for Postfix's default_privs")
    for owner in OWNER_CANDIDATES:
        try:
            user = pwd.getpwnam(owner)
        except KeyError:
            continue
        if 0 in (user.pw_uid, user.pw_gid) or nobody.pw_gid == user.pw_gid:
            continue
        for group in GROUP_CANDIDATES:
            try:
                entry = grp.getgrnam(group)
            except KeyError:
                continue
            if entry.gr_gid not in (0, user.pw_gid, nobody.pw_gid):
                return Accounts(owner, user.pw_uid, user.pw_gid, group, entry.gr_gid)
    unavailable(
        f"no accounts for Postfix here: an owner among {', '.join(OWNER_CANDIDATES)} and a "
        f"group among {', '.join(GROUP_CANDIDATES)}, with distinct unprivileged group IDs"
    )


# --- running programs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """What a Postfix command did."""

    status: int
    out: str
    err: str


def _collect_terminal(fd: int, process: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Everything written to the terminal *fd* until its writers are gone or *deadline*."""
    chunks: list[bytes] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


# --- the log -------------------------------------------------------------------------------

_STATUS = re.compile(
    r"^\S+ +\d+ [\d:]+ \S+ (?P<program>[^\[\s]+)\[\d+\]: (?P<queue_id>[0-9A-F]+): "
    r"to=<(?P<recipient>[^>]*)>,(?: orig_to=<[^>]*>,)? relay=(?P<relay>[^,]+), "
    r".*?dsn=(?P<dsn>[\d.]+), status=(?P<status>\w+) \((?P<detail>.*)\)$",
    re.MULTILINE,
)
FINAL = frozenset({"sent", "bounced", "expired"})
SETTLED_STATUSES = FINAL | {"deferred"}


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt as the log tells it (``status=`` sent, deferred, bounced...)."""

    queue_id: str
    recipient: str
    program: str
    relay: str
    dsn: str
    status: str
    detail: str


@dataclass(frozen=True)
class Message:
    """A message handed to the instance's sendmail: its unique Message-ID finds it in the log."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]


# --- the instance --------------------------------------------------------------------------


class Postfix:
    """One Postfix instance in *scratch* (a directory the mail owner can traverse).

    Built (main.cf, master.cf, queue) on construction; :meth:`start` and :meth:`stop`
    run it. Test domains reach servers through :meth:`route`. The files of ``destconfig
    export --format postfix`` go in as an administrator installs them:
    :meth:`install_maps` (postmap), :meth:`postconf_e`, :meth:`append_master`, then
    :meth:`reload`; or :meth:`install` for all of it.
    """

    def __init__(
        self,
        root: Path,
        scratch: Path,
        owners: Accounts,
        *,
        ca_file: Path | None = None,
        lifetime: float = LIFETIME,
    ) -> None:
        self.root = root
        self.scratch = scratch
        self.accounts = owners
        self.lifetime = lifetime
        self.library = root / "usr/lib/postfix"
        self.daemons = self.library / "sbin"
        self.conf = scratch / "conf"
        self.bin = scratch / "bin"
        self.queue = scratch / "queue"
        self.data = scratch / "data"
        self.log_file = scratch / "log" / "maillog"
        self.hosts_file = scratch / "hosts"
        self.nsswitch_file = scratch / "nsswitch.conf"
        self.namespace_file = scratch / "namespace"
        self.routes: dict[str, list[str]] = {}
        self.namespace: str | None = None
        self.master_pid: int | None = None
        self.killed: list[str] = []  # what the last stop had to kill
        self._sent = 0
        self._build(ca_file)

    # --- building ---

    def _build(self, ca_file: Path | None) -> None:
        os.chmod(self.scratch, 0o711)  # daemons run as the mail owner and chdir to the queue
        for directory in (self.conf, self.bin, self.queue, self.log_file.parent):
            directory.mkdir(mode=0o755)
            os.chmod(directory, 0o755)
        self.data.mkdir(mode=0o700)
        os.chown(self.data, self.accounts.owner_uid, -1)
        # The meta files "postfix check" reads; dynamicmaps.cf names no plugin (none is
        # unpacked: hash, btree, texthash, regexp, cidr... are built in).
        shutil.copy(self.root / "etc/postfix/postfix-files", self.conf / "postfix-files")
        (self.conf / "postfix-files.d").mkdir()
        (self.conf / "dynamicmaps.cf.d").mkdir()
        (self.conf / "dynamicmaps.cf").write_text("# no dynamically loaded map types\n")
        self._commands()
        if ca_file is not None:
            shutil.copy(ca_file, self.conf / "ca.pem")
        (self.conf / "main.cf").write_text(self._main_cf(ca_file is not None))
        (self.conf / "master.cf").write_text(MASTER_CF)
        self._write_hosts()
        self.nsswitch_file.write_text(_nsswitch())
        _settle(*self.conf.iterdir())

    def _commands(self) -> None:
        """The instance's command_directory: the package's programs, postdrop and
        postqueue copied setgid to the setgid group as an installed Postfix has them
        ("postfix check" warns otherwise)."""
        for program in sorted((self.root / "usr/sbin").iterdir()):
            target = self.bin / program.name
            if program.name in ("postdrop", "postqueue"):
                shutil.copy(program, target)
                os.chown(target, 0, self.accounts.gid)
                os.chmod(target, 0o2755)
            else:
                target.symlink_to(program)

    def _main_cf(self, with_ca: bool) -> str:
        library = self.library
        environment = f"LD_LIBRARY_PATH={library}"  # daemons (import) and postdrop (export)
        lines = [
            "compatibility_level = 3.6",
            f"config_directory = {self.conf}",
            f"meta_directory = {self.conf}",
            f"queue_directory = {self.queue}",
            f"data_directory = {self.data}",
            f"daemon_directory = {self.daemons}",
            f"shlib_directory = {library}",
            f"command_directory = {self.bin}",
            f"sendmail_path = {self.bin / 'sendmail'}",
            f"newaliases_path = {self.bin / 'newaliases'}",
            f"mailq_path = {self.bin / 'mailq'}",
            f"mail_owner = {self.accounts.owner}",
            f"setgid_group = {self.accounts.group}",
            f"import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C {environment}",
            f"export_environment = TZ MAIL_CONFIG LANG {environment}",
            f"maillog_file = {self.log_file}",
            f"maillog_file_prefixes = {self.log_file.parent}",
            "inet_interfaces = loopback-only",
            f"myhostname = {HOSTNAME}",
            "mydestination =",
            "relay_domains =",
            "relay_transport = smtp",
            f"default_transport = error:{NOWHERE}",
            "smtp_dns_support_level = disabled",
            "smtp_host_lookup = native",
            "smtp_tls_security_level = may",
            "smtp_tls_loglevel = 1",
        ]
        if with_ca:
            lines.append(f"smtp_tls_CAfile = {self.conf / 'ca.pem'}")
        return "".join(f"{line}\n" for line in lines)

    def _write_hosts(self) -> None:
        """The namespace's /etc/hosts, rewritten in place: the bind mount holds the inode."""
        lines = ["127.0.0.1 localhost", "::1 localhost"]
        for domain, addresses in self.routes.items():
            lines.extend(f"{address} {domain}" for address in addresses)
        with self.hosts_file.open("w", encoding="ascii") as stream:  # same inode
            stream.write("".join(f"{line}\n" for line in lines))

    # --- running Postfix's programs ---

    def _env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin",
            "LD_LIBRARY_PATH": str(self.library),
            "MAIL_CONFIG": str(self.conf),
            "LANG": "C",
        }

    def run(self, *argv: str, stdin: str | None = None, setgid: bool = False) -> Ran:
        """A Postfix program of the instance (name or path), its output as text.

        *setgid* runs it with the setgid group as the real group: a setgid program
        ignores LD_LIBRARY_PATH (secure execution) unless the real group is already
        the one it is set to, and sendmail (through postdrop) and postqueue are setgid.
        """
        program = argv[0] if argv[0].startswith("/") else str(self.bin / argv[0])
        done = subprocess.run(
            [program, *argv[1:]],
            input=stdin,
            capture_output=True,
            text=True,
            env=self._env(),
            cwd=self.scratch,
            timeout=COMMAND_SECONDS,
            check=False,
            group=self.accounts.gid if setgid else None,
            extra_groups=[] if setgid else None,
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    def _must(self, *argv: str, stdin: str | None = None, setgid: bool = False) -> Ran:
        done = self.run(*argv, stdin=stdin, setgid=setgid)
        if done.status != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {done.status}: {done.err}{done.out}\n"
                f"--- maillog (end)\n{self.log()[-3000:]}"
            )
        return done

    def at_terminal(self, *argv: str) -> Ran:
        """A Postfix program with its standard error on a terminal.

        postfix(1) and postlog(1) write warnings to standard error only when it is a
        terminal (otherwise to the log alone): this is what an administrator sees.
        """
        main, secondary = pty.openpty()
        try:
            process = subprocess.Popen(
                [str(self.bin / argv[0]), *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=secondary,
                env=self._env(),
                cwd=self.scratch,
            )
            os.close(secondary)
            secondary = -1
            deadline = time.monotonic() + COMMAND_SECONDS
            err = _collect_terminal(main, process, deadline)
            out, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        finally:
            os.close(main)
            if secondary >= 0:
                os.close(secondary)
        text = err.decode("utf-8", "replace").replace("\r\n", "\n")
        return Ran(process.returncode, out.decode("utf-8", "replace"), text)

    def postfix_check(self) -> Ran:
        """``postfix check`` as at a terminal: nothing on either stream when all is well."""
        return self.at_terminal("postfix", "-c", str(self.conf), "check")

    def postconf_n(self) -> Ran:
        return self.run("postconf", "-c", str(self.conf), "-n")

    def postconf(self, *names: str) -> dict[str, str]:
        """The values of *names* (``postconf -h`` one by one would pay a start each)."""
        done = self._must("postconf", "-c", str(self.conf), *names)
        values = {}
        for line in done.out.splitlines():
            name, _, value = line.partition(" = ")
            values[name] = value
        return values

    # --- configuring, as an administrator would ---

    def postconf_e(self, lines: Iterable[str] | str) -> None:
        """``postconf -c CONF -e LINE...`` with each ``name = value`` line; blank and
        ``#`` lines are left out, as ``grep -v '^#'`` would."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        settings = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if settings:
            self._must("postconf", "-c", str(self.conf), "-e", *settings)
            _settle(self.conf / "main.cf")

    def append_master(self, text: str) -> None:
        """*text* (complete master.cf entries) appended to master.cf."""
        master = self.conf / "master.cf"
        current = master.read_text()
        separator = "" if current.endswith("\n") or not current else "\n"
        ending = "" if text.endswith("\n") or not text else "\n"
        master.write_text(current + separator + text + ending)
        _settle(master)

    def install_maps(self, directory: Path, map_type: str = "hash") -> list[Path]:
        """``postmap TYPE:FILE`` for each map source in *directory*: every file but
        main.cf, master.cf, hidden files and the indexed files postmap writes."""
        sources = [
            path
            for path in sorted(directory.iterdir())
            if path.is_file()
            and not path.name.startswith(".")
            and path.name not in ("main.cf", "master.cf")
            and path.suffix not in (".db", ".lmdb", ".cdb")
        ]
        for source in sources:
            self._must("postmap", "-c", str(self.conf), f"{map_type}:{source}")
        return sources

    def install(self, directory: Path, map_type: str = "hash") -> None:
        """The whole of an exported directory installed: its maps, main.cf's lines, its
        master.cf entries; then reloaded when running."""
        self.install_maps(directory, map_type)
        if (directory / "main.cf").exists():
            self.postconf_e((directory / "main.cf").read_text())
        if (directory / "master.cf").exists():
            self.append_master((directory / "master.cf").read_text())
        if self.running():
            self.reload()

    def route(self, domain: str, *servers: Destination) -> None:
        """Mail for *domain* goes to *servers* (``/etc/hosts`` lines in the namespace) by
        the ``smtp`` transport (``relay_domains``). Takes effect at start, or at once
        when running (the hosts file is read at each lookup; Postfix is reloaded)."""
        self.routes[domain] = [server.address for server in servers]
        self._write_hosts()
        self.postconf_e([f"relay_domains = {', '.join(self.routes)}"])
        if self.running():
            self.reload()

    # --- start, reload, stop ---

    def running(self) -> bool:
        return self.master_pid is not None and alive(self.master_pid)

    def start(self) -> None:
        """``postfix check``, then the master (``-w``: returns once it is up), both in a
        private mount namespace with the instance's hosts and nsswitch files."""
        script = (
            'set -e; readlink /proc/self/ns/mnt > "$1"; '
            'mount --bind "$2" /etc/hosts; mount --bind "$3" /etc/nsswitch.conf; '
            '"$4/postfix" -c "$5" check; exec "$6/master" -c "$5" -w -e "$7"'
        )
        done = subprocess.run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
                str(self.namespace_file),
                str(self.hosts_file),
                str(self.nsswitch_file),
                str(self.bin),
                str(self.conf),
                str(self.daemons),
                str(int(self.lifetime)),
            ],
            capture_output=True,
            text=True,
            env=self._env(),
            cwd=self.scratch,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        if self.namespace_file.exists():
            self.namespace = self.namespace_file.read_text().strip() or None
        self.master_pid = self._pid_file()
        if done.returncode != 0:
            self.stop()
            raise AssertionError(
                f"the Postfix instance did not start ({done.returncode}): "
                f"{done.stderr}{done.stdout}\n--- maillog\n{self.log()[-3000:]}"
            )

    def _pid_file(self) -> int | None:
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def reload(self, timeout: float = WAIT_SECONDS) -> None:
        """``postfix reload``, returning once the master has re-read its files and every
        daemon started before has exited (an idle smtp of the old configuration could
        otherwise take the next delivery)."""
        before = self.log().count(" reload -- version ")
        old = [pid for pid in self.processes() if pid != self.master_pid]
        self._must("postfix", "-c", str(self.conf), "reload")
        self._until(lambda: self.log().count(" reload -- version ") > before, timeout, "the reload")
        self._until(lambda: not any(alive(pid) for pid in old), timeout, "the old daemons' exit")

    def processes(self) -> list[int]:
        """Every process of the instance: those in its mount namespace (the master and
        its children), and any other whose MAIL_CONFIG is its configuration (such as the
        postsuper that ``postfix reload`` leaves running in the background)."""
        marker = b"MAIL_CONFIG=" + bytes(self.conf)
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                inside = os.readlink(entry / "ns" / "mnt") == self.namespace
                mine = inside or marker in (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue  # gone meanwhile, or a zombie (its links can no longer be read)
            if mine and alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def inet_listeners(self) -> list[str]:
        """The TCP addresses the instance's processes listen on (none: no smtpd)."""
        listening = _tcp_listeners()
        found = []
        for pid in self.processes():
            with contextlib.suppress(OSError):
                for fd in (Path("/proc") / str(pid) / "fd").iterdir():
                    with contextlib.suppress(OSError):
                        link = os.readlink(fd)
                        if link.startswith("socket:[") and link[8:-1] in listening:
                            found.append(f"{_describe(pid)}: {listening[link[8:-1]]}")
        return found

    def stop(self) -> list[str]:
        """Stops the instance; returns what had to be killed (nothing, normally).

        The master gets SIGTERM (what ``postfix stop`` sends, without its 1 s polls) and
        stops its children. A daemon caught starting up then ends in msg_fatal(), which
        sleeps 1 s before it exits: what is left STRAGGLER_SECONDS after the master has
        gone (or STOP_SECONDS after the SIGTERM, the master included) gets SIGKILL, with
        the master's process group. Raises when anything survives even that.
        """
        master = self.master_pid
        if master is not None and alive(master):
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGTERM)
            self._quiet(lambda: not alive(master), STOP_SECONDS)
        self._quiet(lambda: not self.processes(), STRAGGLER_SECONDS)
        left = self.processes()
        killed = [_describe(pid) for pid in left]
        if left and master is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(master, signal.SIGKILL)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._quiet(lambda: not self.processes(), STOP_SECONDS)
        survivors = [_describe(pid) for pid in self.processes()]
        if survivors:
            raise AssertionError(f"Postfix processes survived SIGKILL: {survivors}")
        self.master_pid = None
        return killed

    @staticmethod
    def _quiet(condition: Callable[[], bool], seconds: float) -> None:
        """Polls *condition* for at most *seconds* (no failure: the caller looks again)."""
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)

    # --- mail ---

    def send(
        self, sender: str, recipient: str | Sequence[str], body: str, subject: str = "test"
    ) -> Message:
        """A message injected with the instance's ``sendmail -C CONF -f SENDER``."""
        recipients = (recipient,) if isinstance(recipient, str) else tuple(recipient)
        self._sent += 1
        message_id = f"{os.getpid()}.{time.monotonic_ns()}.{self._sent}@{HOSTNAME}"
        text = (
            f"From: <{sender}>\nTo: {', '.join(f'<{r}>' for r in recipients)}\n"
            f"Subject: {subject}\nMessage-ID: <{message_id}>\n\n{body}"
        )
        if not text.endswith("\n"):
            text += "\n"
        command = ["sendmail", "-C", str(self.conf), "-i", "-f", sender, "--", *recipients]
        self._must(*command, stdin=text, setgid=True)
        return Message(message_id, sender, recipients)

    def flush(self) -> None:
        """``postqueue -f``: deferred mail is tried again now."""
        self._must("postqueue", "-c", str(self.conf), "-f", setgid=True)

    def queue_listing(self) -> list[dict[str, object]]:
        """``postqueue -j``: one JSON object per queued message."""
        done = self._must("postqueue", "-c", str(self.conf), "-j", setgid=True)
        return [cast(dict[str, object], json.loads(line)) for line in done.out.splitlines()]

    def queued(self) -> list[Path]:
        """The queue files (maildrop, incoming, active, deferred, hold), read directly."""
        files: list[Path] = []
        for name in ("maildrop", "incoming", "active", "deferred", "hold"):
            for folder, _, names in os.walk(self.queue / name):
                files.extend(Path(folder) / entry for entry in names)
        return files

    def log(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def queue_id(self, message: Message) -> str | None:
        found = re.search(
            rf"\]: ([0-9A-F]+): message-id=<{re.escape(message.message_id)}>$",
            self.log(),
            re.MULTILINE,
        )
        return None if found is None else found.group(1)

    def deliveries(self, message: Message) -> list[Delivery]:
        """Every delivery attempt of *message* logged so far, oldest first."""
        queue_id = self.queue_id(message)
        if queue_id is None:
            return []
        return [
            Delivery(**match.groupdict())
            for match in _STATUS.finditer(self.log())
            if match.group("queue_id") == queue_id
        ]

    def wait(
        self,
        message: Message,
        statuses: frozenset[str] = SETTLED_STATUSES,
        timeout: float = WAIT_SECONDS,
        after: int = 0,
    ) -> list[Delivery]:
        """Waits until each recipient of *message* has a status among *statuses* (by
        default any: sent, bounced, expired or deferred) in an attempt logged after the
        first *after* ones (``len(deliveries(message))`` before a flush waits for the next
        attempt); the latest such per recipient, in the message's order. Fails with the
        log after *timeout*."""
        latest: dict[str, Delivery] = {}

        def settled() -> bool:
            latest.clear()
            for delivery in self.deliveries(message)[after:]:
                if delivery.status in statuses:
                    latest[delivery.recipient] = delivery
            return all(recipient in latest for recipient in message.recipients)

        self._until(settled, timeout, f"{sorted(statuses)} for <{message.message_id}>")
        return [latest[recipient] for recipient in message.recipients]

    def wait_until_empty(self, timeout: float = WAIT_SECONDS) -> None:
        """Waits until the queue holds no message (deferred ones count: they are queued)."""
        self._until(lambda: not self.queued(), timeout, "an empty queue")

    def _until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {what} within {timeout} s\n--- maillog (end)\n{self.log()[-3000:]}"
                )
            time.sleep(POLL_SECONDS)


# The README's commands that install an export on a Postfix host (section "Running the
# table on Postfix"): the tests run them word for word, and hold the README to them.
README_RECIPE = """\
conf=/etc/postfix
dir=$conf/destconfig
destconfig export "$dir" --format postfix
postconf -c "$conf" -n | awk '$1 ~ /^dc_/ { print $1 }' | xargs -r postconf -c "$conf" -X
postconf -c "$conf" -M | awk '$1 ~ /^dc_/ { print $1 "/" $2 }' | xargs -r postconf -c "$conf" -MX
sed '/^#/d' "$dir/main.cf" | tr '\\n' '\\0' | xargs -0 postconf -c "$conf" -e
sed '/^#/d' "$dir/master.cf" >> "$conf/master.cf"
postmap "hash:$dir/tls_policy" "hash:$dir/transport"
postfix -c "$conf" check
postfix -c "$conf" reload
"""


# master.cf: Debian's services (tlsproxy included: smtp_tls_connection_reuse needs it)
# less smtpd (no listener at all), local, virtual, lmtp and the pipe examples; chroot off
# everywhere (the jail would need copies of /etc files);
# the postlog service that maillog_file needs.
MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
tlsproxy  unix  -       -       n       -       0       tlsproxy
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _nsswitch() -> str:
    """The system's nsswitch.conf with host names from /etc/hosts only."""
    try:
        lines = Path("/etc/nsswitch.conf").read_text().splitlines()
    except OSError:
        lines = ["passwd: files", "group: files", "shadow: files"]
    kept = [line for line in lines if not re.match(r"\s*hosts\s*:", line)]
    return "".join(f"{line}\n" for line in [*kept, "hosts: files"])


def alive(pid: int) -> bool:
    """Whether *pid* runs: a zombie does not (the PID 1 of these machines reaps the
    orphans of a stopped master late, so they stay zombies for a while)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _tcp_listeners() -> dict[str, str]:
    """Socket inode to ``address:port`` for every listening TCP socket (IPv4 and IPv6)."""
    found = {}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (Path("/proc/net") / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    address, _, port = fields[1].partition(":")
                    found[fields[9]] = f"{address}:{int(port, 16)}"
    return found


def _describe(pid: int) -> str:
    try:
        command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return str(pid)
    return f"{pid} {command.decode(errors='replace').strip()}"


# --- destinations: aiosmtpd servers on 127.0.0.N:25 ---------------------------------------

_SNI: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _note_sni(connection: object, server_name: str | None, context: ssl.SSLContext) -> None:
    if server_name is not None:
        _SNI[connection] = server_name


@dataclass(frozen=True)
class Received:
    """One message a destination accepted, with the session it came in."""

    connection: int  # the destination's connections numbered from 0, in order of EHLO
    helo: str | None
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    tls_version: str | None
    sni: str | None  # the name the client asked for (Postfix sends one with smtp_tls_servername)


@dataclass
class Destination:
    """An SMTP server of the test: its address, name, and everything it received."""

    name: str
    address: str
    starttls: bool
    received: list[Received] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)  # one per connection
    hold: float = 0.0  # seconds each DATA is held before its reply (deliveries overlap)
    at_once: int = 0  # messages in DATA now
    most_at_once: int = 0  # the most there ever were: deliveries at the same time

    @property
    def connections(self) -> int:
        """Connections that said EHLO (Postfix's; not aiosmtpd's own start-up probe)."""
        return len(self.peers)

    def _connection(self, session: Session) -> int:
        # STARTTLS gives a new Session on the same connection: the peer is what stays.
        address, port = cast(tuple[str, int], session.peer)[:2]
        peer = (address, port)
        if peer not in self.peers:
            self.peers.append(peer)
        return self.peers.index(peer)


class _Recorder:
    """The aiosmtpd handler: accepts every message and records it."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        self.destination._connection(session)
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        destination = self.destination
        destination.at_once += 1
        destination.most_at_once = max(destination.most_at_once, destination.at_once)
        try:
            if destination.hold:
                await asyncio.sleep(destination.hold)
        finally:
            destination.at_once -= 1
        tls = cast(dict[str, object] | None, session.ssl)
        connection = None if tls is None else tls.get("ssl_object")
        version = connection.version() if isinstance(connection, ssl.SSLObject) else None
        self.destination.received.append(
            Received(
                connection=self.destination._connection(session),
                helo=session.host_name,
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=bytes(cast(bytes, envelope.original_content or envelope.content)),
                tls=tls is not None,
                tls_version=version,
                sni=None if connection is None else _SNI.get(connection),
            )
        )
        return "250 2.0.0 OK"


class _ListeningController(Controller):
    """A Controller on a socket already bound (so that a taken address is skipped)."""

    def __init__(self, listener: socket.socket, handler: object, **kwargs: Any) -> None:
        self.listener = listener
        address, port = listener.getsockname()[:2]
        super().__init__(handler, hostname=address, port=port, **kwargs)

    def _create_server(self) -> asyncio.Future[asyncio.AbstractServer]:
        return cast(
            "asyncio.Future[asyncio.AbstractServer]",
            self.loop.create_server(
                self._factory_invoker, sock=self.listener, ssl=self.ssl_context
            ),
        )


def _listener() -> socket.socket:
    """A listening socket on the first free 127.0.0.N port 25, N ≥ 2."""
    for number in range(FIRST_ADDRESS, 255):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((f"127.0.0.{number}", SMTP_PORT))
        except OSError as error:
            listener.close()
            if error.errno == errno.EADDRINUSE:
                continue
            raise
        listener.listen(16)
        return listener
    raise AssertionError(f"port {SMTP_PORT} is taken on every 127.0.0.N")


@contextlib.contextmanager
def destination(
    name: str, tls_context: ssl.SSLContext | None = None, *, hold: float = 0.0
) -> Iterator[Destination]:
    """An SMTP server calling itself *name* on 127.0.0.N:25, offering STARTTLS with
    *tls_context* (its SNI callback is set to record the name asked for), or not
    offering it without one. Route a domain to it with :meth:`Postfix.route`."""
    require_root()
    listener = _listener()
    server = Destination(name, listener.getsockname()[0], tls_context is not None, hold=hold)
    if tls_context is not None:
        tls_context.sni_callback = _note_sni
    controller = _ListeningController(
        listener,
        _Recorder(server),
        server_hostname=name,
        ready_timeout=10,
        tls_context=tls_context,
        require_starttls=False,
    )
    try:
        controller.start()
        yield server
    finally:
        with contextlib.suppress(AssertionError):
            controller.stop()
        listener.close()


# --- the whole ----------------------------------------------------------------------------


@contextlib.contextmanager
def running(ca_file: Path | None = None, *, start: bool = True) -> Iterator[Postfix]:
    """A Postfix instance, started (unless *start* is false), always stopped on exit and
    its scratch directory removed. It trusts *ca_file* (``smtp_tls_CAfile``).

    What the stop had to kill is left in ``instance.killed``; a process that survives
    fails the test.
    """
    root = package()
    owners = accounts()
    scratch = Path(tempfile.mkdtemp(prefix="destconfig-postfix-"))
    closed = [str(up) for up in scratch.parents if not os.stat(up).st_mode & 0o001]
    if closed:
        os.rmdir(scratch)
        unavailable(f"the mail owner cannot reach a scratch directory under {closed[0]}")
    instance: Postfix | None = None
    try:
        instance = Postfix(root, scratch, owners, ca_file=ca_file)
        if start:
            instance.start()
        yield instance
    finally:
        try:
            if instance is not None:
                instance.killed = instance.stop()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
