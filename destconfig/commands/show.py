"""``list`` and ``detail``: the shell's LIST and DETAIL, as text or as data."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from destconfig import operations
from destconfig.commands.context import Context, effective_values, table_document
from destconfig.commands.options import destination_or_word
from destconfig.destinations import unicode_form
from destconfig.exitstatus import ExitStatus
from destconfig.model import UNWRITTEN_DEFAULTS, Table
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
    elif args.format == "json":
        ctx.document(list_document(table), "json")
    else:
        ctx.document(table_document(table), args.format)
    return ExitStatus.OK


def list_document(table: Table) -> dict[str, Any]:
    """The configuration's document and, when some keys have one, ``unicode``: each such
    key's Unicode form (``{"xn--bcher-kva.example": "bücher.example"}``).

    Without such keys it is the document ``export --format json`` writes; with them it
    is described by ``schema/list.schema.json``, and import reads past ``unicode``.
    """
    document = table_document(table)
    forms = _unicode_forms(document["entries"])
    if forms:
        document["unicode"] = forms
    return document


def _unicode_forms(keys: Iterable[str]) -> dict[str, str]:
    """The Unicode forms of the keys that have one."""
    return {key: form for key in keys if (form := unicode_form(key)) is not None}


def list_schema() -> dict[str, Any]:
    """The JSON Schema of ``list --format json``: the table's, and ``unicode``."""
    from destconfig.formats import json as json_format

    schema = json_format.schema()
    schema["title"] = "destconfig list"
    schema["description"] = (
        "The configuration, as config.toml and export hold it, and the Unicode forms of its "
        "international names. Import reads past unicode: a listed document imports as its "
        "table."
    )
    schema["properties"]["unicode"] = {
        "additionalProperties": {"type": "string"},
        "description": "Each key with xn-- labels that has a Unicode form, and that form "
        "(bücher.example for xn--bcher-kva.example); absent when no key has one.",
        "title": "Unicode",
        "type": "object",
    }
    return schema


def list_schema_text() -> str:
    """The shipped file's text. Regenerate with ``python -c "import sys; from
    destconfig.commands.show import list_schema_text as t; sys.stdout.write(t())"
    > destconfig/schema/list.schema.json``."""
    return json.dumps(list_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _details(table: Table, key: str | None) -> dict[str, Any]:
    """One destination's own settings (absent: Default) and what applies to it."""
    entry = None if key is None else table.entries[key]
    if entry is None:
        # Every value of the default entry, also those its documents leave out at factory.
        values = table.default.__dict__
        own = table.default.model_dump(mode="json", exclude_none=True)
        own.update({name: values[name].value for name in UNWRITTEN_DEFAULTS})
    else:
        own = entry.model_dump(mode="json", exclude_none=True)
    applied = {
        name: value for name, value in effective_values(table, key).items() if value is not None
    }
    details: dict[str, Any] = {"destination": DEFAULT_ROW if key is None else key}
    form = None if key is None else unicode_form(key)
    if form is not None:
        details["unicode"] = form
    details["settings"] = own
    details["effective"] = applied
    return details


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
