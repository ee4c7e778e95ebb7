"""The probe: one SMTP conversation up to STARTTLS and the TLS handshake, reduced to facts.

It never sends a message: after the handshake it says QUIT. The chain (trust and
dates) is verified by the TLS library during the handshake with its own host name
check off, since the identity rules are the appliance's (``decision.identity``).
When the chain fails, a second conversation without verification finds out whether
TLS would come up for a setting that does not verify, and which names the
certificate presents.

The conversation is spoken over the socket here rather than through smtplib, which
reads a reply's lines without limit and times out only on silence: a server that
never ends its reply, or sends it a byte at a time, would hold the probe, and its
memory, for as long as it liked. So every reply has a limit on its lines and bytes
(beyond them the server is broken), every step (connect, greeting, EHLO, STARTTLS,
handshake, QUIT, and each name lookup) a deadline for the whole step, the timeout,
and the probe of one host (its addresses, both conversations) a total limit of
:data:`HOST_STEPS` timeouts.

Name lookups go through a :class:`~destconfig.tlsverify.options.Network`, so tests
can point mail exchangers at servers on loopback without DNS.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from destconfig.destinations import InvalidDestination, normalise
from destconfig.tlsverify.decision import Certificate, Facts, Stage
from destconfig.tlsverify.options import TLS_TIMEOUT, Network, seconds, timed_out
from destconfig.tlsverify.report import verification_lines

SMTP_PORT = 25
EHLO_NAME = "destconfig.invalid"  # a fixed EHLO name: no lookup of our own name

# The limits of one reply. A line, with its CRLF, as long as Postfix's default
# line_length_limit; RFC 5321 asks for 512 at most. A real EHLO reply is a few dozen
# lines and a kilobyte or two.
REPLY_LINE_BYTES = 2048
REPLY_LINES = 100
REPLY_BYTES = 32768

HOST_STEPS = 3
"""The probe of one host takes at most this many timeouts, all its steps together."""


class LookupFailed(Exception):
    """The mail exchangers of a domain cannot be known (the reason is one phrase)."""


class LookupTimedOut(LookupFailed):
    """A lookup that got no answer in time: known by its type, never by its words."""


class SystemNetwork:
    """DNS through dnspython (MX) and the system resolver (addresses).

    *resolver* is a ``dns.resolver.Resolver``; by default dnspython's, configured
    from the system (tests give one that asks a server on loopback).
    """

    def __init__(self, resolver: Any = None) -> None:
        self.resolver = resolver
        # Whether each MX answer had the AD bit (DANE uses the MX hosts only then).
        self.authenticated: dict[str, bool] = {}

    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        return mx_lookup(self.resolver, domain, timeout, self.authenticated)

    def addresses(self, host: str, port: int) -> list[str]:
        return system_addresses(host, port)


def mx_lookup(
    resolver: Any, domain: str, timeout: float, authenticated: dict[str, bool]
) -> list[str]:
    """The MX hosts of *domain* in preference order (``[]``: no MX record), asked of
    *resolver* (None: the system's); whether the answer had the AD bit goes to
    *authenticated*. :class:`LookupFailed` when they cannot be known."""
    import dns.exception
    import dns.flags
    import dns.resolver

    if resolver is None:
        resolver = dns.resolver.get_default_resolver()
    try:
        answer = resolver.resolve(domain, "MX", lifetime=timeout, search=False)
    except dns.resolver.NoAnswer:
        return []
    except dns.resolver.NXDOMAIN:
        raise LookupFailed(f"the domain {domain} does not exist") from None
    except dns.exception.Timeout:
        raise LookupTimedOut(f"the MX lookup {timed_out(timeout)}") from None
    except dns.exception.DNSException as error:
        raise LookupFailed(f"the MX lookup failed: {error}") from None
    authenticated[domain] = bool(answer.response.flags & dns.flags.AD)
    records = sorted(answer, key=lambda record: record.preference)
    hosts = [record.exchange.to_text(omit_final_dot=True) for record in records]
    if hosts == [""] or hosts == ["."]:
        raise LookupFailed(f"{domain} publishes a null MX: it accepts no mail")
    return hosts


def system_addresses(host: str, port: int) -> list[str]:
    """The addresses of *host* from the system's resolver, in its order, each once."""
    found: list[str] = []
    for *_, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        text = str(address[0])
        if text not in found:
            found.append(text)
    return found


@dataclass(frozen=True)
class Target:
    """A host to connect to, as the user gave it."""

    host: str
    port: int = SMTP_PORT


def parse_target(text: str) -> Target:
    """``host``, ``host:port``, ``[IPv6]:port`` or a bare IPv6 address; ValueError if not."""
    text = text.strip()
    if not text:
        raise ValueError("empty host")
    host, port = split_host_port(text, SMTP_PORT)
    if is_address(host):
        return Target(host, port)
    try:
        name = normalise(host)  # a host name, in the form DNS is asked for (A-labels)
    except InvalidDestination:
        raise ValueError(text) from None
    if name.startswith((".", "[")):
        raise ValueError(text)
    return Target(name, port)


def split_host_port(text: str, default: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[IPv6]:port`` or a bare IPv6 address as host and port
    (*default* when none is written); ValueError when the port or brackets are wrong.

    The one reading of a host and port: SMTP targets and the audit's DNS server alike.
    """
    host, port = text, default
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or not is_address(inside) or (rest and not rest.startswith(":")):
            raise ValueError(text)
        host = inside
        if rest:
            port = parse_port(rest[1:])
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = parse_port(number)
    return host, port


def parse_port(text: str) -> int:
    """A port number, 1 to 65535 in ASCII digits; ValueError if not."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(text)
    return int(text)


def is_address(host: str) -> bool:
    """Whether *host* is an IPv4 or IPv6 address (not a name)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


_SSL_WORDS = re.compile(r"\] (.+?) \(_ssl\.c:\d+\)")


def _why(error: BaseException, timeout: float) -> str:
    """A network error as one phrase."""
    if isinstance(error, _Failed):
        return error.reason
    if isinstance(error, ssl.SSLError):
        # "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)": the words
        said = _SSL_WORDS.search(str(error))
        return said.group(1) if said else (error.reason or str(error)).lower()
    if isinstance(error, TimeoutError):
        return timed_out(timeout)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


class _Failed(Exception):
    """A step failed: a deadline passed, or the server went (the reason is one phrase)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Broken(_Failed):
    """The server broke the protocol: a reply over a limit, or no SMTP at all."""


_CLOSED = "the server closed the connection"


@dataclass(frozen=True)
class _Deadline:
    """When one step must be over, and what to say when it is not."""

    at: float  # on time.monotonic()
    late: str
    within: str = ""  # "within 10 seconds": what a silent server failed to keep to

    def left(self) -> float:
        """The seconds left; :class:`_Failed` when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise _Failed(self.late)
        return left


@dataclass(frozen=True)
class _Budget:
    """The time of one host: each step gets *step* seconds, all of them HOST_STEPS times that."""

    step: float
    ends: float  # on time.monotonic()

    @classmethod
    def start(cls, step: float) -> _Budget:
        return cls(step, time.monotonic() + HOST_STEPS * step)

    def deadline(self) -> _Deadline:
        """The deadline of a step starting now: its own limit, or the host's if sooner."""
        at = time.monotonic() + self.step
        if at <= self.ends:
            return _Deadline(at, timed_out(self.step), f"within {seconds(self.step)}")
        total = HOST_STEPS * self.step
        return _Deadline(
            self.ends,
            f"the host's time limit of {seconds(total)} ran out",
            f"before the host's time limit of {seconds(total)} ran out",
        )

    def spent(self) -> bool:
        return time.monotonic() >= self.ends


_T = TypeVar("_T")


class _Outcome(Generic[_T]):
    """What a call on another thread returned or raised."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: _T | None = None
        self.error: BaseException | None = None


def _within(deadline: _Deadline, call: Callable[[], _T]) -> _T:
    """``call()`` on a thread of its own, waited for until *deadline* (then :class:`_Failed`).

    For name lookups: the system resolver has no deadline a caller can set, and
    dnspython sleeps between rounds of tries without looking at its lifetime (up
    to 2 s past it). A lookup left behind ends on its own; its thread is a daemon,
    so it never holds up the exit.
    """
    outcome: _Outcome[_T] = _Outcome()

    def work() -> None:
        try:
            outcome.value = call()
        except BaseException as error:  # handed to the caller, whatever it is
            outcome.error = error
        finally:
            outcome.done.set()

    try:
        threading.Thread(target=work, name="tlsverify lookup", daemon=True).start()
    except RuntimeError:  # no thread to be had: the lookup's own limits must do
        return call()
    if not outcome.done.wait(deadline.left()):
        raise _Failed(deadline.late)
    if outcome.error is not None:
        raise outcome.error
    return cast(_T, outcome.value)  # set, since no error was


def bounded(call: Callable[[], _T], seconds: float, late: str) -> _T:
    """``call()`` over within *seconds* whatever it does, else :class:`LookupTimedOut` (*late*).

    For name lookups, which have no deadline of their own a caller can rely on.
    """
    try:
        return _within(_Deadline(time.monotonic() + seconds, late), call)
    except _Failed as failed:
        raise LookupTimedOut(failed.reason) from None


class _Wire:
    """SMTP over one socket: commands out, replies in, each within a deadline and limits."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()  # what came after the last line read
        self.started = False  # the server has sent something
        self.failed = False  # a command or reply failed: the conversation is out of step

    def send(self, command: str, deadline: _Deadline) -> None:
        self.failed = True  # until it is sent
        try:
            self.sock.settimeout(deadline.left())
            self.sock.sendall(command.encode("ascii") + b"\r\n")
        except TimeoutError:
            raise _Failed(deadline.late) from None
        except OSError:
            raise _Failed(_CLOSED) from None
        self.failed = False

    def reply(self, deadline: _Deadline) -> tuple[int, list[bytes]]:
        """The next reply: its code, and the text of each line (after the code, stripped)."""
        self.failed = True  # until it is read whole
        code, lines = self._reply(deadline)
        self.failed = False
        return code, lines

    def _reply(self, deadline: _Deadline) -> tuple[int, list[bytes]]:
        lines: list[bytes] = []
        size = 0
        while True:
            line = self._line(deadline)
            size += len(line)
            if size > REPLY_BYTES:
                raise _Broken(f"the server sent a reply longer than {REPLY_BYTES} bytes")
            code = line[:3]
            if len(code) != 3 or not code.isdigit():
                raise _Broken("the server sent a line that is not an SMTP reply")
            lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] != b"-":
                return int(code), lines
            if len(lines) == REPLY_LINES:  # and another line is announced
                raise _Broken(f"the server sent a reply of more than {REPLY_LINES} lines")

    def _line(self, deadline: _Deadline) -> bytes:
        while True:
            end = self._buffer.find(b"\n", 0, REPLY_LINE_BYTES)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) >= REPLY_LINE_BYTES:
                raise _Broken(f"the server sent a reply line longer than {REPLY_LINE_BYTES} bytes")
            try:
                self.sock.settimeout(deadline.left())
                data = self.sock.recv(4096)
            except TimeoutError:
                raise _Failed(deadline.late) from None
            except OSError:
                raise _Failed(_CLOSED) from None
            if not data:
                raise _Failed(_CLOSED)
            self.started = True
            self._buffer += data


def _text(lines: list[bytes]) -> str:
    """A reply's text as the log quotes it, its lines joined by line breaks."""
    return b"\n".join(lines).decode("utf-8", "replace")


_KEYWORD = re.compile(rb"[A-Za-z0-9][A-Za-z0-9-]*")


def _offers_starttls(lines: list[bytes]) -> bool:
    """Whether an EHLO reply's extension lines (after the first) name STARTTLS."""
    for line in lines[1:]:
        keyword = _KEYWORD.match(line)
        if keyword is not None and keyword.group().lower() == b"starttls":
            return True
    return False


def _certificate(der: bytes | None) -> Certificate | None:
    if der is None:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common = tuple(str(attribute.value) for attribute in names)
        try:
            extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            dns_names = tuple(extension.value.get_values_for_type(x509.DNSName))
        except x509.ExtensionNotFound:
            dns_names = ()
    except ValueError:
        return Certificate()
    return Certificate(common, dns_names)


def _chain(wrapped: ssl.SSLSocket, der: bytes | None) -> tuple[bytes, ...]:
    """The certificates the server sent, DER, its own first.

    ``ssl`` gives the chain publicly from Python 3.13 on (``get_unverified_chain``);
    before, the same method lives on the socket's private object. Where neither is
    there, the server's own certificate alone.
    """
    for owner in (wrapped, getattr(wrapped, "_sslobj", None)):
        method = getattr(owner, "get_unverified_chain", None)
        if method is None:
            continue
        try:
            sent = method() or []
            chain = tuple(bytes(each.public_bytes(ssl._ssl.ENCODING_DER)) for each in sent)  # type: ignore[attr-defined]
        except (AttributeError, ValueError, ssl.SSLError):
            break
        if chain:
            return chain
    return (der,) if der is not None else ()


@dataclass
class _Session:
    """One SMTP conversation, up to the TLS handshake, in the time of its host."""

    wire: _Wire
    budget: _Budget
    local: str

    def close(self, *, quit: bool) -> None:
        """Closes the connection, after QUIT and its reply when *quit* and still in step."""
        if quit and not self.wire.failed:  # a server that just failed is not waited for
            try:
                deadline = self.budget.deadline()
                self.wire.send("QUIT", deadline)
                self.wire.reply(deadline)
            except (OSError, _Failed):
                pass
        self.wire.sock.close()


@dataclass
class Probe:
    """Probes one destination: finds its mail server and reports each step on *log*."""

    log: Callable[[str], None]
    timeout: float = TLS_TIMEOUT
    ca_file: Path | None = None
    network: Network | None = None
    port: int | None = None  # of the mail exchangers looked up; None: SMTP_PORT
    tried: list[str] = field(default_factory=list)  # the hosts tried, in order
    # TLS contexts by whether they verify, kept for the probes that share this dict
    # (loading the trust store costs more than a handshake on loopback); None: made anew.
    contexts: dict[bool, ssl.SSLContext] | None = None

    def _network(self) -> Network:
        return self.network if self.network is not None else SystemNetwork()

    def run(self, domain: str, target: Target | None) -> Facts:
        """The facts of the first mail server of *domain* (or *target*) that answers."""
        if target is not None:
            self.tried.append(target.host)
            return self._host(domain, target.host, target.port)
        self.log(f"Looking up the mail exchangers of {domain}.")
        try:
            hosts = self._mail_exchangers(domain)
        except LookupFailed as failed:
            self.log(f"No mail exchanger: {failed}.")
            return Facts(domain, domain, Stage.NO_CONNECTION, reason=str(failed))
        if hosts:
            self.log(f"Mail exchangers in preference order: {', '.join(hosts)}.")
        else:
            self.log(f"{domain} has no MX record: connecting to the domain itself.")
            hosts = [domain]
        facts = None
        for host in hosts:
            self.tried.append(host)
            facts = self._host(domain, host, SMTP_PORT if self.port is None else self.port)
            if facts.stage is not Stage.NO_CONNECTION:
                return facts
        assert facts is not None
        return facts

    def _mail_exchangers(self, domain: str) -> list[str]:
        """The MX lookup, over within the timeout whatever the resolver does."""
        network = self._network()
        late = f"the MX lookup {timed_out(self.timeout)}"
        return bounded(lambda: network.mail_exchangers(domain, self.timeout), self.timeout, late)

    def _host(self, domain: str, host: str, port: int) -> Facts:
        budget = _Budget.start(self.timeout)
        try:
            addresses = [host] if is_address(host) else self._addresses(host, port, budget)
        except (OSError, _Failed) as error:
            self.log(f"Cannot find the address of {host}: {_why(error, self.timeout)}.")
            return Facts(domain, host, Stage.NO_CONNECTION, reason=f"{host} has no address")
        reason = f"no address for {host}"
        for address in addresses:
            if budget.spent():  # the last attempt said so; the others are not tried
                break
            self.log(f"Connecting to {address} on port {port}.")
            try:
                session = self._connect(address, port, budget)
            except _Refused as refused:
                if refused.connected:
                    self.log(f"Connected to {address}, but {refused.reason}.")
                    reason = (
                        f"the connection to {address} on port {port} was made, but {refused.reason}"
                    )
                    continue
                self.log(f"Connection to {address} failed: {refused.reason}.")
                reason = f"the connection to {address} on port {port} failed ({refused.reason})"
                continue
            self.log(f"Connected to {address} from interface {session.local}.")
            return self._conversation(session, domain, host, address, port)
        return Facts(domain, host, Stage.NO_CONNECTION, reason=reason)

    def _addresses(self, host: str, port: int, budget: _Budget) -> list[str]:
        network = self._network()
        return _within(budget.deadline(), lambda: network.addresses(host, port))

    def _connect(self, address: str, port: int, budget: _Budget) -> _Session:
        """A connection and the server's greeting (two steps): 220, or :class:`_Refused`."""
        deadline = budget.deadline()
        try:
            sock = socket.create_connection((address, port), timeout=deadline.left())
        except TimeoutError:
            raise _Refused(deadline.late) from None
        except (OSError, _Failed) as error:
            raise _Refused(_why(error, self.timeout)) from None
        wire = _Wire(sock)
        greeting = budget.deadline()
        try:
            code, lines = wire.reply(greeting)
            local = str(sock.getsockname()[0])
        except (OSError, _Failed) as error:
            sock.close()
            if isinstance(error, _Failed) and error.reason == greeting.late:
                # Not a failed connection: the server took it and said nothing (or
                # started and never ended its greeting).
                said = "finish its greeting" if wire.started else "greet"
                raise _Refused(
                    f"the server did not {said} {greeting.within}", connected=True
                ) from None
            raise _Refused(_why(error, self.timeout)) from None
        if code != 220:
            sock.close()
            raise _Refused(f"the server answered {code} {_text(lines)}")
        return _Session(wire, budget, local)

    def _ehlo(self, session: _Session) -> bool:
        """EHLO; whether the server offers STARTTLS (a failure is the caller's)."""
        deadline = session.budget.deadline()
        session.wire.send(f"EHLO {EHLO_NAME}", deadline)
        code, lines = session.wire.reply(deadline)
        return code == 250 and _offers_starttls(lines)

    def _starttls(self, session: _Session) -> str | None:
        """STARTTLS up to its 220: ``None`` when accepted, else why not (one phrase).

        A server that drops the connection instead of answering refuses STARTTLS
        before its 220 as much as one that answers 454, and so does one whose
        answer is no SMTP reply.
        """
        deadline = session.budget.deadline()
        try:
            session.wire.send("STARTTLS", deadline)
            code, lines = session.wire.reply(deadline)
        except _Broken as broken:
            return f"the server answered STARTTLS with a broken reply ({broken.reason})"
        except (OSError, _Failed) as error:
            return f"the server answered STARTTLS with no reply ({_why(error, self.timeout)})"
        if code != 220:
            return f"the server refused STARTTLS ({code} {_text(lines)})"
        return None

    def _context(self, *, verify: bool) -> ssl.SSLContext:
        if self.contexts is None:
            return self._new_context(verify=verify)
        made = self.contexts.get(verify)
        if made is None:
            made = self.contexts.setdefault(verify, self._new_context(verify=verify))
        return made

    def _new_context(self, *, verify: bool) -> ssl.SSLContext:
        if not verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        cafile = str(self.ca_file) if self.ca_file is not None else None
        context = ssl.create_default_context(cafile=cafile)
        context.check_hostname = False  # the appliance's identity rules apply instead
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _handshake(self, session: _Session, host: str, *, verify: bool) -> ssl.SSLSocket:
        deadline = session.budget.deadline()
        wrapped = self._context(verify=verify).wrap_socket(
            session.wire.sock,
            server_hostname=None if is_address(host) else host,
            do_handshake_on_connect=False,
        )
        session.wire = _Wire(wrapped)  # replies now come over TLS, nothing read in clear
        try:
            # One call: OpenSSL's waits within it share this deadline.
            wrapped.settimeout(deadline.left())
            wrapped.do_handshake()
        except TimeoutError:
            raise _Failed(deadline.late) from None
        return wrapped

    def _conversation(
        self, session: _Session, domain: str, host: str, address: str, port: int
    ) -> Facts:
        try:
            offered = self._ehlo(session)
        except (OSError, _Failed) as error:
            session.close(quit=False)
            why = _why(error, self.timeout)
            self.log(f"The SMTP conversation failed: {why}.")
            return Facts(
                domain, host, Stage.NO_CONNECTION, reason=f"the SMTP conversation failed ({why})"
            )
        self.log("Checking TLS connection.")
        refused = self._starttls(session) if offered else "the server does not offer STARTTLS"
        if refused is not None:
            self.log(refused[0].upper() + refused[1:] + ".")
            session.close(quit=True)
            return Facts(domain, host, Stage.NO_STARTTLS, reason=refused)
        chain_problem = ""
        try:
            wrapped = self._handshake(session, host, verify=True)
        except ssl.SSLCertVerificationError as error:
            session.close(quit=False)
            chain_problem = error.verify_message or "the certificate chain is not trusted"
            try:
                wrapped, session = self._unverified(address, port, host, session.budget)
            except _Refused as again:
                # The handshake went as far as the certificate: TLS itself works. Which
                # names it presents cannot be read without the second conversation.
                self.log(f"Reading the certificate without verifying it failed: {again.reason}.")
                facts = Facts(
                    domain, host, Stage.TLS_UP, chain_problem=chain_problem, certificate=None
                )
                for line in verification_lines(facts, address):
                    self.log(line)
                return facts
        except (OSError, _Failed) as error:  # ssl.SSLError is an OSError
            session.close(quit=False)
            return self._handshake_failed(domain, host, _why(error, self.timeout))
        protocol, cipher = wrapped.version(), (wrapped.cipher() or ("?",))[0]
        der = wrapped.getpeercert(binary_form=True)
        certificate = _certificate(der)
        chain = _chain(wrapped, der)
        session.close(quit=True)
        self.log(f"TLS connection established: protocol {protocol}, cipher {cipher}.")
        facts = Facts(
            domain,
            host,
            Stage.TLS_UP,
            chain_trusted=not chain_problem,
            chain_problem=chain_problem,
            certificate=certificate,
            chain=chain,
        )
        for line in verification_lines(facts, address):
            self.log(line)
        return facts

    def _handshake_failed(self, domain: str, host: str, why: str) -> Facts:
        self.log(f"TLS handshake failed: {why}.")
        reason = f"the TLS handshake failed after the server's 220 reply ({why})"
        return Facts(domain, host, Stage.HANDSHAKE_FAILED, reason=reason)

    def _unverified(
        self, address: str, port: int, host: str, budget: _Budget
    ) -> tuple[ssl.SSLSocket, _Session]:
        """A second conversation whose handshake does not verify the chain."""
        session = self._connect(address, port, budget)
        try:
            refused = self._starttls(session) if self._ehlo(session) else "no STARTTLS"
            if refused is None:
                return self._handshake(session, host, verify=False), session
        except (OSError, _Failed) as error:
            session.close(quit=False)
            raise _Refused(_why(error, self.timeout)) from None
        session.close(quit=False)
        raise _Refused(refused)


class _Refused(Exception):
    """No SMTP session with a server; *connected*: it took the connection, then kept silent."""

    def __init__(self, reason: str, *, connected: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connected = connected
