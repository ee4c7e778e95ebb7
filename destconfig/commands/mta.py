"""``export``/``import`` ``--format postfix`` and ``export --format kumomta``.

Postfix's configuration is four files in a directory, KumoMTA's one shaping file;
neither is one of the table's own formats (which read back whole), so the file
commands hand them over here. A setting the MTA cannot hold is reported as
``destconfig: warning: KEY: SETTING: REASON``; with ``--strict`` any such loss
writes nothing and exits 1.
"""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Callable
from pathlib import Path

from destconfig import operations
from destconfig.commands.context import CommandError, Context
from destconfig.console import escape
from destconfig.exitstatus import ExitStatus
from destconfig.formats import kumomta, postfix
from destconfig.formats.limits import MAX_FILE_BYTES
from destconfig.formats.problems import Problem
from destconfig.messages import TABLE_NOT_CHANGED, error_lines
from destconfig.model import Table
from destconfig.safeio import NotAFile, open_regular, read_descriptor, write_file

EXPORTED = ("postfix", "kumomta")
IMPORTED = ("postfix",)
MAP_MODE = 0o644  # Postfix's delivery agents read the maps as its own user


def _report(ctx: Context, lines: list[str], strict: bool) -> None:
    """Each loss as ``destconfig: warning: ...`` (one write: there may be very many)."""
    ctx.error_lines(lines, lead="warning: ")
    if strict and lines:
        raise CommandError(
            f"--strict: {len(lines)} setting{'s' if len(lines) != 1 else ''} would not be kept "
            "exactly; nothing was written"
        )


def _first_line(path: Path) -> bytes | None:
    """The start of an existing regular file (``None`` when there is none)."""
    try:
        descriptor, _status = open_regular(path)
    except FileNotFoundError:
        return None
    try:
        return read_descriptor(descriptor, 256)
    finally:
        os.close(descriptor)


def _may_replace(path: Path, force: bool) -> bool:
    """Whether *path* may be written: absent, written by an export, or ``--force``."""
    try:
        start = _first_line(path)
    except IsADirectoryError:
        raise CommandError(f"cannot write {escape(str(path))}: it is a directory") from None
    except NotAFile:
        raise CommandError(f"cannot write {escape(str(path))}: not a regular file") from None
    except OSError as error:
        raise CommandError(f"cannot read {escape(str(path))}: {error.strerror}") from None
    if start is None:
        return False
    if not (postfix.written_here(start) or start.startswith(kumomta.HEADER.encode()) or force):
        raise CommandError(
            f"{escape(str(path))} exists and was not written by destconfig: give --force to "
            "replace it"
        )
    return True


def _write(path: Path, data: bytes, replace: bool) -> None:
    try:
        write_file(path, data, replace=replace, mode=MAP_MODE)
    except FileExistsError:
        raise CommandError(
            f"cannot write {escape(str(path))}: a file of that name appeared meanwhile"
        ) from None
    except OSError as error:
        raise CommandError(f"cannot write {escape(str(path))}: {error.strerror}") from None


def run_export(args: argparse.Namespace, ctx: Context, table: Table) -> int:
    if args.file == "-":
        raise CommandError(
            f"--format {args.format} writes files, not standard output", ExitStatus.USAGE
        )
    target = Path(args.file)
    if args.format == "kumomta":
        data, losses = kumomta.render(table)
        _report(ctx, [str(loss) for loss in losses], args.strict)
        _write(target, data, _may_replace(target, args.force))
        return ExitStatus.OK
    directory = target.absolute()
    exported = postfix.render(table, str(directory), args.map_type)
    _report(ctx, exported.loss_lines(), args.strict)
    try:
        directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot make {escape(str(directory))}: {error.strerror}") from None
    # Every file is checked before any is written: a refusal writes none.
    replacing = {name: _may_replace(directory / name, args.force) for name in postfix.FILES}
    for name in postfix.FILES:
        _write(directory / name, exported.files[name], replacing[name])
    return ExitStatus.OK


def _read(path: Path) -> bytes | None:
    try:
        descriptor, _status = open_regular(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        reason = "not a regular file" if isinstance(error, NotAFile) else error.strerror
        raise CommandError(f"cannot read {escape(str(path))}: {reason}") from None
    try:
        return read_descriptor(descriptor, MAX_FILE_BYTES + 1)
    finally:
        os.close(descriptor)


def read_postfix(name: str, ctx: Context) -> tuple[Table, bool]:
    """The table a Postfix export directory holds, and whether it is whole (its comments
    carry the settings); warnings go to standard error. Problems: exit 1, nothing read."""
    directory = Path(name)
    if not directory.is_dir():
        error = errno.ENOTDIR if directory.exists() else errno.ENOENT
        raise CommandError(f"cannot read {escape(name)}: {os.strerror(error)}")
    data = {each: _read(directory / each) for each in postfix.FILES}
    try:
        imported = postfix.parse(data, str(directory.absolute()))
    except postfix.PostfixError as error:
        lines = []
        for each, problems in error.problems.items():
            lines += error_lines(escape(str(directory / each)), problems)
        lines.append(TABLE_NOT_CHANGED)
        raise CommandError("\n".join(lines)) from None
    for warning in imported.warnings:
        ctx.error(f"warning: {escape(warning)}")
    return imported.table, imported.whole


def import_change(
    args: argparse.Namespace, loaded: Table, whole: bool, shown: str
) -> Callable[[Table], Table]:
    """The import of *loaded* (read from *shown*, escaped) as a change: replacing the
    table, or merged into it, for every format."""

    def change(table: Table) -> Table:
        if not args.merge:
            return operations.imported(table, loaded, full=whole)
        try:
            return operations.merged(table, loaded, replace_default=args.replace_default)
        except operations.Refused as refusal:
            # Worded as a plain import of a file that breaks the rule is; the rule is
            # broken by the table and the file together, at no one line.
            raise operations.file_refused(shown, [Problem(None, refusal.message)]) from None

    return change
