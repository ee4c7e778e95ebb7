"""``resolve``: which entry applies to a recipient, why, and what it sets."""

from __future__ import annotations

import argparse
from typing import Any

from destconfig import words
from destconfig.commands.context import Context, effective_values
from destconfig.console import escape
from destconfig.destinations import InvalidDestination
from destconfig.exitstatus import ExitStatus
from destconfig.messages import invalid_recipient
from destconfig.model import Table, Tls
from destconfig.render.detail import render_default, render_entry
from destconfig.render.listing import DEFAULT_ROW, aligned
from destconfig.resolve import Match, Resolution, resolve

_WHY = {Match.EXACT: "exact entry", Match.PATTERN: "nearest pattern", Match.DEFAULT: "no entry"}


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "resolve",
        parents=[common],
        help="show the entry that applies to recipients",
        description="For each address or domain: the entry that applies (the exact entry, "
        "else the nearest .parent pattern, else the default entry) and every setting in "
        "effect. Exit status 1 when a recipient is not a valid address or domain.",
    )
    parser.add_argument("recipients", nargs="+", metavar="RECIPIENT")
    parser.add_argument("--format", choices=("text", "table", "json"), default="text")
    parser.set_defaults(run=run_resolve)


def _block(table: Table, found: Resolution) -> str:
    key = found.key
    head = f"{escape(found.recipient)}: {key or DEFAULT_ROW} ({_WHY[found.match]})"
    if key is None:
        return head + "\n" + render_default(table.default)
    return head + "\n" + render_entry(key, table.entries[key], table.default)


def _document(table: Table, found: Resolution) -> dict[str, Any]:
    return {
        "recipient": found.recipient,
        "domain": found.domain,
        "entry": found.key,
        "match": found.match.value,
        "effective": effective_values(table, found.key),
    }


def _rows(table: Table, results: list[Resolution]) -> str:
    rows = [("RECIPIENT", "DOMAIN", "ENTRY", "MATCH", "TLS")]
    for found in results:
        tls = Tls(effective_values(table, found.key)["tls"])
        rows.append(
            (
                escape(found.recipient),
                found.domain,
                found.key or DEFAULT_ROW,
                found.match.value,
                words.TLS[tls],
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(aligned(row, widths) for row in rows)


def run_resolve(args: argparse.Namespace, ctx: Context) -> int:
    table = ctx.load()
    results: list[Resolution] = []
    status = ExitStatus.OK
    for recipient in args.recipients:
        try:
            results.append(resolve(table, recipient))
        except InvalidDestination:
            ctx.error(invalid_recipient(recipient))
            status = ExitStatus.REFUSED
    if args.format == "json":
        ctx.document({"resolutions": [_document(table, found) for found in results]}, "json")
    elif args.format == "table":
        if results:
            ctx.out.write(_rows(table, results) + "\n")
    else:
        ctx.out.write(
            "\n\n".join(_block(table, found) for found in results) + "\n" if results else ""
        )
    return status
