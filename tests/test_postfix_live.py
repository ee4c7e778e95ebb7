"""The table on a running Postfix: tables exported with ``destconfig export --format
postfix``, installed into a real instance (tests/postfix.py), and mail sent through it
to aiosmtpd servers on loopback, checked both in Postfix's log and in what each server
received.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from destconfig.formats.postfix import NEUTRAL, map_key, rate_of
from destconfig.resolve import domain_of, lookup_keys, resolve
from destconfig.store import Store
from tests.helpers import run_cli
from tests.postfix import README_RECIPE, SENDER, Destination, Postfix, destination, running
from tests.tlsservers import Pki

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def export(home: Path, changes: list[tuple[str, ...]], target: Path) -> Path:
    """A home with *changes* made by one-shot commands, exported to *target*."""
    for change in changes:
        done = run_cli(home, *change)
        assert done.status == 0, (change, done.err)
    done = run_cli(home, "export", str(target), "--format", "postfix")
    assert done.status == 0, done.err
    return target


@pytest.fixture
def plain() -> Iterator[Destination]:
    """A server that does not offer STARTTLS."""
    with destination("mx.plain.test") as server:
        yield server


@pytest.fixture
def named(pki: Pki) -> Iterator[Destination]:
    """STARTTLS with a certificate naming the test domains that route here."""
    names = ("pref.test", "no.test", "hosted.test", "verify.test", "req.test")
    with destination("mx.named.test", pki.issue(*names)) as server:
        yield server


@pytest.fixture
def elsewhere(pki: Pki) -> Iterator[Destination]:
    """STARTTLS with a certificate for another name."""
    with destination("mx.elsewhere.test", pki.issue("elsewhere.test")) as server:
        yield server


def checked_clean(mta: Postfix) -> None:
    """``postfix check`` and ``postconf -n`` print no warning."""
    check = mta.postfix_check()
    assert (check.status, check.out, check.err) == (0, "", "")
    listed = mta.postconf_n()
    assert (listed.status, listed.err) == (0, ""), listed.err


def received_by(server: Destination, recipient: str) -> list[bool]:
    """For each message *server* received for *recipient*: whether it came over TLS."""
    return [each.tls for each in server.received if recipient in each.rcpt_tos]


def test_every_tls_setting_on_postfix(
    tmp_path: Path, pki: Pki, plain: Destination, named: Destination, elsewhere: Destination
) -> None:
    table = [
        ("default", "--tls", "required"),
        ("new", "no.test", "--tls", "no"),
        ("new", "pref.test", "--tls", "preferred"),
        ("new", "pref-plain.test", "--tls", "preferred"),
        ("new", "req-plain.test", "--tls", "required"),
        ("new", "req.test", "--tls", "required"),
        ("new", "req-elsewhere.test", "--tls", "required"),
        ("new", "verify.test", "--tls", "required-verify"),
        ("new", "verify-elsewhere.test", "--tls", "required-verify"),
        ("new", "hosted.test", "--tls", "required-verify-hosted"),
        ("new", "hosted-elsewhere.test", "--tls", "required-verify-hosted"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    routes = [
        (named, ("no.test", "pref.test", "req.test", "verify.test", "hosted.test")),
        (plain, ("pref-plain.test", "req-plain.test", "other.test")),
        (elsewhere, ("req-elsewhere.test", "verify-elsewhere.test", "hosted-elsewhere.test")),
    ]
    with running(pki.ca_file, start=False) as mta:
        for server, domains in routes:
            for domain in domains:
                mta.route(domain, server)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        domains = [domain for _, each in routes for domain in each]
        sent = {domain: mta.send(SENDER, f"user@{domain}", f"to {domain}\n") for domain in domains}
        status = {domain: mta.wait(message)[0].status for domain, message in sent.items()}
        log = mta.log()
    assert status == {
        "no.test": "sent",
        "pref.test": "sent",
        "req.test": "sent",
        "verify.test": "sent",
        "hosted.test": "sent",
        "pref-plain.test": "sent",
        "req-plain.test": "deferred",  # never in clear
        "other.test": "deferred",  # the default entry's Required
        "req-elsewhere.test": "sent",  # Required does not verify
        "verify-elsewhere.test": "deferred",
        "hosted-elsewhere.test": "deferred",
    }
    assert received_by(named, "user@no.test") == [False]  # offered, and not used
    assert received_by(named, "user@pref.test") == [True]
    assert received_by(named, "user@req.test") == [True]
    assert received_by(named, "user@verify.test") == [True]
    assert received_by(named, "user@hosted.test") == [True]
    assert received_by(plain, "user@pref-plain.test") == [False]
    assert received_by(plain, "user@req-plain.test") == []
    assert received_by(plain, "user@other.test") == []
    assert received_by(elsewhere, "user@req-elsewhere.test") == [True]
    assert received_by(elsewhere, "user@verify-elsewhere.test") == []
    assert received_by(elsewhere, "user@hosted-elsewhere.test") == []
    assert "TLS is required, but was not offered by host req-plain.test" in log
    assert re.search(r"Verified TLS connection established to hosted\.test\[", log)


def test_a_pattern_governs_the_names_under_it_and_not_itself(
    tmp_path: Path, pki: Pki, plain: Destination
) -> None:
    table = [
        ("new", ".partner.test", "--tls", "required"),
        # TLS left at Default under the pattern: the default entry's No, not Required
        ("new", "b.partner.test", "--bounce-verification", "on"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with running(pki.ca_file, start=False) as mta:
        for domain in ("a.partner.test", "b.partner.test", "partner.test"):
            mta.route(domain, plain)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        under = mta.send(SENDER, "user@a.partner.test", "under the pattern\n")
        trap = mta.send(SENDER, "user@b.partner.test", "an entry at Default\n")
        itself = mta.send(SENDER, "user@partner.test", "the pattern's own name\n")
        results = [mta.wait(message)[0].status for message in (under, trap, itself)]
    assert results == ["deferred", "sent", "sent"]
    assert received_by(plain, "user@a.partner.test") == []
    assert received_by(plain, "user@b.partner.test") == [False]
    assert received_by(plain, "user@partner.test") == [False]


def test_ip_destinations(tmp_path: Path, pki: Pki, plain: Destination) -> None:
    address = plain.address
    table = [("new", f"[{address}]", "--tls", "required"), ("default", "--tls", "no")]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with running(pki.ca_file, start=False) as mta:
        mta.route(f"[{address}]", plain)
        mta.route("plain.test", plain)
        mta.start()
        mta.install(exported)
        to_address = mta.send(SENDER, f"user@[{address}]", "by address\n")
        by_name = mta.send(SENDER, "user@plain.test", "by name\n")
        [literal] = mta.wait(to_address)
        [named_delivery] = mta.wait(by_name)
    assert literal.status == "deferred"
    assert "TLS is required, but was not offered" in literal.detail
    assert named_delivery.status == "sent"
    assert received_by(plain, f"user@[{address}]") == []
    assert received_by(plain, "user@plain.test") == [False]


def test_a_concurrency_limit(tmp_path: Path, pki: Pki) -> None:
    table = [("new", "slow.test", "--concurrency", "2"), ("default", "--tls", "no")]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with destination("mx.slow.test", hold=1.0) as slow, running(pki.ca_file, start=False) as mta:
        mta.route("slow.test", slow)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        messages = [mta.send(SENDER, f"user{n}@slow.test", f"message {n}\n") for n in range(6)]
        statuses = [mta.wait(message)[0].status for message in messages]
    assert statuses == ["sent"] * 6
    assert len(slow.received) == 6
    assert slow.most_at_once == 2  # at most 2, and the limit was reached


@pytest.mark.parametrize("per_connection", [1, 2])
def test_messages_per_connection(tmp_path: Path, pki: Pki, per_connection: int) -> None:
    table = [
        (
            "new",
            "reuse.test",
            "--concurrency",
            "1",
            "--messages-per-connection",
            str(per_connection),
        ),
        ("default", "--tls", "no"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with destination("mx.reuse.test", hold=0.3) as server, running(pki.ca_file, start=False) as mta:
        mta.route("reuse.test", server)
        mta.start()
        mta.install(exported)
        messages = [mta.send(SENDER, f"user{n}@reuse.test", f"message {n}\n") for n in range(4)]
        for message in messages:
            assert mta.wait(message)[0].status == "sent"
    per = Counter(each.connection for each in server.received)
    assert sum(per.values()) == 4
    assert max(per.values()) <= per_connection
    assert server.most_at_once == 1


def test_the_examples_table_installs_without_a_warning(tmp_path: Path, pki: Pki) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "import", str(ROOT / "examples" / "destinations.cfg")).status == 0
    target = tmp_path / "postfix"
    assert run_cli(home, "export", str(target), "--format", "postfix").status == 0
    with running(pki.ca_file) as mta:
        mta.install(target)
        checked_clean(mta)
        services = mta.run("postconf", "-c", str(mta.conf), "-M").out
    assert "dc_c20_m20 unix - - n - " in re.sub(r"\s+", " ", services)


def run_recipe(mta: Postfix, home: Path) -> None:
    """The README's commands (:data:`tests.postfix.README_RECIPE`) as an administrator
    runs them, the configuration directory the instance's; they print nothing but the
    export's loss warnings."""
    script = README_RECIPE.replace("conf=/etc/postfix\n", f"conf={mta.conf}\n", 1)
    env = {
        **os.environ,
        **mta._env(),
        "PATH": f"{BIN}:{mta.bin}:/usr/sbin:/usr/bin:/sbin:/bin",
        "DESTCONFIG_HOME": str(home),
    }
    done = subprocess.run(
        ["sh", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert [
        line for line in done.stderr.splitlines() if not line.startswith("destconfig: warning: ")
    ] == []


def test_the_readme_recipe_word_for_word_delivers_as_the_table_says(
    tmp_path: Path, pki: Pki, plain: Destination, named: Destination
) -> None:
    """The recipe run, then run again after the table changed (an entry with a recipient
    limit deleted, the default entry's recipient limit removed, its messages per
    connection changed): nothing of the first run's configuration stays behind."""
    home = tmp_path / "home"
    first = (
        ("new", "req-plain.test", "--tls", "required"),
        ("new", "pref.test", "--tls", "preferred", "--concurrency", "2"),
        ("new", "rate.test", "--recipient-limit", "30", "--recipient-minutes", "1"),
        ("default", "--recipient-limit", "100", "--messages-per-connection", "1"),
    )
    second = (
        ("delete", "rate.test"),
        ("default", "--recipient-limit", "none", "--messages-per-connection", "10"),
    )
    for change in first:
        assert run_cli(home, *change).status == 0, change
    assert README_RECIPE.startswith("conf=/etc/postfix\n")
    owned = [*NEUTRAL, "default_destination_concurrency_limit"]
    with running(pki.ca_file, start=False) as mta:
        mta.route("req-plain.test", plain)
        mta.route("pref.test", named)
        mta.start()
        run_recipe(mta, home)
        mta.reload()
        checked_clean(mta)
        before = mta.postconf_n().out
        for change in second:
            assert run_cli(home, *change).status == 0, change
        run_recipe(mta, home)
        mta.reload()  # and waits for the old configuration's processes to go
        checked_clean(mta)
        after = mta.postconf_n().out
        values = mta.postconf(*owned)
        defaults = mta.run("postconf", "-c", str(mta.conf), "-d", *NEUTRAL).out
        master = (mta.conf / "master.cf").read_text()
        refused = mta.send(SENDER, "user@req-plain.test", "must be encrypted\n")
        delivered = mta.send(SENDER, "user@pref.test", "may be encrypted\n")
        assert mta.wait(refused)[0].status == "deferred"
        assert mta.wait(delivered)[0].status == "sent"
    assert "\ndc_r2per5s_destination_rate_delay = 5s\n" in before  # 30 a minute
    assert f"\ndefault_destination_rate_delay = {rate_of(100, 60)[1]}s\n" in before
    assert "\nsmtp_connection_cache_on_demand = no\n" in before
    assert re.findall(r"^dc_\S+", after, re.MULTILINE) == ["dc_c2_destination_concurrency_limit"]
    assert {name: values[name] for name in NEUTRAL} == {
        **NEUTRAL,
        "smtp_connection_reuse_count_limit": "9",
        "smtp_tls_connection_reuse": "yes",
        "smtp_address_preference": "ipv6",
    }
    # Where the table sets nothing, the value written is Postfix's own.
    assert defaults == "".join(f"{name} = {value}\n" for name, value in NEUTRAL.items())
    assert re.findall(r"^dc_\S+", master, re.MULTILINE) == ["dc_c2"]  # the first run's gone
    assert received_by(plain, "user@req-plain.test") == []
    assert received_by(named, "user@pref.test") == [True]


class SocketmapRecorder:
    """A socketmap(5) server on 127.0.0.1 that answers NOTFOUND to every lookup and
    records each (map name, key) Postfix asks, in order."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str, str]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        buffer = b""
        with connection:
            while not self._stop.is_set():
                try:
                    data = connection.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                while b":" in buffer:
                    length, _, rest = buffer.partition(b":")
                    if not length.isdigit() or len(rest) < int(length) + 1:
                        break
                    request, buffer = rest[: int(length)], rest[int(length) + 1 :]
                    name, _, key = request.decode().partition(" ")
                    self.lookups.append((name, key))
                    connection.sendall(b"9:NOTFOUND ,")

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)


def test_postfix_looks_up_the_keys_resolve_looks_up(
    tmp_path: Path, pki: Pki, plain: Destination
) -> None:
    """Parity of ``resolve`` with Postfix's own lookups: a socketmap listed first in
    smtp_tls_policy_maps records every key Postfix tries for each recipient; they are
    :func:`destconfig.resolve.lookup_keys` of its domain, as map keys (an IPv6 address
    tagged, ``[ipv6:...]``), and the entry resolve finds is the first of them the table
    has. The IPv6 entry (the loopback server's address, IPv4-mapped, so that nothing
    leaves) is routed by its transport line alone: its mail arrives only if Postfix
    found that line too."""
    home = tmp_path / "home"
    address = plain.address
    mapped = f"[::ffff:{address}]"
    table = [
        ("new", ".example.test", "--tls", "no"),
        ("new", "b.c.example.test", "--tls", "no"),
        ("new", mapped, "--tls", "no", "--concurrency", "2"),
    ]
    exported = export(home, table, tmp_path / "postfix")
    by_address = f"user@[IPv6:::ffff:{address}]"
    recipients = [
        "user@a.b.c.example.test",
        "user@B.C.Example.test",
        "user@example.test",
        "user@other.test",
        f"user@[{address}]",
        by_address,
    ]
    recorder = SocketmapRecorder()
    seen: list[list[str]] = []
    statuses = []
    try:
        with running(pki.ca_file, start=False) as mta:
            for recipient in recipients[:-1]:  # the IPv6 one: by the export's transport line
                mta.route(recipient.rpartition("@")[2].lower(), plain)
            mta.start()
            mta.install(exported)
            policy = mta.postconf("smtp_tls_policy_maps")["smtp_tls_policy_maps"]
            mta.postconf_e(
                [
                    f"smtp_tls_policy_maps = socketmap:inet:127.0.0.1:{recorder.port}:policy, "
                    f"{policy}"
                ]
            )
            mta.reload()
            for recipient in recipients:
                before = len(recorder.lookups)
                statuses.append(mta.wait(mta.send(SENDER, recipient, "which keys?\n"))[0].status)
                # As asked (a socketmap gets the case as written; hash maps fold it).
                asked = [key for name, key in recorder.lookups[before:] if name == "policy"]
                seen.append([key.lower() for key in asked])
    finally:
        recorder.close()
    entries = Store(home).load().entries  # each has a TLS setting: a line in the policy map
    for recipient, tried in zip(recipients, seen, strict=True):
        keys = lookup_keys(domain_of(recipient))
        # Postfix stops at the first key its maps have: the policy map's line for it.
        found = next((key for key in keys if key in entries), None)
        looked_up = keys if found is None else keys[: keys.index(found) + 1]
        assert tried == [map_key(key) for key in looked_up], recipient
        assert resolve(Store(home).load(), recipient).key == found, recipient
    assert seen[-1] == [f"[ipv6:::ffff:{address}]"]
    assert statuses[-1] == "sent"
    assert received_by(plain, by_address) == [False]
