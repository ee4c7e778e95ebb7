"""``destconfig audit`` against servers on loopback: DNS (a signed zone and an unsigned one),
HTTPS policy servers and SMTP servers, every finding and the failures that lead to them.

Each MX host has an address of its own in 127.0.0.0/8, all of them on one
``--smtp-port``; the policy servers answer on ``--sts-port`` by host name.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from destconfig.model import Dane, Entry, Table, Tls
from destconfig.replay import FIXED_TIME
from destconfig.store import Store
from tests.audit_servers import (
    Reply,
    Zone,
    der_chain,
    dns_server,
    free_port,
    policy,
    policy_server,
    smtp_at,
    tlsa_ee,
    tlsa_ta,
)
from tests.helpers import Result, run_cli
from tests.tlsservers import Pki

VERIFIED, PLAIN, DANE_HOST, ANCHORED = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"
NOBODY = "127.0.0.9"  # nothing listens there

TABLE = (
    Table()
    .with_entry("verified.test", Entry(tls=Tls.REQUIRED_VERIFY))
    .with_entry("plain.test", Entry(tls=Tls.REQUIRED))
    .with_entry("lax.test", Entry(tls=Tls.PREFERRED))
    .with_entry("outside.test", Entry(tls=Tls.REQUIRED_VERIFY))
    .with_entry("testing.test", Entry(tls=Tls.PREFERRED))
    .with_entry("unparsed.test", Entry(tls=Tls.PREFERRED))
    .with_entry("dane.signed.test", Entry(tls=Tls.PREFERRED, dane=Dane.OPPORTUNISTIC))
    .with_entry("wrong.signed.test", Entry(tls=Tls.PREFERRED, dane=Dane.MANDATORY))
    .with_entry("nodane.signed.test", Entry(tls=Tls.PREFERRED))
    .with_entry("ta.signed.test", Entry(tls=Tls.REQUIRED_VERIFY, dane=Dane.MANDATORY))
    .with_entry("unsigned.test", Entry(tls=Tls.PREFERRED, dane=Dane.MANDATORY))
    .with_entry("down.test", Entry(tls=Tls.PREFERRED))
    .with_entry("quiet.test", Entry(tls=Tls.PREFERRED))
    .with_entry("trickle.test", Entry(tls=Tls.PREFERRED))
    .with_entry(".example.test", Entry(tls=Tls.REQUIRED))
    .with_entry("[127.0.0.2]", Entry(tls=Tls.PREFERRED))
)


def _leaf(ca: trustme.CA, *names: str) -> tuple[ssl.SSLContext, bytes]:
    """A server context presenting a leaf for *names*, and the leaf as DER."""
    leaf = ca.issue_cert(*names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context, der_chain(leaf.cert_chain_pems[0].bytes())[0]


@dataclass
class World:
    dns: str
    smtp_port: int
    sts_port: int
    ca_file: Path
    zone: Zone

    def audit(self, home: Path, *argv: str, timeout: str = "1") -> Result:
        return run_cli(
            home,
            "audit",
            *argv,
            "--dns-server",
            self.dns,
            "--smtp-port",
            str(self.smtp_port),
            "--sts-port",
            str(self.sts_port),
            "--ca-file",
            str(self.ca_file),
            "--timeout",
            timeout,
        )


@pytest.fixture(scope="module")
def world(pki: Pki) -> Iterator[World]:
    zone = Zone(signed={"signed.test"})
    hosts = {
        "mx.verified.test": VERIFIED,
        "mx.plain.test": PLAIN,
        "mx.signed.test": DANE_HOST,
        "mx2.signed.test": DANE_HOST,
        "mx.unsigned.test": DANE_HOST,
        "mx3.signed.test": ANCHORED,
        "mx.down.test": NOBODY,
    }
    for host, address in hosts.items():
        zone.add(host, "A", address)
    for domain, host in {
        "verified.test": "mx.verified.test",
        "plain.test": "mx.plain.test",
        "lax.test": "mx.verified.test",
        "outside.test": "mx.verified.test",
        "testing.test": "mx.verified.test",
        "unparsed.test": "mx.verified.test",
        "dane.signed.test": "mx.signed.test",
        "wrong.signed.test": "mx2.signed.test",
        "nodane.signed.test": "mx.signed.test",
        "ta.signed.test": "mx3.signed.test",
        "unsigned.test": "mx.unsigned.test",
        "down.test": "mx.down.test",
        "trickle.test": "mx.verified.test",
    }.items():
        zone.add(domain, "MX", f"10 {host}.")
    zone.silent.add("quiet.test")
    sts = {
        "verified.test": Reply(policy("enforce", "mx.verified.test")),
        "lax.test": Reply(policy("enforce", "mx.verified.test")),
        "outside.test": Reply(policy("enforce", "*.elsewhere.test")),
        "testing.test": Reply(policy("testing", "mx.verified.test")),
        "unparsed.test": Reply(b"version: STSv1\nmode: enforce\nmx mx.verified.test\n"),
        "trickle.test": Reply(policy("enforce", "mx.verified.test"), trickle=True),
    }
    for domain in sts:
        zone.add(f"_mta-sts.{domain}", "TXT", '"v=STSv1; id=2026;"')
        zone.add(f"mta-sts.{domain}", "A", "127.0.0.1")
    replies = {f"mta-sts.{domain}": reply for domain, reply in sts.items()}
    web = pki.issue(*replies)
    verified = pki.issue("mx.verified.test", common_name="mx.verified.test")
    dane, der = _leaf(trustme.CA(), "mx.signed.test")  # an authority nobody trusts
    zone.add("_25._tcp.mx.signed.test", "TLSA", tlsa_ee(der))
    zone.add("_25._tcp.mx.unsigned.test", "TLSA", tlsa_ee(der))
    _, other = _leaf(trustme.CA(), "mx2.signed.test")
    zone.add("_25._tcp.mx2.signed.test", "TLSA", tlsa_ee(other))
    # DANE-TA: an intermediate the server sends, under an authority nobody trusts.
    intermediate = trustme.CA().create_child_ca()
    anchored, _ = _leaf(intermediate, "mx3.signed.test")
    zone.add(
        "_25._tcp.mx3.signed.test", "TLSA", tlsa_ta(der_chain(intermediate.cert_pem.bytes())[0])
    )
    smtp_port = free_port(VERIFIED, PLAIN, DANE_HOST, ANCHORED)
    sts_port = free_port("127.0.0.1")
    with (
        dns_server(zone) as server,
        policy_server("127.0.0.1", sts_port, web, replies),
        smtp_at(VERIFIED, smtp_port, verified),
        smtp_at(PLAIN, smtp_port, None),
        smtp_at(DANE_HOST, smtp_port, dane),
        smtp_at(ANCHORED, smtp_port, anchored),
    ):
        yield World(server, smtp_port, sts_port, pki.ca_file, zone)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    found = tmp_path / "home"
    store = Store(found)
    store.prepare()
    store.commit(TABLE, comment="", when=FIXED_TIME, keep_rollback=False)
    return found


pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.fixture(scope="module")
def everything(world: World, tmp_path_factory: pytest.TempPathFactory) -> Result:
    """One audit of the whole table, as JSON (the servers answer the same each time)."""
    found = tmp_path_factory.mktemp("all") / "home"
    store = Store(found)
    store.prepare()
    store.commit(TABLE, comment="", when=FIXED_TIME, keep_rollback=False)
    return world.audit(found, "--format", "json", "--jobs", "4")


def _entries(result: Result) -> dict[str, dict[str, object]]:
    return {entry["destination"]: entry for entry in json.loads(result.out)["entries"]}


EXPECTED = {
    ".example.test": "cannot-tell",
    "[127.0.0.2]": "matches",
    "dane.signed.test": "matches",
    "down.test": "cannot-tell",
    "lax.test": "weaker-than-published",
    "nodane.signed.test": "weaker-than-published",
    "outside.test": "weaker-than-published",
    "plain.test": "will-queue",
    "quiet.test": "cannot-tell",
    "ta.signed.test": "matches",
    "testing.test": "matches",
    "trickle.test": "cannot-tell",
    "unparsed.test": "matches",
    "unsigned.test": "will-queue",
    "verified.test": "matches",
    "wrong.signed.test": "will-queue",
}


def test_every_entry_gets_its_finding(everything: Result) -> None:
    assert everything.status == 1, everything.err
    found = _entries(everything)
    assert list(found) == sorted(EXPECTED)  # LIST order
    assert {name: entry["finding"] for name, entry in found.items()} == EXPECTED
    assert json.loads(everything.out)["summary"] == {
        "will-queue": 3,
        "weaker-than-published": 3,
        "matches": 6,
        "cannot-tell": 4,
    }
    for entry in found.values():
        assert entry["finding"] == "matches" or entry["reasons"]


def test_the_json_shape_of_a_verified_entry(everything: Result) -> None:
    assert _entries(everything)["verified.test"] == {
        "destination": "verified.test",
        "finding": "matches",
        "reasons": ["TLS: encrypted, certificate verified."],
        "tls": "REQUIRED_VERIFY",
        "dane": "NO",
        "mx": ["mx.verified.test"],
        "mta_sts": {"mode": "enforce", "mx": ["mx.verified.test"], "max_age": 86400},
        "tlsa": False,
    }


def test_dane_entries(everything: Result) -> None:
    found = _entries(everything)
    assert found["dane.signed.test"]["tlsa"] is True
    assert found["dane.signed.test"]["reasons"] == ["DANE: the certificate matches a TLSA record"]
    assert found["wrong.signed.test"]["reasons"] == [
        "DANE: _25._tcp.mx2.signed.test: the certificate matches none of the TLSA records "
        "(3 1 1 (DANE-EE, public key, SHA-256))"
    ]
    # A trust anchor the server sends above its own certificate; PKIX would not verify it.
    assert found["ta.signed.test"]["reasons"] == ["DANE: the certificate matches a TLSA record"]
    assert found["unsigned.test"]["tlsa"] is False
    assert found["unsigned.test"]["reasons"] == [
        "DANE is Mandatory and _25._tcp.mx.unsigned.test has no usable TLSA records",
        "the TLSA records at _25._tcp.mx.unsigned.test are not used: the TLSA answer is not "
        "authenticated",
    ]
    assert found["nodane.signed.test"]["reasons"] == [
        "_25._tcp.mx.signed.test publishes usable TLSA records, authenticated, and the "
        "entry's DANE is No"
    ]


def test_mta_sts_entries(everything: Result) -> None:
    found = _entries(everything)
    assert found["outside.test"]["reasons"] == [
        "MTA-STS enforce: the mail exchanger mx.verified.test matches none of the policy's "
        "mx patterns (*.elsewhere.test), and the entry delivers to it"
    ]
    assert found["lax.test"]["reasons"] == [
        "MTA-STS enforce asks for a verified certificate; under TLS Preferred delivery is "
        "encrypted, certificate not checked."
    ]
    assert found["testing.test"]["mta_sts"] == {
        "mode": "testing",
        "mx": ["mx.verified.test"],
        "max_age": 86400,
    }
    assert found["unparsed.test"]["mta_sts"] is None
    assert found["unparsed.test"]["reasons"][-1] == (
        "the MTA-STS policy does not parse: line 3 is not a field (name: value)"
    )


def test_what_cannot_be_told(everything: Result, world: World) -> None:
    found = _entries(everything)
    assert found[".example.test"]["reasons"] == [
        "a pattern names no one domain: there is no server to probe"
    ]
    assert found[".example.test"]["mx"] == []
    assert found["quiet.test"]["reasons"] == [
        "no server answered: the MX lookup timed out after 1 second"
    ]
    assert found["down.test"]["mx"] == ["mx.down.test"]
    assert found["down.test"]["reasons"] == [
        f"no server answered: the connection to {NOBODY} on port {world.smtp_port} failed "
        "(connection refused)"
    ]
    assert found["trickle.test"]["reasons"] == [
        "the MTA-STS policy cannot be fetched: fetching the policy from mta-sts.trickle.test "
        "timed out after 1 second"
    ]


def test_every_query_asks_for_the_ad_bit(everything: Result, world: World) -> None:
    import dns.flags

    assert world.zone.asked
    assert all(flags & dns.flags.AD for _, _, flags in world.zone.asked)


def test_tlsa_is_asked_at_port_25_whatever_the_smtp_port(everything: Result, world: World) -> None:
    asked = {name for name, kind, _ in world.zone.asked if kind == "TLSA"}
    assert "_25._tcp.mx.signed.test" in asked
    assert all(name.startswith("_25._tcp.") for name in asked)


# --- destinations named, text, exit status ---------------------------------------------------


def test_a_dest_is_judged_under_its_governing_entry(world: World, home: Path) -> None:
    done = world.audit(home, "user@verified.test", "--format", "json")
    assert done.status == 0, done.err
    entry = json.loads(done.out)["entries"][0]
    assert entry["destination"] == "user@verified.test"
    assert entry["tls"] == "REQUIRED_VERIFY"
    assert entry["finding"] == "matches"


def test_a_dest_under_a_pattern_takes_the_patterns_settings(world: World, home: Path) -> None:
    done = world.audit(home, "mail.example.test", "--format", "json")
    entry = json.loads(done.out)["entries"][0]
    assert entry["tls"] == "REQUIRED"
    assert entry["finding"] == "cannot-tell"  # no such domain in the zone
    assert done.status == 0


def test_the_plain_text_report(world: World, home: Path) -> None:
    done = world.audit(home, "verified.test", "plain.test")
    assert done.status == 1
    assert done.err == ""
    assert done.out == (
        "verified.test: matches (entry verified.test; TLS: Required - Verify; DANE: No)\n"
        "  Mail exchangers tried: mx.verified.test\n"
        "  MTA-STS: enforce, mx mx.verified.test, max_age 86400\n"
        "  - TLS: encrypted, certificate verified.\n"
        "\n"
        "plain.test: will-queue (entry plain.test; TLS: Required; DANE: No)\n"
        "  Mail exchangers tried: mx.plain.test\n"
        "  - TLS: not delivered: the server does not offer STARTTLS; the message stays "
        "queued for a later attempt.\n"
        "\n"
        "Summary: 1 will-queue, 0 weaker-than-published, 1 matches, 0 cannot-tell.\n"
    )


def test_nothing_to_audit(world: World, tmp_path: Path) -> None:
    done = world.audit(tmp_path / "empty")
    assert (done.status, done.out) == (
        0,
        "Summary: 0 will-queue, 0 weaker-than-published, 0 matches, 0 cannot-tell.\n",
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--jobs", "0"], "argument --jobs: a number of probes from 1 to 256"),
        (["--sts-port", "70000"], "argument --sts-port: a port number from 1 to 65535"),
        (["--dns-server", "name:53"], "argument --dns-server: an address and a port"),
        (["--timeout", "0"], "argument --timeout: a number of seconds above 0"),
        (["--format", "xml"], "argument --format: invalid choice"),
    ],
)
def test_usage_errors(tmp_path: Path, argv: list[str], says: str) -> None:
    done = run_cli(tmp_path / "home", "audit", *argv)
    assert done.status == 2
    assert says in done.err


def test_an_invalid_dest_is_a_usage_error(world: World, home: Path) -> None:
    done = world.audit(home, "a@b@c.test")
    assert (done.status, done.out) == (2, "")
    assert done.err == (
        'destconfig: Invalid recipient "a@b@c.test". Enter an address (user@example.com) '
        "or a domain (example.com).\n"
    )


def test_the_jobs_run_side_by_side(world: World, home: Path) -> None:
    # Four silent MX lookups of 1 second each: one at a time 4 s, four at a time 1 s.
    started = time.monotonic()
    done = world.audit(home, *(["quiet.test"] * 4), "--jobs", "4")
    assert time.monotonic() - started < 2.5
    assert done.out.count("cannot-tell (") == 4


def test_at_a_terminal_a_table_and_a_progress_bar(world: World, home: Path) -> None:
    import io

    from destconfig.cli import main
    from destconfig.env import Environment

    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.BytesIO(),
        stdout=out,
        stderr=err,
        stdout_isatty=True,
        stderr_isatty=True,
        columns=160,
        clock=lambda: FIXED_TIME,
    )
    argv = ["--home", str(home), "audit", "verified.test", "plain.test", "--timeout", "1"]
    argv += ["--dns-server", world.dns, "--smtp-port", str(world.smtp_port)]
    argv += ["--sts-port", str(world.sts_port), "--ca-file", str(world.ca_file)]
    assert main(argv, env) == 1
    drawn = out.getvalue()
    assert "\x1b[" in drawn  # coloured
    head = drawn.splitlines()[0]
    assert all(title in head for title in ("Destination", "Finding", "TLS", "DANE", "Reasons"))
    assert "will-queue" in drawn and "matches" in drawn
    assert drawn.endswith(
        "Summary: 1 will-queue, 0 weaker-than-published, 1 matches, 0 cannot-tell.\n"
    )
    assert "Auditing 2 destinations" in err.getvalue()  # the bar, drawn and then erased


def test_the_progress_title_of_one_destination(world: World, home: Path) -> None:
    import io

    from destconfig.cli import main
    from destconfig.env import Environment

    err = io.StringIO()
    env = Environment(
        stdin=io.BytesIO(),
        stdout=io.StringIO(),
        stderr=err,
        stdout_isatty=True,
        stderr_isatty=True,
        columns=160,
        clock=lambda: FIXED_TIME,
    )
    argv = ["--home", str(home), "audit", "plain.test", "--timeout", "1"]
    argv += ["--dns-server", world.dns, "--smtp-port", str(world.smtp_port)]
    argv += ["--sts-port", str(world.sts_port), "--ca-file", str(world.ca_file)]
    main(argv, env)
    drawn = err.getvalue()
    assert "Auditing 1 destination" in drawn
    assert "Auditing 1 destinations" not in drawn


def test_a_dns_server_with_nothing_listening_is_said_at_once(home: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]  # free again once closed: nothing listens there
    started = time.monotonic()
    argv = ["plain.test", "--format", "json", "--timeout", "5"]
    done = run_cli(home, "audit", *argv, "--dns-server", f"127.0.0.1:{port}")
    assert time.monotonic() - started < 3  # not the 5 seconds of a silent server
    assert done.status == 0
    assert _entries(done)["plain.test"]["finding"] == "cannot-tell"
    assert _entries(done)["plain.test"]["reasons"] == [
        f"no server answered: the MX lookup failed: the DNS server 127.0.0.1 port {port} "
        "refused the query (nothing listens there)"
    ]


def test_a_silent_address_lookup_of_an_mx_is_cannot_tell(world: World, home: Path) -> None:
    """The MX answers, its host's A and AAAA lookups go unanswered: a reason, no traceback."""
    world.zone.add("lost.test", "MX", "10 mx.quiet.test.")
    done = world.audit(home, "user@lost.test", "--format", "json")
    assert "Traceback" not in done.err
    assert done.status == 0, done.err  # cannot-tell alone is no failure
    entry = json.loads(done.out)["entries"][0]
    assert entry["finding"] == "cannot-tell"
    assert entry["mx"] == ["mx.quiet.test"]
    # As tlsverify words a host it cannot find an address for, whatever the cause.
    assert entry["reasons"] == ["no server answered: mx.quiet.test has no address"]
