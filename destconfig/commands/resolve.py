"""``resolve``: which entry applies to a recipient, why, and what it sets."""

from __future__ import annotations

import argparse
from typing import Any

from destconfig import settings, words
from destconfig.commands.context import Context, effective_values
from destconfig.console import escape
from destconfig.destinations import InvalidDestination, unicode_form
from destconfig.exitstatus import ExitStatus
from destconfig.messages import invalid_recipient
from destconfig.model import Dane, Table, Tls
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


def _named(key: str) -> str:
    """A stored name, and its Unicode form in parentheses when it has one:
    ``xn--bcher-kva.example (bücher.example)``."""
    form = unicode_form(key)
    return key if form is None else f"{key} ({escape(form)})"


_DANE = settings.BY_NAME["dane"]
_TLS = settings.BY_NAME["tls"]


def _with_dane(block: str, table: Table, key: str | None) -> str:
    """A DETAIL block with release 13's DANE line after the TLS line, when DANE applies
    (not No): a table without DANE resolves as it always did."""
    default = table.default.dane
    own = None if key is None else table.entries[key].dane
    if (default if own is None else own) is Dane.NO or _DANE.line is None:
        return block
    if key is None or own is not None:
        shown = _DANE.values.show(default if own is None else own)
    else:
        shown = f"Default ({_DANE.values.show(default)})"
    lines = block.split("\n")
    label = f"    {_DANE.line.label}:"
    if any(line.startswith(label) for line in lines):
        return block  # (release 13's DETAIL shows it already)
    tls_label = None if _TLS.line is None else f"    {_TLS.line.label}:"
    # Right after the TLS line; at the end should DETAIL ever show none.
    after = (i + 1 for i, line in enumerate(lines) if tls_label and line.startswith(tls_label))
    at = next(after, len(lines))
    lines.insert(at, label.ljust(36) + " " + shown)
    return "\n".join(lines)


def _block(table: Table, found: Resolution) -> str:
    key = found.key
    named = DEFAULT_ROW if key is None else _named(key)
    head = f"{escape(found.recipient)}: {named} ({_WHY[found.match]})"
    if key is None:
        block = render_default(table.default)
    else:
        block = render_entry(key, table.entries[key], table.default)
    return head + "\n" + _with_dane(block, table, key)


def _document(table: Table, found: Resolution) -> dict[str, Any]:
    """A resolution as data; ``domain_unicode`` and ``entry_unicode`` only for names that
    have a Unicode form (:func:`~destconfig.destinations.unicode_form`)."""
    document: dict[str, Any] = {"recipient": found.recipient, "domain": found.domain}
    _add_form(document, "domain_unicode", found.domain)
    document["entry"] = found.key
    if found.key is not None:
        _add_form(document, "entry_unicode", found.key)
    document["match"] = found.match.value
    document["effective"] = effective_values(table, found.key)
    return document


def _add_form(document: dict[str, Any], member: str, key: str) -> None:
    form = unicode_form(key)
    if form is not None:
        document[member] = form


_HEAD = ("RECIPIENT", "DOMAIN", "ENTRY", "MATCH", "TLS")
_DANE_HEAD = "DANE"


_Row = tuple[str, ...]


def _cells(table: Table, results: list[Resolution]) -> tuple[_Row, list[_Row]]:
    """The head and rows; a DANE column only when the DANE that applies to some recipient
    is not No, as the text shows its line (a table without DANE resolves as before)."""
    rows: list[tuple[str, ...]] = []
    danes: list[Dane] = []
    for found in results:
        values = effective_values(table, found.key)
        danes.append(Dane(values["dane"]))
        rows.append(
            (
                escape(found.recipient),
                _named(found.domain),
                DEFAULT_ROW if found.key is None else _named(found.key),
                found.match.value,
                words.TLS[Tls(values["tls"])],
            )
        )
    if all(dane is Dane.NO for dane in danes):
        return _HEAD, rows
    shown = [(*row, _DANE.values.show(dane)) for row, dane in zip(rows, danes, strict=True)]
    return (*_HEAD, _DANE_HEAD), shown


def _rows(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """The table as aligned text (what a pipe gets)."""
    lines = [head, *rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(head))]
    return "\n".join(aligned(line, widths) for line in lines)


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
            head, rows = _cells(table, results)
            if ctx.env.color:
                from destconfig.terminal_views import table as drawn

                ctx.out.write(drawn(head, rows, ctx.env.columns) + "\n")
            else:
                ctx.out.write(_rows(head, rows) + "\n")
    else:
        ctx.out.write(
            "\n\n".join(_block(table, found) for found in results) + "\n" if results else ""
        )
    return status
