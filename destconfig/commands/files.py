"""``import`` and ``export``: table files at any path the user names (or ``-``)."""

from __future__ import annotations

import argparse
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import destconfig.commands.mta as mta
from destconfig import formats, operations
from destconfig.commands.changes import apply, comment_of, commit_options
from destconfig.commands.context import CommandError, Context
from destconfig.console import escape
from destconfig.exitstatus import ExitStatus
from destconfig.formats import Format, postfix
from destconfig.formats.limits import MAX_FILE_BYTES
from destconfig.model import Table
from destconfig.safeio import NotAFile, read_descriptor, write_file

STDIO = "-"
STDIN_NAME = "<stdin>"  # how messages name standard input
# An import of a file this large, or an export of a table this large, takes a second or
# more: at a terminal it shows a progress bar on standard error.
LARGE_FILE = 8 * 1024 * 1024
LARGE_TABLE = 50_000


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    names = sorted(formats.formats())
    load = commands.add_parser(
        "import",
        parents=[common],
        help="import a table file and commit it",
        description="Import a table file (any path, or - for standard input) and commit it. "
        "The format is --format, else the file's suffix (.toml, .json), else esa. Without "
        "--merge the file replaces the table, as the shell's IMPORT does. With --format "
        "postfix, FILE is the directory of a Postfix export.",
    )
    load.add_argument("file", metavar="FILE")
    load.add_argument("--format", choices=sorted((*names, *mta.IMPORTED)), help="the file's format")
    load.add_argument(
        "--merge", action="store_true", help="add and replace the file's entries, keep the others"
    )
    load.add_argument(
        "--replace-default",
        action="store_true",
        help="with --merge, take the file's default entry too",
    )
    commit_options(load, dry_run_format=False)
    load.set_defaults(run=run_import)
    save = commands.add_parser(
        "export",
        parents=[common],
        help="write the committed table to a file",
        description="Write the committed table to a new FILE (an existing one only with "
        "--force) or to standard output (-). The format is --format, else the file's suffix "
        "(.toml, .json), else esa. --format postfix writes the four files of a Postfix "
        "configuration into the directory FILE; --format kumomta a KumoMTA shaping file. "
        "What they cannot hold is reported on standard error.",
    )
    save.add_argument("file", metavar="FILE|-")
    save.add_argument("--format", choices=sorted((*names, *mta.EXPORTED)), help="the file's format")
    save.add_argument(
        "--force",
        action="store_true",
        help="replace FILE if it exists (only a regular file is replaced; it keeps its mode)",
    )
    save.add_argument(
        "--map-type",
        choices=postfix.MAP_TYPES,
        default="hash",
        help="--format postfix: the type of the maps main.cf names (default: %(default)s)",
    )
    save.add_argument(
        "--strict",
        action="store_true",
        help="--format postfix or kumomta: write nothing, and exit 1, if any setting would "
        "not be kept exactly",
    )
    save.set_defaults(run=run_export)


def format_of(name: str, chosen: str | None) -> Format:
    return formats.formats()[chosen] if chosen else formats.for_name(name)


def read_table_file(
    name: str,
    chosen: str | None,
    stdin: BinaryIO,
    *,
    importing: bool = True,
    on_read: Callable[[int], None] | None = None,
) -> tuple[Table, Format]:
    """Read and parse a table file, and say its format; problems become a :class:`CommandError`.

    The format is *chosen*, else the name's suffix, else (standard input, which has
    no name) what the text shows. Messages name standard input ``<stdin>``. When
    *importing*, the errors end with the shell's note that the table was not changed
    (exit 1); otherwise (``diff``) a file that cannot be read is trouble (exit 2).
    *on_read* is told the size of the text read, before it is parsed.
    """
    status = ExitStatus.REFUSED if importing else ExitStatus.USAGE
    shown = STDIN_NAME if name == STDIO else escape(name)
    try:
        data = stdin.read(MAX_FILE_BYTES + 1) if name == STDIO else _read_named(name)
    except OSError as error:
        raise CommandError(f"cannot read {shown}: {error.strerror}", status) from None
    if on_read is not None:
        on_read(len(data))
    fmt = formats.for_text(data) if chosen is None and name == STDIO else format_of(name, chosen)
    try:
        return operations.read_import(data, fmt, shown, importing=importing), fmt
    except operations.Refused as refusal:
        raise CommandError(refusal.message, status) from None


def _read_named(name: str) -> bytes:
    """A file's bytes, at most one past the limit: a regular file, or a pipe the user
    named (``<(command)``); a device (``/dev/zero``) or a directory is refused unread."""
    descriptor = os.open(name, os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            raise NotAFile(name)
        return read_descriptor(descriptor, MAX_FILE_BYTES)
    finally:
        os.close(descriptor)


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    if args.replace_default and not args.merge:
        raise CommandError("--replace-default goes with --merge", ExitStatus.USAGE)
    if args.format in mta.IMPORTED:
        loaded, whole = mta.read_postfix(args.file, ctx)
        change = mta.import_change(args, loaded, whole, escape(args.file))
        return apply(ctx, args, change, comment_of(args, ["import", args.file]))
    shown = STDIN_NAME if args.file == STDIO else escape(args.file)
    last = "comparing" if args.dry_run else "committing"
    with ctx.steps([f"reading {shown}", last]) as (watched, steps):

        def shown_if_large(size: int) -> None:
            if size >= LARGE_FILE:
                steps.show()

        loaded, fmt = read_table_file(args.file, args.format, ctx.env.stdin, on_read=shown_if_large)
        steps.next()

        change = mta.import_change(args, loaded, fmt.full, shown)
        return apply(watched, args, change, comment_of(args, ["import", args.file]))


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    if args.format in mta.EXPORTED:
        return mta.run_export(args, ctx, ctx.load())
    if args.strict or args.map_type != "hash":
        raise CommandError(
            "--strict and --map-type are for --format postfix or kumomta", ExitStatus.USAGE
        )
    fmt = format_of(args.file, args.format)
    table = ctx.load()
    titles = ["formatting"]
    if args.file != STDIO:
        titles.append(f"writing {escape(args.file)}")
    with ctx.steps(titles) as (watched, steps):
        if len(table.entries) >= LARGE_TABLE:
            steps.show()
        data = fmt.dumps(table)
        if args.file == STDIO:
            watched.out.write(data.decode("utf-8"))  # the bar goes first
            return ExitStatus.OK
        steps.next()
        _write(args, data)
    return ExitStatus.OK


def _write(args: argparse.Namespace, data: bytes) -> None:
    """Write the export to the file named (``--force``: replacing it)."""
    try:
        write_file(Path(args.file), data, replace=args.force)
    except FileExistsError:
        if args.force:  # made by someone else between the look and the write
            raise CommandError(
                f"cannot write {escape(args.file)}: a file of that name appeared meanwhile"
            ) from None
        raise CommandError(f"{escape(args.file)} exists: give --force to replace it") from None
    except OSError as error:
        raise CommandError(f"cannot write {escape(args.file)}: {error.strerror}") from None
