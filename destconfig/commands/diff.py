"""``diff``: two configurations compared entry by entry, field by field."""

from __future__ import annotations

import argparse

from destconfig.commands.context import Context
from destconfig.commands.files import read_table_file
from destconfig.console import escape
from destconfig.exitstatus import ExitStatus
from destconfig.model import Table
from destconfig.tablediff import diff, diff_document, render_diff

CURRENT = "current"


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "diff",
        parents=[common],
        help="compare two tables (files, or current)",
        description="Compare two tables: table files of any format (by suffix), or the word "
        "current for the committed configuration. Exit status 0 when they are equal, 1 when "
        "they differ.",
    )
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run_diff)


def _table(name: str, ctx: Context) -> tuple[Table, bool]:
    """The table named, and whether its format holds the whole configuration."""
    if name == CURRENT:
        return ctx.load(), True
    table, fmt = read_table_file(name, None, ctx.env.stdin, importing=False)
    return table, fmt.full


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    (a, a_full), (b, b_full) = _table(args.a, ctx), _table(args.b, ctx)
    # An appliance table file holds no settings: compare the destination table only.
    difference = diff(a, b, whole=a_full and b_full)
    if args.format == "json":
        ctx.document(diff_document(difference), "json")
    elif not difference.empty:
        text = render_diff(difference, escape(args.a), escape(args.b))
        if ctx.env.color:
            from destconfig.terminal_views import colored_diff

            text = colored_diff(text, ctx.env.columns)
        ctx.out.write(text + "\n")
    return ExitStatus.OK if difference.empty else ExitStatus.DIFFERENT
