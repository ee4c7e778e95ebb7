"""The audit's DNS: one resolver for every query, each asking for the AD bit.

With ``--dns-server`` every query, the mail servers' addresses included, goes to
that server; else to the system's resolvers (and addresses to the system's own
lookup, as tlsverify does). Queries set the AD flag (RFC 6840 §5.7), so a
validating resolver says in its answer whether it authenticated it; DANE trusts
TLSA records only then, as Postfix does. Each lookup ends within the timeout.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from destconfig.audit import mtasts
from destconfig.audit.fetch import FetchFailed, fetch_policy
from destconfig.audit.mtasts import PolicyError, StsFound
from destconfig.audit.tlsa import TlsaFound, TlsaRecord
from destconfig.tlsverify.options import timed_out
from destconfig.tlsverify.probe import (
    LookupFailed,
    LookupTimedOut,
    bounded,
    is_address,
    mx_lookup,
    split_host_port,
    system_addresses,
)

DNS_PORT = 53


class _TimedOut(Exception):
    """The resolver itself gave up: its lifetime passed."""


@dataclass(frozen=True)
class Answer:
    texts: tuple[Any, ...]  # the records (dnspython's rdata)
    authenticated: bool


def resolver(server: tuple[str, int] | None) -> Any:
    """A dnspython resolver: asking *server* only, else the system's; AD set, no cache."""
    import dns.flags
    import dns.resolver

    from destconfig.audit.nameserver import AuditResolver, ConnectedNameserver

    try:
        made = AuditResolver(configure=server is None)
    except dns.resolver.NoResolverConfiguration:  # no resolv.conf: every lookup fails
        made = AuditResolver(configure=False)
        made.nameservers = []
    if server is not None:  # connected, so that a refusal is seen at once
        made.nameservers = [ConnectedNameserver(server[0], server[1])]
    made.flags = dns.flags.RD | dns.flags.AD
    made.cache = None
    return made


class AuditNetwork:
    """tlsverify's network over the audit's resolver: MX (its AD bit kept), addresses,
    and the TXT and TLSA lookups of MTA-STS and DANE."""

    def __init__(self, made: Any, *, own_addresses: bool, timeout: float) -> None:
        self.resolver = made
        self.own_addresses = own_addresses  # addresses from the resolver, not the system
        self.timeout = timeout  # of an address lookup (the probe bounds it too)
        self.authenticated: dict[str, bool] = {}  # each MX answer: had it the AD bit

    def mail_exchangers(self, domain: str, timeout: float) -> list[str]:
        return mx_lookup(self.resolver, domain, timeout, self.authenticated)

    def addresses(self, host: str, port: int) -> list[str]:
        if not self.own_addresses:
            return system_addresses(host, port)
        found: list[str] = []
        for kind in ("A", "AAAA"):
            try:
                found += [record.address for record in self._ask(host, kind, self.timeout).texts]
            except LookupFailed:
                continue
        if not found:
            raise OSError(f"no address for {host}")
        return found

    def _ask(self, name: str, kind: str, timeout: float) -> Answer:
        """The records of *kind* at *name*; ``()`` when there are none.

        :class:`LookupFailed` when the server fails, :class:`_TimedOut` when it is silent.
        """
        import dns.exception
        import dns.flags
        import dns.resolver

        try:
            answer = self.resolver.resolve(name, kind, lifetime=timeout, search=False)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return Answer((), False)
        except dns.exception.Timeout:
            raise _TimedOut from None
        except dns.exception.DNSException as error:
            raise LookupFailed(str(error)) from None
        return Answer(tuple(answer), bool(answer.response.flags & dns.flags.AD))

    def lookup(self, name: str, kind: str, timeout: float) -> Answer:
        """:meth:`_ask` within *timeout*, whatever the resolver does; a silence is
        :class:`LookupFailed` saying it timed out."""
        late = f"the {kind} lookup of {name} {timed_out(timeout)}"

        def ask() -> Answer:
            try:
                return self._ask(name, kind, timeout)
            except _TimedOut:
                raise LookupTimedOut(late) from None

        return bounded(ask, timeout, late)  # LookupTimedOut: the resolver's silence, or ours

    def sts(self, domain: str, *, port: int, timeout: float, context: ssl.SSLContext) -> StsFound:
        """The MTA-STS policy of *domain* (§3): its record, then the policy file."""
        name = f"_mta-sts.{domain}"
        try:
            answer = self.lookup(name, "TXT", timeout)
        except LookupTimedOut as late:
            return StsFound(unknown=str(late))
        except LookupFailed as failed:
            return StsFound(note=f"the TXT lookup of {name} failed ({failed}): no policy applies")
        texts = [b"".join(record.strings).decode("ascii", "replace") for record in answer.texts]
        if not any(mtasts.is_sts_record(text) for text in texts):
            return StsFound()
        try:
            mtasts.one_record(texts)
        except PolicyError as error:
            return StsFound(note=f"the TXT record at {name} does not parse: {error}")
        host = f"mta-sts.{domain}"
        try:
            addresses = self._policy_addresses(host, port, timeout)
            body = fetch_policy(host, addresses[0], port, timeout=timeout, context=context)
        except LookupTimedOut as late:
            return StsFound(unknown=str(late))
        except (LookupFailed, OSError) as failed:
            return StsFound(
                note=f"the MTA-STS policy cannot be fetched: {host} has no address ({failed})"
            )
        except FetchFailed as failed:
            if failed.timed_out:
                return StsFound(unknown=f"the MTA-STS policy cannot be fetched: {failed.reason}")
            return StsFound(note=f"the MTA-STS policy cannot be fetched: {failed.reason}")
        try:
            return StsFound(mtasts.parse_policy(body))
        except PolicyError as error:
            return StsFound(note=f"the MTA-STS policy does not parse: {error}")

    def _policy_addresses(self, host: str, port: int, timeout: float) -> list[str]:
        late = f"the address lookup of {host} {timed_out(timeout)}"
        return bounded(lambda: self.addresses(host, port), timeout, late)

    def tlsa(self, host: str, domain: str, timeout: float) -> TlsaFound:
        """The TLSA records at ``_25._tcp.HOST``, trusted when this answer and the MX
        answer of *domain* (if it had one) came authenticated."""
        name = f"_25._tcp.{host}"
        try:
            answer = self.lookup(name, "TLSA", timeout)
        except LookupTimedOut as late:
            return TlsaFound(name, unknown=str(late))
        except LookupFailed as failed:
            return TlsaFound(name, unknown=f"the TLSA lookup of {name} failed ({failed})")
        records = tuple(
            TlsaRecord(record.usage, record.selector, record.mtype, bytes(record.cert))
            for record in answer.texts
        )
        if not records:
            return TlsaFound(name)
        mx_secure = self.authenticated.get(domain, True)
        if answer.authenticated and mx_secure:
            return TlsaFound(name, records, authenticated=True)
        what = "TLSA answer" if not answer.authenticated else f"MX answer of {domain}"
        note = f"the TLSA records at {name} are not used: the {what} is not authenticated"
        return TlsaFound(name, records, authenticated=False, note=note)


def parse_server(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT``; the port 53 when left out), HOST an address."""
    host, port = split_host_port(text, DNS_PORT)
    if not is_address(host):
        raise ValueError(text)
    return host, port
