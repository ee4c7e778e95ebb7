"""The audit of many destinations: each probed and looked up, ``jobs`` at a time.

One destination's steps run one after another (the MX lookup and the SMTP probe,
tlsverify's; then the MTA-STS record and policy; then the TLSA records of the
host that answered), each step within the timeout; destinations run side by side
on a pool of threads, and come back in the order they were given.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from destconfig.audit.fetch import https_context
from destconfig.audit.findings import Judgement, Observed, judge
from destconfig.audit.lookups import AuditNetwork, resolver
from destconfig.audit.mtasts import StsFound
from destconfig.audit.tlsa import TlsaFound
from destconfig.model import Dane, Tls
from destconfig.tlsverify.decision import Stage
from destconfig.tlsverify.probe import SMTP_PORT, Probe, Target

JOBS = 8
TIMEOUT = 10.0


@dataclass(frozen=True)
class Destination:
    """What to audit: the name shown, the domain (None: a pattern; an address in brackets
    for an IP entry), and the settings of its governing entry."""

    name: str
    domain: str | None
    tls: Tls
    dane: Dane
    key: str | None = None  # the governing entry; None for the default


@dataclass(frozen=True)
class Options:
    timeout: float = TIMEOUT
    jobs: int = JOBS
    ca_file: Path | None = None
    dns_server: tuple[str, int] | None = None
    sts_port: int = 443
    smtp_port: int = SMTP_PORT


@dataclass(frozen=True)
class Audited:
    """One destination's audit: what was found and the finding."""

    destination: Destination
    judgement: Judgement
    mx: tuple[str, ...] = ()
    sts: StsFound = field(default_factory=StsFound)
    tlsa: TlsaFound = field(default_factory=TlsaFound)


def _quiet(line: str) -> None:
    """The probe's log: the audit reports findings, not conversations."""


@dataclass
class Shared:
    """What every destination's audit uses alike: the resolver and the TLS contexts."""

    resolver: Any
    https: ssl.SSLContext
    smtp: dict[bool, ssl.SSLContext] = field(default_factory=dict)

    @classmethod
    def of(cls, options: Options) -> Shared:
        return cls(resolver(options.dns_server), https_context(options.ca_file))


def audit_one(destination: Destination, options: Options, shared: Shared) -> Audited:
    """Probe and look up one destination, and judge it."""
    if destination.domain is None:
        seen = Observed(destination.tls, destination.dane, None)
        return Audited(destination, judge(seen))
    network = AuditNetwork(
        shared.resolver, own_addresses=options.dns_server is not None, timeout=options.timeout
    )
    probe = Probe(
        _quiet,
        timeout=options.timeout,
        ca_file=options.ca_file,
        network=network,
        port=options.smtp_port,
        contexts=shared.smtp,
    )
    domain = destination.domain
    if domain.startswith("["):  # an IP entry: its own address, nothing published
        address = domain[1:-1].removeprefix("ipv6:")
        facts = probe.run(address, Target(address, options.smtp_port))
        seen = Observed(destination.tls, destination.dane, facts)
        return Audited(destination, judge(seen), tuple(probe.tried))
    facts = probe.run(domain, None)
    sts, tlsa = StsFound(), TlsaFound()
    if facts.stage is not Stage.NO_CONNECTION:
        sts = network.sts(
            domain, port=options.sts_port, timeout=options.timeout, context=shared.https
        )
        tlsa = network.tlsa(facts.host, domain, options.timeout)
    seen = Observed(destination.tls, destination.dane, facts, sts, tlsa)
    return Audited(destination, judge(seen), tuple(probe.tried), sts, tlsa)


def audit_all(
    destinations: Sequence[Destination],
    options: Options,
    *,
    done: Callable[[], None] = lambda: None,
) -> list[Audited]:
    """Every destination audited, ``options.jobs`` at a time; *done* after each one
    (on the calling thread)."""
    shared = Shared.of(options)
    results: list[Audited | None] = [None] * len(destinations)
    with ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="audit") as pool:
        futures = {
            pool.submit(audit_one, destination, options, shared): number
            for number, destination in enumerate(destinations)
        }
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done()
    return [result for result in results if result is not None]
