"""Loopback SMTP servers and certificates for the tlsverify tests.

Everything here listens on 127.0.0.1 only and trusts a throwaway authority made
by trustme: no test reaches a real name server or mail server. Names such as
``mx1.example.test`` reach the servers through :class:`FakeNetwork`, which the
probe takes in place of DNS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import os
import selectors
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import cast

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from destconfig.tlsverify.probe import LookupFailed

LOOPBACK = "127.0.0.1"
SERVER_NAME = "mx1.example.test"  # what the loopback servers call themselves
NOW = dt.datetime.now(dt.UTC)


# --- names ---------------------------------------------------------------------------------


@dataclass
class FakeNetwork:
    """The probe's ``Network``, answered from dictionaries instead of DNS.

    *exchangers* maps a domain to its MX hosts (a domain not in it has none);
    *hosts* maps a host name to its addresses (a name not in it has none).
    With *lookup_failure* set, every MX lookup fails with that reason.
    Each call is recorded, so a test can tell which names were looked up.
    """

    hosts: dict[str, list[str]] = field(default_factory=dict)
    exchangers: dict[str, list[str]] = field(default_factory=dict)
    lookup_failure: str | None = None
    mx_lookups: list[str] = field(default_factory=list)
    address_lookups: list[tuple[str, int]] = field(default_factory=list)

    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        self.mx_lookups.append(domain)
        if self.lookup_failure is not None:
            raise LookupFailed(self.lookup_failure)
        return list(self.exchangers.get(domain, []))

    def addresses(self, host: str, port: int) -> list[str]:
        self.address_lookups.append((host, port))
        if host not in self.hosts:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.hosts[host])


def loopback_network(*names: str) -> FakeNetwork:
    """A network where each of *names* is 127.0.0.1."""
    return FakeNetwork(hosts={name: [LOOPBACK] for name in names})


# --- certificates --------------------------------------------------------------------------


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _server_context(chain_pem: bytes, key_pem: bytes, directory: Path) -> ssl.SSLContext:
    """A server context presenting *chain_pem*, TLS 1.3 only (a fixed protocol in the log)."""
    directory.mkdir(parents=True, exist_ok=True)
    number = len(list(directory.iterdir()))
    path = directory / f"server-{number}.pem"
    path.write_bytes(key_pem + chain_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(str(path))
    return context


class Pki:
    """A throwaway certificate authority and the server certificates it signs.

    Server key files go under *directory*; :attr:`ca_file` is the authority's
    certificate as PEM, what the probe is given as ``ca_file``.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca = trustme.CA()
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def issue(
        self,
        *dns_names: str,
        common_name: str | None = None,
        expired: bool = False,
    ) -> ssl.SSLContext:
        """A server context with a trustme leaf (SAN *dns_names*, always marked critical)."""
        before, after = (
            (NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=1)) if expired else (None, None)
        )
        leaf = self.ca.issue_cert(
            *dns_names, common_name=common_name, not_before=before, not_after=after
        )
        chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        return _server_context(chain, leaf.private_key_pem.bytes(), self.directory)

    def build(
        self,
        *,
        common_name: str | None,
        dns_names: Sequence[str] | None,
        self_signed: bool = False,
    ) -> ssl.SSLContext:
        """A server context with a leaf built field by field.

        ``dns_names=None`` leaves the subjectAltName extension out altogether, which
        trustme cannot do (it always adds one, empty when no name is given).
        *self_signed* signs the leaf with its own key, its issuer its own subject.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = (
            [] if common_name is None else [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        )
        subject = x509.Name(attributes)
        if self_signed:
            issuer_key: ec.EllipticCurvePrivateKey = key
            issuer = subject
        else:
            loaded = serialization.load_pem_private_key(self.ca.private_key_pem.bytes(), None)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            issuer_key = loaded
            issuer = x509.load_pem_x509_certificate(self.ca.cert_pem.bytes()).subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        if dns_names is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
                critical=False,
            )
        certificate = builder.sign(issuer_key, hashes.SHA256())
        chain = certificate.public_bytes(serialization.Encoding.PEM)
        return _server_context(chain, _pem_key(key), self.directory)


# --- aiosmtpd servers ----------------------------------------------------------------------


def quiet_aiosmtpd() -> contextlib.AbstractContextManager[None]:
    """Silence aiosmtpd's traceback for each handshake the probe aborts on purpose."""
    return _quiet(logging.getLogger("mail.log"))


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps each command it sees and whether it came over TLS.

    It accepts nothing: MAIL, RCPT and DATA are refused (the probe must never send them).
    """

    commands: list[tuple[str, bool]] = field(default_factory=list)

    def _note(self, command: str, session: Session) -> None:
        self.commands.append((command, session.ssl is not None))

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self._note(f"EHLO {hostname}", session)
        return responses

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._note("QUIT", session)
        return "221 Bye"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, *_: object
    ) -> str:
        self._note("MAIL", session)
        return "550 5.7.1 not here"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, *_: object
    ) -> str:
        self._note("RCPT", session)
        return "550 5.7.1 not here"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._note("DATA", session)
        return "554 5.7.1 not here"


class EphemeralController(Controller):
    """A Controller on a port the system picks.

    ``start()`` connects to ``self.port`` to make aiosmtpd build its SMTP
    instance, so with port 0 the bound port must be read back first.
    """

    def _trigger_server(self) -> None:
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class Refuse454(SMTP):
    """Advertises STARTTLS (a TLS context is set) and answers it with 454."""

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        await self.push("454 4.7.0 TLS not available")


class Refuse454Controller(EphemeralController):
    def factory(self) -> SMTP:
        return Refuse454(self.handler, **self.SMTP_kwargs)


@contextlib.contextmanager
def smtp_server(
    tls_context: ssl.SSLContext | None,
    *,
    refuse_starttls: bool = False,
    handler: object | None = None,
) -> Iterator[int]:
    """An aiosmtpd server on 127.0.0.1 offering STARTTLS with *tls_context*; yields its port.

    Without a context, STARTTLS is not offered; with *refuse_starttls* it is
    offered and answered with 454. *handler* is aiosmtpd's (a sink by default).
    """
    kind = Refuse454Controller if refuse_starttls else EphemeralController
    controller = kind(
        Sink() if handler is None else handler,
        hostname=LOOPBACK,
        port=0,
        server_hostname=SERVER_NAME,
        ready_timeout=5,
        tls_context=tls_context,  # None: STARTTLS is not offered
        require_starttls=False,
    )
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


# --- scripted servers for broken behaviours ------------------------------------------------


class Script(Enum):
    """What a scripted server does with one connection."""

    FIN_AFTER_220 = "FIN after the 220 reply to STARTTLS"  # reads the ClientHello, closes
    RST_AFTER_220 = "RST after the 220 reply to STARTTLS"
    GARBAGE_AFTER_220 = "plain text after the 220 reply to STARTTLS"
    SILENT_AFTER_220 = "nothing after the 220 reply to STARTTLS"
    CLOSE_ON_STARTTLS = "closes on STARTTLS without a reply"
    GREETING_554 = "greets with 554"
    SILENT_GREETING = "never greets"
    TLS = "a real handshake with the server's TLS context"


GREETING = b"220 mx1.example.test ESMTP scripted\r\n"
EHLO_REPLY = b"250-mx1.example.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n"


def _serve(
    connection: socket.socket,
    script: Script,
    stop: threading.Event,
    tls_context: ssl.SSLContext | None,
) -> None:
    connection.settimeout(5)
    lines = connection.makefile("rb")
    try:
        if script is Script.SILENT_GREETING:
            stop.wait(5)
            return
        if script is Script.GREETING_554:
            connection.sendall(b"554 5.7.1 no service here\r\n")
            lines.readline()
            return
        connection.sendall(GREETING)
        while not stop.is_set():
            command = lines.readline().strip().upper()
            if not command:
                return
            if command.startswith(b"EHLO"):
                connection.sendall(EHLO_REPLY)
            elif command == b"QUIT":
                connection.sendall(b"221 bye\r\n")
                return
            elif command == b"STARTTLS":
                if script is Script.CLOSE_ON_STARTTLS:
                    return
                connection.sendall(b"220 Ready to start TLS\r\n")
                _after_220(connection, script, stop, tls_context)
                return
            else:
                connection.sendall(b"502 5.5.2 not here\r\n")
    except OSError:
        pass
    finally:
        lines.close()
        connection.close()


def _after_220(
    connection: socket.socket,
    script: Script,
    stop: threading.Event,
    tls_context: ssl.SSLContext | None,
) -> None:
    if script is Script.SILENT_AFTER_220:
        stop.wait(5)
        return
    if script is Script.TLS:
        assert tls_context is not None
        with tls_context.wrap_socket(connection, server_side=True) as wrapped:
            wrapped.recv(1024)  # the client's QUIT, or its close
        return
    connection.recv(65536)  # the ClientHello
    if script is Script.RST_AFTER_220:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif script is Script.GARBAGE_AFTER_220:
        connection.sendall(b"this is not TLS\r\n" * 8)
        stop.wait(0.5)


@contextlib.contextmanager
def scripted_server(*scripts: Script, tls_context: ssl.SSLContext | None = None) -> Iterator[int]:
    """A hand-written SMTP server on 127.0.0.1; yields its port.

    The n-th connection follows ``scripts[n]`` (the last script for any further
    connection).
    """

    def serve(connection: socket.socket, number: int, stop: threading.Event) -> None:
        script = scripts[min(number, len(scripts) - 1)]
        _serve(connection, script, stop, tls_context)

    with _listening(serve) as port:
        yield port


@contextlib.contextmanager
def _listening(serve: Callable[[socket.socket, int, threading.Event], None]) -> Iterator[int]:
    """A listener on 127.0.0.1 handing its n-th connection to ``serve(connection, n, stop)``
    on a thread of its own; yields the port. On exit *stop* is set and every thread joined."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(8)
    listener.setblocking(False)
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def accept() -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not stop.is_set():
                if not selector.select(timeout=0.02):
                    continue
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                connection.setblocking(True)
                worker = threading.Thread(
                    target=serve, args=(connection, len(workers), stop), daemon=True
                )
                worker.start()
                workers.append(worker)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(5)
        for worker in workers:
            worker.join(5)
        listener.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
    return port


# --- hostile servers: endless, trickling and slow replies ----------------------------------

FOR_AT_MOST = 15.0
"""How long a hostile server keeps at it when its client never gives up: a client
without a bound then fails its test after this long instead of hanging it."""

TRICKLE_EVERY = 0.1  # seconds between the bytes of a trickled reply


class Step(Enum):
    """The step of the conversation a hostile server misbehaves at."""

    GREETING = "greeting"
    EHLO = "EHLO"
    STARTTLS = "STARTTLS"
    HANDSHAKE = "handshake"
    QUIT = "QUIT"


class Peer:
    """The server side of one connection of a :func:`hostile_server`."""

    def __init__(self, connection: socket.socket, stop: threading.Event) -> None:
        self.connection = connection
        self.stop = stop
        self.ends = time.monotonic() + FOR_AT_MOST
        self._buffer = b""
        connection.settimeout(1)

    def going(self) -> bool:
        """Whether to keep at it: the test is not over and FOR_AT_MOST has not passed."""
        return not self.stop.is_set() and time.monotonic() < self.ends

    def command(self) -> bytes:
        """The client's next line, stripped and upper-cased; ``b""`` when it has gone."""
        while b"\n" not in self._buffer:
            try:
                data = self.connection.recv(4096)
            except TimeoutError:
                if not self.going():
                    return b""
                continue
            if not data:
                return b""
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.strip().upper()

    def send(self, data: bytes) -> None:
        self.connection.sendall(data)

    def pause(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def start_tls(self, context: ssl.SSLContext) -> None:
        """The server's side of the handshake; what follows goes over TLS."""
        self.connection = context.wrap_socket(self.connection, server_side=True)
        self._buffer = b""

    def flood(self, line: bytes, *, at_most: int) -> None:
        """*line* over and over, as fast as the client reads, up to *at_most* bytes."""
        chunk = line * max(1, 65536 // len(line))
        sent = 0
        while self.going() and sent < at_most:
            try:
                self.connection.sendall(chunk)
            except TimeoutError:
                continue  # the client is not reading: see whether the test is over
            sent += len(chunk)

    def trickle(self, data: Iterable[int]) -> None:
        """One byte of *data* every TRICKLE_EVERY seconds, for as long as it goes on."""
        for byte in data:
            if not self.going():
                return
            self.connection.sendall(bytes([byte]))
            self.stop.wait(TRICKLE_EVERY)

    def reach(self, step: Step, tls_context: ssl.SSLContext | None = None) -> bool:
        """Plays a well-behaved server up to its reply at *step*, which it does not send;
        whether the client got that far."""
        if step is Step.GREETING:
            return True
        self.send(GREETING)
        if not self.command().startswith(b"EHLO"):
            return False
        if step is Step.EHLO:
            return True
        self.send(EHLO_REPLY)
        if self.command() != b"STARTTLS":
            return False
        if step is Step.STARTTLS:
            return True
        self.send(b"220 Ready to start TLS\r\n")
        if step is Step.HANDSHAKE:
            return True
        assert tls_context is not None
        self.start_tls(tls_context)
        return self.command() == b"QUIT"


Handler = Callable[[Peer], None]

# What a never-ending reply at each step is made of (the handshake's: a TLS record
# header announcing 16 KiB, then its body one byte at a time).
ENDLESS: dict[Step, bytes] = {
    Step.GREETING: b"220-mx1.example.test endless\r\n",
    Step.EHLO: b"250-mx1.example.test endless\r\n",
    Step.STARTTLS: b"220-mx1.example.test endless\r\n",
    Step.QUIT: b"221-mx1.example.test endless\r\n",
}
TLS_RECORD_HEADER = b"\x16\x03\x03\x40\x00"


def trickling(step: Step, tls_context: ssl.SSLContext | None = None) -> Handler:
    """A server whose reply at *step* never ends, one byte every TRICKLE_EVERY seconds."""

    def handle(peer: Peer) -> None:
        if not peer.reach(step, tls_context):
            return
        if step is Step.HANDSHAKE:
            peer.trickle(itertools.chain(TLS_RECORD_HEADER, itertools.repeat(0)))
        else:
            peer.trickle(itertools.cycle(ENDLESS[step]))

    return handle


def flooding(step: Step, line: bytes | None = None, *, at_most: int = 1 << 30) -> Handler:
    """A server whose reply at *step* is *line* (a continuation line) sent without end,
    up to *at_most* bytes."""

    def handle(peer: Peer) -> None:
        if peer.reach(step):
            peer.flood(ENDLESS[step] if line is None else line, at_most=at_most)

    return handle


@contextlib.contextmanager
def hostile_server(*handlers: Handler) -> Iterator[int]:
    """A server on 127.0.0.1 whose n-th connection goes to ``handlers[n]`` (the last one
    for any further connection); yields its port. Each handler gives up when the client
    goes, when the test ends, or after FOR_AT_MOST seconds."""

    def serve(connection: socket.socket, number: int, stop: threading.Event) -> None:
        peer = Peer(connection, stop)
        try:
            handlers[min(number, len(handlers) - 1)](peer)
        except OSError:
            pass  # the client went away: what a bounded client does
        finally:
            peer.connection.close()

    with _listening(serve) as port:
        yield port


# --- destconfig in a process of its own, its memory capped ---------------------------------

MEMORY_LIMIT = 384 << 20
"""The address space of a process run by :func:`run_limited`: room for the program and
its libraries, nothing like what an unbounded reply would take."""

_LIMITED_MAIN = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from destconfig.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class Finished:
    """How a process of :func:`run_limited` ended, and how long it took."""

    status: int
    out: str
    err: str
    seconds: float


def run_limited(
    argv: Sequence[str], *, stdin: bytes = b"", memory: int = MEMORY_LIMIT, timeout: float = 120
) -> Finished:
    """``destconfig ARGV`` as a process of its own, its address space capped at *memory*.

    The cap is set by the child itself before it imports anything (no ``preexec_fn``,
    which is unsafe while the servers' threads run). Output is decoded as strict UTF-8.
    """
    root = Path(__file__).parent.parent
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_MAIN.format(limit=memory), *argv],
        input=stdin,
        capture_output=True,
        cwd=root,
        env=dict(os.environ),
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    return Finished(done.returncode, done.stdout.decode(), done.stderr.decode(), seconds)
