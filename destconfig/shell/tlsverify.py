"""The host command ``tlsverify`` (spec tlsverify §3): two questions, the log, the verdict.

It judges the session's table, pending changes included, so that a setting can
be tried against the real server before it is committed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from destconfig.console import escape
from destconfig.destinations import InvalidDestination, is_address
from destconfig.dialogue.questions import Abandon, Invalid, Text
from destconfig.resolve import domain_of
from destconfig.tlsverify.check import run_check
from destconfig.tlsverify.options import check_ca_file
from destconfig.tlsverify.probe import Target, parse_target
from destconfig.tlsverify.report import policy_block

if TYPE_CHECKING:
    from destconfig.shell.session import Session

DOMAIN_QUESTION = "Enter the TLS domain to verify against:"
HOST_QUESTION = (
    "Enter the destination host to connect to. Append the port (example.com:26) if you "
    "are not connecting on port 25:"
)


def parse_domain(answer: str) -> str:
    """A domain name to verify against, in its stored (A-label) form."""
    try:
        domain = domain_of(answer.strip())
    except InvalidDestination:
        domain = ""
    if not domain or is_address(domain) or "@" in answer:
        raise Invalid(
            f'Invalid domain "{escape(answer.strip())}". Enter a domain name (example.com).'
        )
    return domain


def parse_host(answer: str) -> Target | None:
    """``None`` for an empty answer: the domain's mail exchangers."""
    return parse_host_port(answer) if answer.strip() else None


def parse_host_port(answer: str) -> Target:
    """``HOST[:PORT]`` as a target, or :class:`Invalid` saying what is expected."""
    try:
        return parse_target(answer)
    except ValueError:
        raise Invalid(
            f'Invalid host "{escape(answer.strip())}". Enter a host name or an IP address, '
            'with ":port" when the port is not 25.'
        ) from None


def do_tlsverify(shell: Session) -> bool:
    try:
        domain = shell.dialogue.ask(Text(DOMAIN_QUESTION, parse_domain))
        target = shell.dialogue.ask(Text(HOST_QUESTION, parse_host, allow_empty=True, shown=domain))
    except Abandon:
        return False
    console = shell.console
    ca_file = shell.options.ca_file
    if ca_file is not None:
        problem = check_ca_file(ca_file)
        if problem is not None:  # it was there at start; it may have gone since
            console.block(f"The CA file cannot be used: {escape(problem)}")
            return False
    first = True

    def log(line: str) -> None:
        nonlocal first
        console.write(("\n" if first else "") + escape(line) + "\n")
        console.flush()  # each step as it happens: a slow server shows where it waits
        first = False

    verdict = run_check(
        shell.table,
        domain,
        target,
        log=log,
        timeout=shell.options.tls_timeout,
        ca_file=ca_file,
        network=shell.env.network,
    )
    console.block(policy_block(verdict.key, verdict.setting, verdict.facts))  # escaped there
    return False
