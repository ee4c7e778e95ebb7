"""The audit's DNS server, asked over a connected UDP socket.

dnspython sends each UDP query from an unconnected socket, where the kernel keeps
an ICMP "port unreachable" to itself: a server with nothing listening looks silent
and every lookup waits out its time limit. Connected, the refusal comes back as
``ConnectionRefusedError`` at once, and :class:`AuditResolver` says so in one phrase.
"""

from __future__ import annotations

import socket
from typing import Any

import dns.exception
import dns.message
import dns.nameserver
import dns.query
import dns.resolver


class ConnectedNameserver(dns.nameserver.Do53Nameserver):
    """DNS over UDP (TCP when an answer is truncated) to one address and port."""

    def query(
        self,
        request: dns.message.QueryMessage,
        timeout: float,
        source: str | None,
        source_port: int,
        max_size: bool,
        one_rr_per_rrset: bool = False,
        ignore_trailing: bool = False,
    ) -> dns.message.Message:
        if max_size:  # over TCP, where a refusal is seen anyway
            return super().query(
                request, timeout, source, source_port, max_size, one_rr_per_rrset, ignore_trailing
            )
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.connect((self.address, self.port))
            return dns.query.udp(
                request,
                self.address,
                timeout=timeout,
                port=self.port,
                raise_on_truncation=True,
                one_rr_per_rrset=one_rr_per_rrset,
                ignore_trailing=ignore_trailing,
                ignore_errors=True,
                ignore_unexpected=True,
                sock=sock,
            )


class Unreachable(dns.exception.DNSException):
    """The DNS server refused the query or could not be reached (the reason is one phrase)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)  # type: ignore[no-untyped-call]


class AuditResolver(dns.resolver.Resolver):
    """dnspython's resolver, with a refused or unreachable server said as such."""

    def resolve(self, *args: Any, **kwargs: Any) -> dns.resolver.Answer:
        try:
            return super().resolve(*args, **kwargs)
        except dns.resolver.NoNameservers as error:
            why = refusal(error)
            if why:
                raise Unreachable(why) from None
            raise


def refusal(error: dns.resolver.NoNameservers) -> str:
    """Why every server failed, when one refused or could not be reached; ``""`` if not."""
    for server, _tcp, port, failed, _answer in error.kwargs.get("errors", ()):
        if not isinstance(failed, OSError):
            continue
        where = str(server).removeprefix("Do53:").rpartition("@")[0] or str(server)
        if isinstance(failed, ConnectionRefusedError):
            return f"the DNS server {where} port {port} refused the query (nothing listens there)"
        if failed.strerror:
            return f"the DNS server {where} port {port} is unreachable ({failed.strerror.lower()})"
    return ""
