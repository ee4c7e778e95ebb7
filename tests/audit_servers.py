"""Loopback servers for the audit tests: DNS (with the AD bit for a signed zone), HTTPS
policy servers, and SMTP servers on one port at several loopback addresses.

Every MX host of a test has an address of its own in 127.0.0.0/8, so that one
``--smtp-port`` reaches a different server for each; the policy servers share one
``--sts-port`` the same way. Nothing listens beyond loopback, and everything stops
when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from destconfig.model import Table
from tests.tlsservers import FOR_AT_MOST, SERVER_NAME, TRICKLE_EVERY

# --- DNS -------------------------------------------------------------------------------------


@dataclass
class Zone:
    """What the DNS server answers: records by (name, type), and how it answers some names.

    A name under one of *signed* comes with the AD bit; *silent* names get no answer
    at all, *failing* names SERVFAIL. Each query's flags are kept in *asked*.
    """

    records: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    signed: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    asked: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, name: str, kind: str, *values: str) -> None:
        self.records.setdefault((name.lower().rstrip("."), kind), []).extend(values)

    def _in(self, name: str, suffixes: set[str]) -> bool:
        return any(name == suffix or name.endswith("." + suffix) for suffix in suffixes)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        kind = dns.rdatatype.to_text(question.rdtype)
        self.asked.append((name, kind, query.flags))
        if self._in(name, self.silent):
            return None
        reply = dns.message.make_response(query)
        if self._in(name, self.failing):
            reply.set_rcode(dns.rcode.SERVFAIL)
            return reply
        values = self.records.get((name, kind))
        if values:
            reply.answer.append(dns.rrset.from_text(question.name, 300, "IN", kind, *values))
        elif not any(key[0] == name for key in self.records):
            reply.set_rcode(dns.rcode.NXDOMAIN)
        if self._in(name, self.signed):
            reply.flags |= dns.flags.AD
        else:
            reply.flags &= ~dns.flags.AD
        return reply


@contextlib.contextmanager
def dns_server(zone: Zone) -> Iterator[str]:
    """A DNS server on 127.0.0.1 (UDP, and TCP for a truncated answer) answering from
    *zone*; yields ``127.0.0.1:PORT`` for ``--dns-server``."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = udp.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                reply = zone.answer(dns.message.from_wire(data))
            except Exception:  # a query the test server cannot read: no answer
                continue
            if reply is not None:
                udp.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{udp.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        udp.close()


# --- certificates and TLSA records -----------------------------------------------------------


def der_chain(pem_chain: bytes) -> list[bytes]:
    """The certificates of a PEM chain as DER, in order."""
    return [
        certificate.public_bytes(serialization.Encoding.DER)
        for certificate in x509.load_pem_x509_certificates(pem_chain)
    ]


def tlsa_ee(der: bytes) -> str:
    """``3 1 1 HEX``: DANE-EE, the public key, SHA-256."""
    key = x509.load_der_x509_certificate(der).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"3 1 1 {hashlib.sha256(spki).hexdigest()}"


def tlsa_ta(der: bytes) -> str:
    """``2 0 1 HEX``: DANE-TA, the full certificate, SHA-256."""
    return f"2 0 1 {hashlib.sha256(der).hexdigest()}"


# --- SMTP at several addresses, one port -----------------------------------------------------


def free_port(*addresses: str) -> int:
    """A port free on each of *addresses* just now."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind((addresses[0], 0))
            port: int = first.getsockname()[1]
            try:
                for address in addresses[1:]:
                    with socket.socket() as other:
                        other.bind((address, port))
            except OSError:
                continue
        return port
    raise AssertionError("no port free on every address")


@contextlib.contextmanager
def smtp_at(address: str, port: int, tls_context: ssl.SSLContext | None) -> Iterator[None]:
    """An aiosmtpd server at *address*:*port* offering STARTTLS with *tls_context*
    (none: STARTTLS not offered)."""
    controller = Controller(
        Sink(),
        hostname=address,
        port=port,
        server_hostname=SERVER_NAME,
        ready_timeout=5,
        tls_context=tls_context,
        require_starttls=False,
    )
    controller.start()
    try:
        yield
    finally:
        controller.stop()


# --- HTTPS policy servers --------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What a policy server answers: a status, a content type and a body; *trickle*
    sends the body one byte every TRICKLE_EVERY seconds."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/plain"
    trickle: bool = False


class _Handler(http.server.BaseHTTPRequestHandler):
    replies: dict[str, Reply]
    fetched: list[str]

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").partition(":")[0].lower()
        self.fetched.append(f"{host}{self.path}")
        reply = self.replies.get(host) if self.path == "/.well-known/mta-sts.txt" else None
        if reply is None:
            reply = Reply(b"not here", status=404)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if not reply.trickle:
            self.wfile.write(reply.body)
            return
        ends = time.monotonic() + FOR_AT_MOST
        for byte in reply.body:
            if time.monotonic() > ends:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(TRICKLE_EVERY)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the tests read what was fetched from *fetched*


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on purpose (the trickle)


@contextlib.contextmanager
def policy_server(
    address: str, port: int, context: ssl.SSLContext, replies: dict[str, Reply]
) -> Iterator[list[str]]:
    """An HTTPS server at *address*:*port* answering ``/.well-known/mta-sts.txt`` for each
    host name of *replies* (by its Host header); yields the list of what was fetched."""
    fetched: list[str] = []
    handler = type("Handler", (_Handler,), {"replies": replies, "fetched": fetched})
    server = _Server((address, port), handler, bind_and_activate=False)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.server_bind()
    server.server_activate()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fetched
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def policy(mode: str = "enforce", *mx: str, max_age: int = 86400) -> bytes:
    """A well-formed policy file."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {name}" for name in mx)]
    return ("\n".join([*lines, f"max_age: {max_age}"]) + "\n").encode()


# --- a whole demonstration: table, zone, servers ---------------------------------------------

KINDS = ("verified", "plain", "lax", "dane", "testing")
"""The destinations of :func:`demo`, in turn: each meets its domain a different way."""

DEMO_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


@dataclass(frozen=True)
class Demo:
    """A table and the options that point ``destconfig audit`` at the servers of :func:`demo`."""

    table: Table
    options: list[str]


def _demo_domain(number: int) -> tuple[str, str]:
    kind = KINDS[number % len(KINDS)]
    zone = "signed.test" if kind == "dane" else f"{kind}.test"
    return kind, f"d{number:04}.{zone}"


@contextlib.contextmanager
def demo(directory: Path, count: int) -> Iterator[Demo]:
    """*count* destinations (KINDS in turn) and the servers they reach, all on loopback:

    - ``verified``: Required - Verify, a certificate for its MX, an MTA-STS enforce policy;
    - ``plain``: Required, a server that does not offer STARTTLS;
    - ``lax``: Preferred, an enforce policy that asks for more;
    - ``dane``: Preferred and DANE Opportunistic, a signed zone, a DANE-EE record;
    - ``testing``: Preferred, a policy in testing mode.
    """
    from destconfig.model import Dane, Entry, Tls
    from tests.tlsservers import Pki

    pki = Pki(directory / "pki")
    zone = Zone(signed={"signed.test"})
    verified, plain, dane_address = DEMO_ADDRESSES
    zone.add("mx.verified.test", "A", verified)
    zone.add("mx.plain.test", "A", plain)
    zone.add("mx.signed.test", "A", dane_address)
    dane_context, der = _demo_leaf("mx.signed.test")
    zone.add("_25._tcp.mx.signed.test", "TLSA", tlsa_ee(der))
    settings = {
        "verified": Entry(tls=Tls.REQUIRED_VERIFY),
        "plain": Entry(tls=Tls.REQUIRED),
        "lax": Entry(tls=Tls.PREFERRED),
        "dane": Entry(tls=Tls.PREFERRED, dane=Dane.OPPORTUNISTIC),
        "testing": Entry(tls=Tls.PREFERRED),
    }
    exchangers = {
        "verified": "mx.verified.test",
        "plain": "mx.plain.test",
        "lax": "mx.verified.test",
        "dane": "mx.signed.test",
        "testing": "mx.verified.test",
    }
    modes = {"verified": "enforce", "lax": "enforce", "testing": "testing"}
    entries = {}
    replies: dict[str, Reply] = {}
    for number in range(count):
        kind, domain = _demo_domain(number)
        entries[domain] = settings[kind]
        zone.add(domain, "MX", f"10 {exchangers[kind]}.")
        if kind in modes:
            zone.add(f"_mta-sts.{domain}", "TXT", '"v=STSv1; id=1;"')
            zone.add(f"mta-sts.{domain}", "A", "127.0.0.1")
            replies[f"mta-sts.{domain}"] = Reply(policy(modes[kind], "mx.verified.test"))
    table = Table(entries=entries)
    web = pki.issue(*replies) if replies else pki.issue("mta-sts.invalid")
    smtp_port = free_port(*DEMO_ADDRESSES)
    sts_port = free_port("127.0.0.1")
    with (
        dns_server(zone) as server,
        policy_server("127.0.0.1", sts_port, web, replies),
        smtp_at(verified, smtp_port, pki.issue("mx.verified.test", common_name="mx.verified.test")),
        smtp_at(plain, smtp_port, None),
        smtp_at(dane_address, smtp_port, dane_context),
    ):
        yield Demo(
            table,
            [
                "--dns-server",
                server,
                "--smtp-port",
                str(smtp_port),
                "--sts-port",
                str(sts_port),
                "--ca-file",
                str(pki.ca_file),
            ],
        )


def _demo_leaf(*names: str) -> tuple[ssl.SSLContext, bytes]:
    """A server context under an authority nobody trusts, and its certificate as DER."""
    import trustme

    leaf = trustme.CA().issue_cert(*names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context, der_chain(leaf.cert_chain_pems[0].bytes())[0]
