"""The probe: one SMTP conversation up to STARTTLS and the TLS handshake, reduced to facts.

It never sends a message: after the handshake it says QUIT. Every socket
operation is bounded by the timeout. The chain (trust and dates) is verified by
the TLS library during the handshake with its own host name check off, since the
identity rules are the appliance's (``decision.identity``). When the chain fails,
a second conversation without verification finds out whether TLS would come up
for a setting that does not verify, and which names the certificate presents.

Name lookups go through a :class:`Network`, so tests can point mail exchangers
at servers on loopback without DNS.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from destconfig.destinations import InvalidDestination, normalise
from destconfig.env import TLS_TIMEOUT
from destconfig.tlsverify.decision import Certificate, Facts, Stage
from destconfig.tlsverify.report import verification_lines

SMTP_PORT = 25
EHLO_NAME = "destconfig.invalid"  # a fixed EHLO name: no lookup of our own name


class LookupFailed(Exception):
    """The mail exchangers of a domain cannot be known (the reason is one phrase)."""


class Network(Protocol):
    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        """Host names in MX preference order; ``[]`` when the domain has no MX record."""
        ...

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for *host*, in order (``OSError`` when none)."""
        ...


class SystemNetwork:
    """DNS through dnspython (MX) and the system resolver (addresses).

    *resolver* is a ``dns.resolver.Resolver``; by default dnspython's, configured
    from the system (tests give one that asks a server on loopback).
    """

    def __init__(self, resolver: Any = None) -> None:
        self.resolver = resolver

    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        import dns.exception
        import dns.resolver

        resolver = (
            self.resolver if self.resolver is not None else dns.resolver.get_default_resolver()
        )
        try:
            answer = resolver.resolve(domain, "MX", lifetime=timeout, search=False)
        except dns.resolver.NoAnswer:
            return []
        except dns.resolver.NXDOMAIN:
            raise LookupFailed(f"the domain {domain} does not exist") from None
        except dns.exception.Timeout:
            raise LookupFailed(f"the MX lookup timed out after {timeout:g} seconds") from None
        except dns.exception.DNSException as error:
            raise LookupFailed(f"the MX lookup failed: {error}") from None
        records = sorted(answer, key=lambda record: record.preference)
        hosts = [record.exchange.to_text(omit_final_dot=True) for record in records]
        if hosts == [""] or hosts == ["."]:
            raise LookupFailed(f"{domain} publishes a null MX: it accepts no mail")
        return hosts

    def addresses(self, host: str, port: int) -> list[str]:
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
    host, port = text, SMTP_PORT
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or not _is_address(inside) or (rest and not rest.startswith(":")):
            raise ValueError(text)
        host = inside
        if rest:
            port = _port(rest[1:])
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = _port(number)
    if _is_address(host):
        return Target(host, port)
    try:
        name = normalise(host)  # a host name, in the form DNS is asked for (A-labels)
    except InvalidDestination:
        raise ValueError(text) from None
    if name.startswith((".", "[")):
        raise ValueError(text)
    return Target(name, port)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(text)
    return int(text)


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


_SSL_WORDS = re.compile(r"\] (.+?) \(_ssl\.c:\d+\)")


def _why(error: BaseException, timeout: float) -> str:
    """A network error as one phrase."""
    if isinstance(error, ssl.SSLError):
        # "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)": the words
        said = _SSL_WORDS.search(str(error))
        return said.group(1) if said else (error.reason or str(error)).lower()
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} seconds"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        context = error.__context__
        if isinstance(context, TimeoutError | socket.timeout):
            return f"timed out after {timeout:g} seconds"
        return "the server closed the connection"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


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


@dataclass
class _Session:
    """One SMTP conversation, up to the TLS handshake."""

    smtp: smtplib.SMTP
    local: str

    def close(self, *, quit: bool) -> None:
        if quit:
            try:
                self.smtp.quit()
                return
            except (smtplib.SMTPException, OSError, ValueError):
                pass
        self.smtp.close()


@dataclass
class Probe:
    """Probes one destination: finds its mail server and reports each step on *log*."""

    log: Callable[[str], None]
    timeout: float = TLS_TIMEOUT
    ca_file: Path | None = None
    network: Network | None = None

    def _network(self) -> Network:
        return self.network if self.network is not None else SystemNetwork()

    def run(self, domain: str, target: Target | None) -> Facts:
        """The facts of the first mail server of *domain* (or *target*) that answers."""
        if target is not None:
            return self._host(domain, target.host, target.port)
        self.log(f"Looking up the mail exchangers of {domain}.")
        try:
            hosts = self._network().mail_exchangers(domain, self.timeout)
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
            facts = self._host(domain, host, SMTP_PORT)
            if facts.stage is not Stage.NO_CONNECTION:
                return facts
        assert facts is not None
        return facts

    def _host(self, domain: str, host: str, port: int) -> Facts:
        try:
            addresses = [host] if _is_address(host) else self._network().addresses(host, port)
        except OSError as error:
            self.log(f"Cannot find the address of {host}: {_why(error, self.timeout)}.")
            return Facts(domain, host, Stage.NO_CONNECTION, reason=f"{host} has no address")
        reason = f"no address for {host}"
        for address in addresses:
            self.log(f"Connecting to {address} on port {port}.")
            try:
                session = self._connect(address, port)
            except _Refused as refused:
                self.log(f"Connection to {address} failed: {refused.reason}.")
                reason = f"the connection to {address} on port {port} failed ({refused.reason})"
                continue
            self.log(f"Connected to {address} from interface {session.local}.")
            return self._conversation(session, domain, host, address, port)
        return Facts(domain, host, Stage.NO_CONNECTION, reason=reason)

    def _connect(self, address: str, port: int) -> _Session:
        smtp = smtplib.SMTP(timeout=self.timeout, local_hostname=EHLO_NAME)
        try:
            code, text = smtp.connect(address, port)
        except (OSError, smtplib.SMTPException) as error:
            smtp.close()
            raise _Refused(_why(error, self.timeout)) from None
        if code != 220:
            smtp.close()
            raise _Refused(f"the server answered {code} {text.decode('utf-8', 'replace')}")
        local = str(smtp.sock.getsockname()[0]) if smtp.sock is not None else "?"
        return _Session(smtp, local)

    def _ehlo(self, session: _Session) -> bool:
        """EHLO; whether the server offers STARTTLS (a failure is the caller's)."""
        code, _ = session.smtp.ehlo()
        return code == 250 and session.smtp.has_extn("starttls")

    def _starttls(self, session: _Session) -> str | None:
        """STARTTLS up to its 220: ``None`` when accepted, else why not (one phrase).

        A server that drops the connection instead of answering refuses STARTTLS
        before its 220 as much as one that answers 454.
        """
        try:
            code, text = session.smtp.docmd("STARTTLS")
        except (OSError, smtplib.SMTPException) as error:
            return f"the server answered STARTTLS with no reply ({_why(error, self.timeout)})"
        if code != 220:
            reply = text.decode("utf-8", "replace")
            return f"the server refused STARTTLS ({code} {reply})"
        return None

    def _context(self, *, verify: bool) -> ssl.SSLContext:
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
        sock = session.smtp.sock
        assert sock is not None
        wrapped = self._context(verify=verify).wrap_socket(
            sock,
            server_hostname=None if _is_address(host) else host,
            do_handshake_on_connect=False,
        )
        session.smtp.sock, session.smtp.file = wrapped, None  # replies now come over TLS
        wrapped.do_handshake()
        return wrapped

    def _conversation(
        self, session: _Session, domain: str, host: str, address: str, port: int
    ) -> Facts:
        try:
            offered = self._ehlo(session)
        except (OSError, smtplib.SMTPException) as error:
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
                wrapped, session = self._unverified(address, port, host)
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
        except (ssl.SSLError, OSError) as error:
            session.close(quit=False)
            return self._handshake_failed(domain, host, _why(error, self.timeout))
        protocol, cipher = wrapped.version(), (wrapped.cipher() or ("?",))[0]
        certificate = _certificate(wrapped.getpeercert(binary_form=True))
        session.close(quit=True)
        self.log(f"TLS connection established: protocol {protocol}, cipher {cipher}.")
        facts = Facts(
            domain,
            host,
            Stage.TLS_UP,
            chain_trusted=not chain_problem,
            chain_problem=chain_problem,
            certificate=certificate,
        )
        for line in verification_lines(facts, address):
            self.log(line)
        return facts

    def _handshake_failed(self, domain: str, host: str, why: str) -> Facts:
        self.log(f"TLS handshake failed: {why}.")
        reason = f"the TLS handshake failed after the server's 220 reply ({why})"
        return Facts(domain, host, Stage.HANDSHAKE_FAILED, reason=reason)

    def _unverified(self, address: str, port: int, host: str) -> tuple[ssl.SSLSocket, _Session]:
        """A second conversation whose handshake does not verify the chain."""
        session = self._connect(address, port)
        try:
            refused = self._starttls(session) if self._ehlo(session) else "no STARTTLS"
            if refused is not None:
                raise _Refused(refused)
            return self._handshake(session, host, verify=False), session
        except (ssl.SSLError, OSError, smtplib.SMTPException) as error:
            session.close(quit=False)
            raise _Refused(_why(error, self.timeout)) from None


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_ca_file(path: Path) -> str | None:
    """Why *path* cannot serve as the trusted authorities, or ``None`` when it can."""
    try:
        ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        return f"{path}: no such file"
    except IsADirectoryError:
        return f"{path}: is a directory"
    except OSError as error:
        if isinstance(error, ssl.SSLError):
            return f"{path}: not a PEM file of certificates"
        return f"{path}: {error.strerror or error}"
    return None
