"""One tlsverify run: the governing entry of the domain, the probe, and the verdict.

The host prompt's dialogue and the one-shot command differ only in where the
domain and host come from and how the result is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from destconfig.model import Table, Tls, effective
from destconfig.resolve import resolve
from destconfig.tlsverify.decision import Facts, Outcome, outcomes
from destconfig.tlsverify.options import TLS_TIMEOUT, Network
from destconfig.tlsverify.probe import Probe, Target


@dataclass(frozen=True)
class Verdict:
    """What was found, which entry governs the domain, and what its setting does."""

    key: str | None  # the governing entry; None for the default entry
    setting: Tls
    facts: Facts
    log: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return outcomes(self.facts)[self.setting]


def governing(table: Table, domain: str) -> tuple[str | None, Tls]:
    """The entry that governs *domain* (as ``resolve``) and its TLS setting in effect."""
    found = resolve(table, domain)
    entry = None if found.key is None else table.entries[found.key]
    setting: Tls = effective(entry, table.default)["tls"]
    return found.key, setting


def run_check(
    table: Table,
    domain: str,
    target: Target | None,
    *,
    log: Callable[[str], None],
    timeout: float = TLS_TIMEOUT,
    ca_file: Path | None = None,
    network: Network | None = None,
) -> Verdict:
    """Probe *domain*'s mail server (or *target*) and judge it under the governing entry.

    Each log line goes to *log* as it happens (a slow server shows where it is
    waiting) and is kept in the verdict.
    """
    key, setting = governing(table, domain)
    lines: list[str] = []

    def step(line: str) -> None:
        lines.append(line)
        log(line)

    facts = Probe(step, timeout=timeout, ca_file=ca_file, network=network).run(domain, target)
    return Verdict(key, setting, facts, lines)
