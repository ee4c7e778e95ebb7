"""``audit``: each entry's TLS and DANE settings against what its domain publishes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from destconfig.commands.context import CommandError, Context
from destconfig.console import escape
from destconfig.exitstatus import ExitStatus
from destconfig.tlsverify.options import check_ca_file, timeout_seconds

if TYPE_CHECKING:
    from destconfig.audit.runner import Audited, Destination
    from destconfig.model import Table

JOBS_MAX = 256


def _jobs(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= JOBS_MAX:
        raise argparse.ArgumentTypeError(f"a number of probes from 1 to {JOBS_MAX}")
    return int(value)


def _port(value: str) -> int:
    from destconfig.tlsverify.probe import parse_port

    try:
        return parse_port(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a port number from 1 to 65535") from None


def _server(value: str) -> tuple[str, int]:
    from destconfig.audit.lookups import parse_server

    try:
        return parse_server(value)
    except ValueError:
        raise argparse.ArgumentTypeError("an address and a port: 127.0.0.1:5353") from None


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    audit = commands.add_parser(
        "audit",
        parents=[common],
        help="check each entry's TLS and DANE against what its domain publishes",
        description="For each entry (or each DEST, under the entry that governs it): probe "
        "its mail exchangers' STARTTLS and certificate as tlsverify does, fetch its MTA-STS "
        "policy and its DANE TLSA records (trusted only when the resolver authenticates "
        "them), and say whether delivery under the entry's settings will queue, is weaker "
        "than what the domain publishes, matches it, or cannot be told. Never sends a "
        "message. Exit status 0 when nothing will queue and nothing is weaker, 1 otherwise, "
        "2 for usage errors.",
    )
    audit.add_argument("destinations", nargs="*", metavar="DEST")
    audit.add_argument("--format", choices=("text", "json"), default="text")
    audit.add_argument(
        "--jobs", type=_jobs, default=8, metavar="N", help="probes at a time (default: 8)"
    )
    audit.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=10.0,
        metavar="SECONDS",
        help="time limit of each network step (default: 10)",
    )
    audit.add_argument(
        "--ca-file", type=Path, help="trust the authorities in this PEM file (SMTP and HTTPS)"
    )
    audit.add_argument(
        "--dns-server",
        type=_server,
        metavar="HOST:PORT",
        help="send every DNS query to this server (a validating resolver)",
    )
    audit.add_argument(
        "--sts-port", type=_port, default=443, metavar="PORT", help="HTTPS port of MTA-STS"
    )
    audit.add_argument(
        "--smtp-port", type=_port, default=25, metavar="PORT", help="SMTP port of the probes"
    )
    audit.set_defaults(run=run_audit)


def destinations(table: Table, names: list[str]) -> list[Destination]:
    """The entries in LIST order, or each named DEST under the entry that governs it."""
    from destconfig.audit.runner import Destination
    from destconfig.destinations import InvalidDestination, normalise
    from destconfig.messages import invalid_recipient
    from destconfig.model import effective
    from destconfig.resolve import resolve

    def made(name: str, domain: str | None, key: str | None) -> Destination:
        entry = None if key is None else table.entries[key]
        values = effective(entry, table.default)
        return Destination(name, domain, values["tls"], values["dane"], key)

    if not names:
        return [made(key, None if key.startswith(".") else key, key) for key in table.sorted_keys()]
    found = []
    for name in names:
        try:
            if name.strip().startswith("."):  # a pattern: its own entry, if it has one
                key = normalise(name)
                found.append(made(key, None, key if key in table.entries else None))
                continue
            resolution = resolve(table, name)
        except InvalidDestination:
            raise CommandError(invalid_recipient(name), ExitStatus.USAGE) from None
        found.append(made(name.strip(), resolution.domain, resolution.key))
    return found


def run_audit(args: argparse.Namespace, ctx: Context) -> int:
    from destconfig.audit.findings import Finding
    from destconfig.audit.runner import Options, audit_all

    if args.ca_file is not None:
        problem = check_ca_file(args.ca_file)
        if problem is not None:
            raise CommandError(escape(problem), ExitStatus.USAGE)
    table = ctx.load()
    chosen = destinations(table, args.destinations)
    options = Options(
        timeout=args.timeout,
        jobs=args.jobs,
        ca_file=args.ca_file,
        dns_server=args.dns_server,
        sts_port=args.sts_port,
        smtp_port=args.smtp_port,
    )
    titles = [_title(len(chosen))] * max(len(chosen), 1)
    with ctx.steps(titles) as (shown, steps):
        steps.show()
        results = audit_all(chosen, options, done=steps.next)
    _write(results, args.format, shown)
    failing = {Finding.WILL_QUEUE, Finding.WEAKER}
    if any(result.judgement.finding in failing for result in results):
        return ExitStatus.REFUSED
    return ExitStatus.OK


def _title(count: int) -> str:
    """The progress bar's title."""
    return f"Auditing {count} {'destination' if count == 1 else 'destinations'}"


def _write(results: list[Audited], fmt: str, ctx: Context) -> None:
    from destconfig.audit import report

    if fmt == "json":
        from destconfig.tlsverify.report import json_text

        ctx.out.write(json_text(report.document(results)) + "\n")
    elif ctx.env.color and results:
        from destconfig.terminal_views import table

        cells, styles = report.rows(results)
        ctx.out.write(table(report.HEAD, cells, ctx.env.columns, row_styles=styles) + "\n")
        ctx.out.write(report.summary(results) + "\n")
    else:
        ctx.out.write(report.text(results))
