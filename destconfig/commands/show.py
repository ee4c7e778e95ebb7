"""``list`` and ``detail``: the shell's LIST and DETAIL, as text or as data."""

from __future__ import annotations

import argparse
from typing import Any

from destconfig import operations
from destconfig.commands.context import Context, effective_values, table_document
from destconfig.commands.options import destination_or_word
from destconfig.exitstatus import ExitStatus
from destconfig.model import Table
from destconfig.render.listing import DEFAULT_ROW, render_list

FORMATS = ("text", "json", "toml")


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    listing = commands.add_parser(
        "list",
        parents=[common],
        help="print the summary table (the shell's LIST)",
        description="Print the committed table: as the shell's LIST, or as a JSON or TOML "
        "document (the schema of config.toml).",
    )
    listing.add_argument("--format", choices=FORMATS, default="text")
    listing.set_defaults(run=run_list)
    detail = commands.add_parser(
        "detail",
        parents=[common],
        help="print the details of an entry, the default, or all",
        description="Print the details of one destination, of the default entry (default), "
        "or of every entry then the default (all), as the shell's DETAIL or as data.",
    )
    detail.add_argument("target", type=destination_or_word, metavar="DEST|default|all")
    detail.add_argument("--format", choices=FORMATS, default="text")
    detail.set_defaults(run=run_detail)


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    table = ctx.load()
    if args.format == "text":
        ctx.out.write(render_list(table) + "\n")
    else:
        ctx.document(table_document(table), args.format)
    return ExitStatus.OK


def _details(table: Table, key: str | None) -> dict[str, Any]:
    """One destination's own settings (absent: Default) and what applies to it."""
    entry = None if key is None else table.entries[key]
    own = (
        table.default.model_dump(mode="json", exclude_none=True)
        if entry is None
        else entry.model_dump(mode="json", exclude_none=True)
    )
    applied = {
        name: value for name, value in effective_values(table, key).items() if value is not None
    }
    return {
        "destination": DEFAULT_ROW if key is None else key,
        "settings": own,
        "effective": applied,
    }


def run_detail(args: argparse.Namespace, ctx: Context) -> int:
    table = ctx.load()
    try:
        shown = operations.detail(table, args.target)
    except operations.Refused as refusal:
        ctx.error(refusal.message)
        return ExitStatus.REFUSED
    if args.format == "text":
        ctx.out.write(operations.detail_text(table, shown) + "\n")
    else:
        ctx.document({"details": [_details(table, key) for key in shown.keys]}, args.format)
    return ExitStatus.OK
