"""The real-Postfix harness itself: routing, nothing leaving, a clean check, a clean stop,
and an exported directory installed as an administrator would.

Each test runs its own instance of Debian's Postfix (tests/postfix.py), with aiosmtpd
servers on 127.0.0.N:25 as the destinations.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postfix import NOWHERE, SENDER, Destination, alive, destination, running
from tests.tlsservers import Pki

pytestmark = pytest.mark.slow


@pytest.fixture
def secure(pki: Pki) -> Iterator[Destination]:
    """A server offering STARTTLS with a certificate for its domain."""
    with destination("mx.secure.test", pki.issue("secure.test")) as server:
        yield server


@pytest.fixture
def plain() -> Iterator[Destination]:
    """A server without STARTTLS."""
    with destination("mx.plain.test") as server:
        yield server


@pytest.fixture
def elsewhere(pki: Pki) -> Iterator[Destination]:
    """A server offering STARTTLS with a certificate for another name."""
    with destination("mx.wrong.test", pki.issue("elsewhere.test")) as server:
        yield server


def test_a_routed_domain_reaches_its_server_over_tls_when_offered(
    secure: Destination, plain: Destination, pki: Pki
) -> None:
    with running(pki.ca_file, start=False) as mta:
        mta.route("secure.test", secure)
        mta.route("plain.test", plain)
        mta.postconf_e(["smtp_tls_servername = nexthop"])  # so that an SNI is sent
        mta.start()
        to_secure = mta.send(SENDER, "someone@secure.test", "over TLS\n")
        to_plain = mta.send(SENDER, "someone@plain.test", "in clear\n")
        [over_tls] = mta.wait(to_secure)
        [in_clear] = mta.wait(to_plain)
        log = mta.log()
    assert secure.address != plain.address
    assert (over_tls.status, over_tls.relay) == ("sent", f"secure.test[{secure.address}]:25")
    assert (in_clear.status, in_clear.relay) == ("sent", f"plain.test[{plain.address}]:25")
    [received] = secure.received
    assert (received.mail_from, received.rcpt_tos) == (SENDER, ("someone@secure.test",))
    assert (received.tls, received.tls_version, received.sni) == (True, "TLSv1.3", "secure.test")
    assert f"\r\nMessage-ID: <{to_secure.message_id}>\r\n".encode() in received.content
    assert received.content.endswith(b"\r\n\r\nover TLS\r\n")
    [clear] = plain.received
    assert (clear.rcpt_tos, clear.tls, clear.sni) == (("someone@plain.test",), False, None)
    assert f"Trusted TLS connection established to secure.test[{secure.address}]:25" in log


def test_an_unrouted_domain_goes_to_the_error_transport(secure: Destination, pki: Pki) -> None:
    with running(pki.ca_file, start=False) as mta:
        mta.route("secure.test", secure)
        mta.start()
        message = mta.send(SENDER, "someone@unrouted.test", "nowhere\n")
        [delivery] = mta.wait(message)
        mta.wait_until_empty()  # the bounce to the sender goes the same way
    assert (delivery.program, delivery.relay, delivery.status) == (
        "postfix/error",
        "none",
        "bounced",
    )
    assert (delivery.dsn, delivery.detail) == tuple(NOWHERE.split(" ", 1))
    assert secure.connections == 0


def test_postfix_check_and_postconf_print_nothing_after_setup(pki: Pki) -> None:
    with running(pki.ca_file) as mta:
        checked = mta.postfix_check()
        listed = mta.postconf_n()
        # what they print when something is wrong, so that the silence above means it
        os.chmod(mta.conf, 0o775)
        warned = mta.postfix_check()
        os.chmod(mta.conf, 0o755)
        mta.postconf_e(["no_such_parameter = 1"])
        unused = mta.postconf_n()
    assert (checked.status, checked.out, checked.err) == (0, "", "")
    assert (listed.status, listed.err) == (0, "")
    assert f"default_transport = error:{NOWHERE}\n" in listed.out
    assert "inet_interfaces = loopback-only\n" in listed.out
    assert f"warning: group or other writable: {mta.conf}/.\n" in warned.err
    assert "warning: " in unused.err and "unused parameter: no_such_parameter=1" in unused.err


def test_after_stop_nothing_of_postfix_remains_and_the_hosts_file_is_untouched(
    secure: Destination, pki: Pki
) -> None:
    hosts = Path("/etc/hosts")
    before = (hosts.read_bytes(), hosts.stat().st_ino, hosts.stat().st_mtime_ns)
    with running(pki.ca_file, start=False) as mta:
        mta.route("secure.test", secure)
        mta.start()
        master = mta.master_pid
        assert master is not None
        seen_by_postfix = Path(f"/proc/{master}/root/etc/hosts").read_text()
        mta.wait(mta.send(SENDER, "someone@secure.test", "before the reload\n"))
        mta.reload()
        mta.wait(mta.send(SENDER, "someone@secure.test", "after the reload\n"))
        seen = mta.processes()
        listening = mta.inet_listeners()
    assert f"\n{secure.address} secure.test\n" in seen_by_postfix
    assert master in seen and len(seen) >= 4  # master, pickup, qmgr, smtp...
    assert listening == []  # no smtpd, nothing at all on the network
    assert mta.killed == []
    assert mta.processes() == []
    assert [pid for pid in seen if alive(pid)] == []
    assert not mta.scratch.exists()
    assert (hosts.read_bytes(), hosts.stat().st_ino, hosts.stat().st_mtime_ns) == before
    assert len(secure.received) == 2


def test_an_exported_directory_installed_through_the_harness_is_obeyed(
    secure: Destination, plain: Destination, elsewhere: Destination, pki: Pki, tmp_path: Path
) -> None:
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "tls_policy").write_text(
        "plain.test encrypt\nsecure.test verify\nwrong.test verify\n"
    )
    (exported / "transport").write_text("secure.test dc_clone:\n")
    (exported / "main.cf").write_text(
        "# the table\n"
        f"smtp_tls_policy_maps = hash:{exported}/tls_policy\n"
        f"transport_maps = hash:{exported}/transport\n"
    )
    (exported / "master.cf").write_text(
        "dc_clone  unix  -       -       n       -       -       smtp\n"
        "  -o syslog_name=postfix/dc_clone\n"
    )
    with running(pki.ca_file, start=False) as mta:
        mta.route("secure.test", secure)
        mta.route("plain.test", plain)
        mta.route("wrong.test", elsewhere)
        mta.start()
        mta.install(exported)
        checked = mta.postfix_check()
        to_plain = mta.send(SENDER, "someone@plain.test", "must be encrypted\n")
        to_wrong = mta.send(SENDER, "someone@wrong.test", "must be verified\n")
        to_secure = mta.send(SENDER, "someone@secure.test", "verified\n")
        [refused] = mta.wait(to_plain)
        [unverified] = mta.wait(to_wrong)
        [verified] = mta.wait(to_secure)
        attempts = len(mta.deliveries(to_plain))
        mta.flush()
        [again] = mta.wait(to_plain, after=attempts)
        queued = {entry["queue_id"]: entry["queue_name"] for entry in mta.queue_listing()}
        log = mta.log()
    assert sorted(path.name for path in exported.iterdir()) == [
        "main.cf",
        "master.cf",
        "tls_policy",
        "tls_policy.db",
        "transport",
        "transport.db",
    ]
    assert (checked.status, checked.out, checked.err) == (0, "", "")
    assert (refused.status, refused.detail) == (
        "deferred",
        f"TLS is required, but was not offered by host plain.test[{plain.address}]",
    )
    assert (again.status, again.detail, attempts) == ("deferred", refused.detail, 1)
    assert (plain.connections, plain.received) == (2, [])  # the first attempt, the flush's
    assert unverified.status == "deferred"
    assert unverified.detail.startswith("Server certificate not verified")
    assert (elsewhere.connections, elsewhere.received) == (2, [])
    assert (verified.status, verified.program) == ("sent", "postfix/dc_clone/smtp")
    assert f"Verified TLS connection established to secure.test[{secure.address}]:25" in log
    assert queued == {refused.queue_id: "deferred", unverified.queue_id: "deferred"}
