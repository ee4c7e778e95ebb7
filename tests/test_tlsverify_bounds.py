"""tlsverify's bounds against hostile mail servers on loopback: endless replies, replies
trickled a byte at a time, slow steps, a silent name server.

Every reply has a limit on its lines and bytes, every step (connect, greeting, EHLO,
STARTTLS, handshake, QUIT) a deadline for the whole step, and the probe of one host a
total limit of three steps; over a limit is a broken server, said in the usual words.
Time bounds here are generous multiples of the limit, never a measure of speed; the
endless servers run against a process whose address space is capped, so an unbounded
read ends in MemoryError instead of taking the machine's memory.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from destconfig.model import Table
from destconfig.tlsverify.check import Verdict, run_check
from destconfig.tlsverify.decision import Facts, Stage
from destconfig.tlsverify.probe import SystemNetwork, Target
from destconfig.tlsverify.report import policy_block
from tests.test_tlsverify_dns import dns_server
from tests.tlsservers import (
    GREETING,
    FakeNetwork,
    Peer,
    Pki,
    Step,
    closed_port,
    flooding,
    hostile_server,
    loopback_network,
    run_limited,
    trickling,
)

DOMAIN = "example.test"
MX = "mx1.example.test"
LIMIT = 1.0  # the time limit of each step in these tests
HOST_STEPS = 3  # the probe of one host: three step limits at most
SLACK = 5.0  # a process's start-up on a loaded machine

pytestmark = pytest.mark.usefixtures("loopback_only")


def within_bounds(seconds: float) -> bool:
    """Whether a run ended within the host's total limit, with room to spare."""
    return seconds < HOST_STEPS * LIMIT + SLACK


def check(port: int, *, pki: Pki | None = None, network: FakeNetwork | None = None) -> Verdict:
    """run_check of example.test against the server on *port*, reached as mx1.example.test."""
    seen: list[str] = []
    verdict = run_check(
        Table(),
        DOMAIN,
        Target(MX, port),
        log=seen.append,
        timeout=LIMIT,
        ca_file=None if pki is None else pki.ca_file,
        network=network if network is not None else loopback_network(MX),
    )
    assert seen == verdict.log
    return verdict


def timed_check(
    port: int, *, pki: Pki | None = None, network: FakeNetwork | None = None
) -> tuple[Verdict, float]:
    """:func:`check`, and how long it took."""
    started = time.monotonic()
    verdict = check(port, pki=pki, network=network)
    return verdict, time.monotonic() - started


def connected(port: int) -> list[str]:
    return [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connected to 127.0.0.1 from interface 127.0.0.1.",
    ]


def policy(reason: str) -> str:
    """The policy block of the default entry when nothing could be delivered."""
    return (
        "Destination controls entry: (Default) (TLS: No)\n"
        f"Delivery with this setting: not delivered: {reason}; "
        "the message stays queued for a later attempt.\n"
    )


# --- the one-shot command and the shell, in a process of their own -------------------------


def tlsverify(home: Path, port: int) -> list[str]:
    return [
        "tlsverify",
        DOMAIN,
        f"127.0.0.1:{port}",
        "--timeout",
        f"{LIMIT:g}",
        "--home",
        str(home),
    ]


@pytest.mark.slow
def test_a_trickled_greeting_is_cut_off_at_the_step_limit(tmp_path: Path) -> None:
    with hostile_server(trickling(Step.GREETING)) as port:
        run = run_limited(tlsverify(tmp_path / "home", port))
    assert run.out == (
        f"Connecting to 127.0.0.1 on port {port}.\n"
        "Connected to 127.0.0.1, but the server did not finish its greeting within 1 second.\n"
        "\n"
        + policy(
            f"the connection to 127.0.0.1 on port {port} was made, but the server did not "
            "finish its greeting within 1 second"
        )
    )
    assert (run.status, run.err) == (1, "")
    assert within_bounds(run.seconds), run.seconds


def test_an_endless_greeting_is_a_broken_server(tmp_path: Path) -> None:
    with hostile_server(flooding(Step.GREETING)) as port:
        run = run_limited(tlsverify(tmp_path / "home", port))
    broken = "the server sent a reply of more than 100 lines"
    assert run.out == (
        f"Connecting to 127.0.0.1 on port {port}.\n"
        f"Connection to 127.0.0.1 failed: {broken}.\n"
        "\n" + policy(f"the connection to 127.0.0.1 on port {port} failed ({broken})")
    )
    assert (run.status, run.err) == (1, "")  # no MemoryError under the memory cap
    assert within_bounds(run.seconds), run.seconds


def test_an_endless_ehlo_reply_is_a_broken_server(tmp_path: Path) -> None:
    with hostile_server(flooding(Step.EHLO)) as port:
        run = run_limited(tlsverify(tmp_path / "home", port))
    broken = "the server sent a reply of more than 100 lines"
    assert run.out == (
        "\n".join(connected(port)) + f"\nThe SMTP conversation failed: {broken}.\n"
        "\n" + policy(f"the SMTP conversation failed ({broken})")
    )
    assert (run.status, run.err) == (1, "")
    assert within_bounds(run.seconds), run.seconds


def test_the_shell_survives_an_endless_reply(tmp_path: Path) -> None:
    with hostile_server(flooding(Step.EHLO)) as port:
        answers = f"tlsverify\n{DOMAIN}\n127.0.0.1:{port}\nquit\n".encode()
        run = run_limited(
            ["--home", str(tmp_path / "home"), "--tls-timeout", f"{LIMIT:g}"], stdin=answers
        )
    broken = "the server sent a reply of more than 100 lines"
    assert run.out == (
        "ESA> tlsverify\n"
        "\n"
        "Enter the TLS domain to verify against:\n"
        "[]> example.test\n"
        "\n"
        "Enter the destination host to connect to. Append the port (example.com:26) if you "
        "are not connecting on port 25:\n"
        f"[example.test]> 127.0.0.1:{port}\n"
        "\n" + "\n".join(connected(port)) + f"\nThe SMTP conversation failed: {broken}.\n"
        "\n" + policy(f"the SMTP conversation failed ({broken})") + "\n"
        "ESA> quit\n"
    )
    assert (run.status, run.err) == (0, "")
    assert within_bounds(run.seconds), run.seconds


# --- each step has a deadline for the whole step -------------------------------------------

TIMED_OUT = "timed out after 1 second"


# A server that takes the connection and starts a greeting it never ends (trickled).
SILENT = "but the server did not finish its greeting within 1 second"


def step_log(step: Step, port: int) -> tuple[Stage, list[str]]:
    """The stage reached and the log when the reply at *step* never ends."""
    attempt = f"Connecting to 127.0.0.1 on port {port}."
    if step is Step.GREETING:
        return Stage.NO_CONNECTION, [attempt, f"Connected to 127.0.0.1, {SILENT}."]
    if step is Step.EHLO:
        return Stage.NO_CONNECTION, [
            *connected(port),
            f"The SMTP conversation failed: {TIMED_OUT}.",
        ]
    checking = [*connected(port), "Checking TLS connection."]
    if step is Step.STARTTLS:
        return Stage.NO_STARTTLS, [
            *checking,
            f"The server answered STARTTLS with no reply ({TIMED_OUT}).",
        ]
    return Stage.HANDSHAKE_FAILED, [*checking, f"TLS handshake failed: {TIMED_OUT}."]


@pytest.mark.slow
@pytest.mark.parametrize(
    "step", [Step.GREETING, Step.EHLO, Step.STARTTLS, Step.HANDSHAKE], ids=lambda step: step.value
)
def test_a_trickled_reply_is_cut_off_at_the_deadline_of_its_step(step: Step) -> None:
    with hostile_server(trickling(step)) as port:
        verdict, seconds = timed_check(port)
    stage, log = step_log(step, port)
    assert verdict.log == log
    assert verdict.facts.stage is stage
    assert within_bounds(seconds), seconds


@pytest.mark.slow
def test_a_trickled_reply_to_quit_is_cut_off_at_its_deadline(pki: Pki) -> None:
    context = pki.issue(DOMAIN)
    with hostile_server(trickling(Step.QUIT, context)) as port:
        verdict, seconds = timed_check(port, pki=pki)
    assert verdict.facts.stage is Stage.TLS_UP
    assert verdict.facts.chain_trusted is True
    assert verdict.log[-2:] == [
        "TLS successfully connected to mx1.example.test.",
        "TLS verification completed.",
    ]
    assert within_bounds(seconds), seconds


# --- the limits of one reply ---------------------------------------------------------------

SMALL = 64 << 20  # these floods stop by themselves long before a client's memory would

REPLY_LIMITS = {
    "lines": (b"220-mx1.example.test\r\n", "the server sent a reply of more than 100 lines"),
    "line-length": (b"220-" + b"x" * 4096, "the server sent a reply line longer than 2048 bytes"),
    "bytes": (
        b"220-" + b"x" * 2000 + b"\r\n",
        "the server sent a reply longer than 32768 bytes",
    ),
}


@pytest.mark.parametrize("limit", list(REPLY_LIMITS))
def test_a_greeting_over_a_limit_is_a_broken_server(limit: str) -> None:
    line, broken = REPLY_LIMITS[limit]
    with hostile_server(flooding(Step.GREETING, line, at_most=SMALL)) as port:
        verdict, seconds = timed_check(port)
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        f"Connection to 127.0.0.1 failed: {broken}.",
    ]
    reason = f"the connection to 127.0.0.1 on port {port} failed ({broken})"
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_CONNECTION, reason=reason)
    assert within_bounds(seconds), seconds


def test_a_line_that_is_not_an_smtp_reply() -> None:
    def handle(peer: Peer) -> None:
        peer.send(b"HTTP/1.1 400 Bad Request\r\n")
        peer.command()

    with hostile_server(handle) as port:
        verdict = check(port)
    assert verdict.log == [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connection to 127.0.0.1 failed: the server sent a line that is not an SMTP reply.",
    ]


def test_an_endless_reply_to_starttls_is_refused_starttls() -> None:
    with hostile_server(flooding(Step.STARTTLS, at_most=SMALL)) as port:
        verdict = check(port)
    reason = (
        "the server answered STARTTLS with a broken reply "
        "(the server sent a reply of more than 100 lines)"
    )
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_STARTTLS, reason=reason)
    assert verdict.log == [*connected(port), "Checking TLS connection.", f"T{reason[1:]}."]


def test_a_reply_at_the_limits_is_read(pki: Pki) -> None:
    """100 lines, one of them 2048 bytes with its CRLF: what a server may send, and it works."""
    context = pki.issue(DOMAIN)
    long_line = b"250-X-LONG " + b"x" * (2048 - 13) + b"\r\n"
    assert len(long_line) == 2048
    lines = [b"250-mx1.example.test\r\n", long_line]
    lines += [b"250-X-FILLER-%d\r\n" % number for number in range(97)] + [b"250 STARTTLS\r\n"]
    assert len(lines) == 100

    def handle(peer: Peer) -> None:
        peer.send(GREETING)
        if peer.command().startswith(b"EHLO"):
            peer.send(b"".join(lines))
        if peer.command() == b"STARTTLS":
            peer.send(b"220 Ready to start TLS\r\n")
            peer.start_tls(context)
            if peer.command() == b"QUIT":
                peer.send(b"221 bye\r\n")

    with hostile_server(handle) as port:
        verdict = check(port, pki=pki)
    assert verdict.facts.stage is Stage.TLS_UP
    assert verdict.facts.chain_trusted is True
    assert verdict.log[-2:] == [
        "TLS successfully connected to mx1.example.test.",
        "TLS verification completed.",
    ]


# --- the probe of one host has a total limit -----------------------------------------------


@pytest.mark.slow
def test_the_addresses_of_one_host_share_its_total_limit() -> None:
    """Five addresses; the third step limit ends in the fourth, and the fifth is not tried."""

    def busy(peer: Peer) -> None:
        peer.pause(LIMIT / 2)
        peer.send(b"554 5.3.2 busy\r\n")
        peer.command()

    network = FakeNetwork(hosts={MX: ["127.0.0.1"] * 5})
    with hostile_server(busy, trickling(Step.GREETING)) as port:
        verdict, seconds = timed_check(port, network=network)
    attempt = f"Connecting to 127.0.0.1 on port {port}."
    assert verdict.log == [
        attempt,
        "Connection to 127.0.0.1 failed: the server answered 554 5.3.2 busy.",
        attempt,
        f"Connected to 127.0.0.1, {SILENT}.",
        attempt,
        f"Connected to 127.0.0.1, {SILENT}.",
        attempt,
        "Connected to 127.0.0.1, but the server did not finish its greeting before the host's "
        "time limit of 3 seconds ran out.",
    ]
    reason = (
        f"the connection to 127.0.0.1 on port {port} was made, but the server did not finish "
        "its greeting before the host's time limit of 3 seconds ran out"
    )
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_CONNECTION, reason=reason)
    assert policy_block(verdict.key, verdict.setting, verdict.facts) + "\n" == policy(reason)
    assert within_bounds(seconds), seconds


# --- name lookups --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_mx_lookup_ends_within_its_limit() -> None:
    """A name server that never answers, asked by a resolver that retries quickly: its
    retries back off (up to 2 s a pause), and the lookup still ends at the limit."""
    limit = 1.6
    with dns_server("silent") as resolver:
        resolver.timeout = 0.01  # each try; the back-off between rounds grows
        seen: list[str] = []
        started = time.monotonic()
        verdict = run_check(
            Table(), DOMAIN, None, log=seen.append, timeout=limit, network=SystemNetwork(resolver)
        )
        seconds = time.monotonic() - started
    assert verdict.log == [
        "Looking up the mail exchangers of example.test.",
        "No mail exchanger: the MX lookup timed out after 1.6 seconds.",
    ]
    assert seconds < limit + 1.0, seconds


class _StuckAddresses(FakeNetwork):
    """A network whose address lookup does not come back until the test lets it."""

    def __init__(self) -> None:
        super().__init__(hosts={MX: ["127.0.0.1"]})
        self.release = threading.Event()

    def addresses(self, host: str, port: int) -> list[str]:
        self.release.wait(60)
        return super().addresses(host, port)


@pytest.mark.slow
def test_an_address_lookup_ends_within_the_step_limit() -> None:
    network = _StuckAddresses()
    try:
        verdict, seconds = timed_check(closed_port(), network=network)
    finally:
        network.release.set()
    assert verdict.log == [f"Cannot find the address of {MX}: {TIMED_OUT}."]
    assert verdict.facts == Facts(DOMAIN, MX, Stage.NO_CONNECTION, reason=f"{MX} has no address")
    assert within_bounds(seconds), seconds
