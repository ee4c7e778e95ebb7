"""``tlsverify``: probe a destination's mail server and judge it under the committed table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from destconfig.commands.context import CommandError, Context
from destconfig.console import escape
from destconfig.dialogue.questions import Invalid
from destconfig.exitstatus import ExitStatus
from destconfig.tlsverify.options import TLS_TIMEOUT, check_ca_file, timeout_seconds

if TYPE_CHECKING:
    from destconfig.model import Tls
    from destconfig.tlsverify.decision import Facts


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    check = commands.add_parser(
        "tlsverify",
        parents=[common],
        help="check a destination's TLS against its mail server",
        description="Connect to the domain's mail server (HOST, else its mail exchangers), "
        "negotiate STARTTLS, verify the certificate, and say what delivery under the "
        "committed entry that governs the domain would do. Never sends a message. "
        "Exit status 0 when delivery would go ahead, 1 when it would not, 2 for usage errors.",
    )
    check.add_argument("domain", metavar="DOMAIN")
    check.add_argument("host", nargs="?", metavar="HOST[:PORT]")
    check.add_argument(
        "--ca-file", type=Path, help="trust the authorities in this PEM file, not the system's"
    )
    check.add_argument(
        "--all-settings", action="store_true", help="also the outcome under each of the six"
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=TLS_TIMEOUT,
        metavar="SECONDS",
        help="time limit of each network step; one host gets three times that in all "
        "(default: %(default)s)",
    )
    check.set_defaults(run=run_tlsverify)


def run_tlsverify(args: argparse.Namespace, ctx: Context) -> int:
    from destconfig.shell.tlsverify import parse_domain, parse_host_port
    from destconfig.tlsverify.check import run_check
    from destconfig.tlsverify.report import document, json_text, policy_block, settings_table

    try:
        domain = parse_domain(args.domain)
        target = parse_host_port(args.host) if args.host is not None else None
    except Invalid as invalid:
        raise CommandError(invalid.message, ExitStatus.USAGE) from None
    if args.ca_file is not None:
        problem = check_ca_file(args.ca_file)
        if problem is not None:
            raise CommandError(escape(problem), ExitStatus.USAGE)
    table = ctx.load()
    text = args.format == "text"

    def log(line: str) -> None:
        if text:
            ctx.out.write(escape(line) + "\n")
            ctx.out.flush()

    verdict = run_check(
        table,
        domain,
        target,
        log=log,
        timeout=args.timeout,
        ca_file=args.ca_file,
        network=ctx.env.network,
    )
    if text:  # the block and the table come escaped (see report)
        ctx.out.write("\n" + policy_block(verdict.key, verdict.setting, verdict.facts) + "\n")
        if args.all_settings and ctx.env.color:
            ctx.out.write("\n" + _drawn_settings(verdict.facts, verdict.setting, ctx) + "\n")
        elif args.all_settings:
            ctx.out.write("\n" + settings_table(verdict.facts, verdict.setting) + "\n")
    else:
        found = document(
            verdict.key, verdict.setting, verdict.facts, verdict.log, all_settings=args.all_settings
        )
        ctx.out.write(json_text(found) + "\n")  # not ctx.document: the server's text is escaped
    return ExitStatus.OK if verdict.outcome.goes_ahead else ExitStatus.REFUSED


def _drawn_settings(facts: Facts, setting: Tls, ctx: Context) -> str:
    """``--all-settings`` at a terminal: the governing setting's row in bold, each outcome
    green where delivery goes ahead and red where the message would stay queued."""
    from destconfig import words
    from destconfig.terminal_views import table
    from destconfig.tlsverify.decision import outcomes

    rows, styles = [], []
    for each, found in outcomes(facts).items():
        rows.append(("*" if each is setting else "", words.TLS[each], escape(found.text)))
        colour = "green" if found.goes_ahead else "red"
        styles.append(f"bold {colour}" if each is setting else colour)
    return table(("", "TLS setting", "Delivery"), rows, ctx.env.columns, row_styles=styles)
