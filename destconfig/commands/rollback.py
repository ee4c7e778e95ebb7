"""``rollback``: list the earlier configurations, commit one of them, or set how many are kept.

The list is the shell's ``rollbackconfig``'s (the store's copies, the one renderer).
A rollback commits at once under the home's lock, through the tail the other change
commands share (:func:`destconfig.commands.changes.show_or_commit`). It reads the copy
chosen and does not need ``config.toml`` to be a valid configuration: a damaged one can
be rolled back from (and is itself kept whole, unless ``--no-rollback``). A dry run
shows the change, so it needs the committed table.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from destconfig import operations
from destconfig.cluster.home import is_member
from destconfig.commands.changes import apply, show_or_commit
from destconfig.commands.context import CommandError, Context
from destconfig.exitstatus import ExitStatus
from destconfig.messages import NOTHING_TO_ROLL_BACK, no_such_rollback, rollback_kept
from destconfig.store import ROLLBACK_KEEP, ROLLBACK_KEEP_MAX, RollbackCopy, StoreError

if TYPE_CHECKING:
    from destconfig.model import Table

_DIGITS = re.compile(r"[0-9]{1,9}")


def rollback_number(text: str) -> int:
    """N: a configuration's number in the list, from 1."""
    word = text.strip()
    if not _DIGITS.fullmatch(word) or int(word) == 0:
        raise argparse.ArgumentTypeError(
            f"bad number {text!r}; N is a number in the list, from 1 (the newest)"
        )
    return int(word)


def keep_count(text: str) -> int:
    word = text.strip()
    if not _DIGITS.fullmatch(word) or not 1 <= int(word) <= ROLLBACK_KEEP_MAX:
        raise argparse.ArgumentTypeError(
            f"bad value {text!r}; K is a whole number from 1 to {ROLLBACK_KEEP_MAX}"
        )
    return int(word)


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "rollback",
        parents=[common],
        help="list the earlier configurations, or commit one of them",
        description="Without N, list the configurations kept by earlier commits, newest "
        "first, each with the time and comment of the commit that made it (the shell's "
        "rollbackconfig). With N, commit configuration N of that list at once.",
    )
    parser.add_argument(
        "number",
        nargs="?",
        type=rollback_number,
        metavar="N",
        help="the configuration to commit: its number in the list (1 is the newest)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the configurations (what no N does)"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default=None,
        help="the list (or, with N and --dry-run, the change) as text or as JSON (default: "
        "text); with --keep and --list, the JSON document has keep and removed too",
    )
    parser.add_argument(
        "--keep",
        type=keep_count,
        metavar="K",
        help=f"keep the newest K copies from now on (1 to {ROLLBACK_KEEP_MAX}, at first "
        f"{ROLLBACK_KEEP}); older ones are removed at once",
    )
    group = parser.add_argument_group("commit (with N)")
    group.add_argument(
        "--comment",
        default=None,
        help="the commit comment (default: rollback to the configuration committed TIME "
        "(COMMENT), as the list shows it)",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="print what would change and commit nothing"
    )
    group.add_argument(
        "--no-rollback",
        action="store_true",
        help="do not keep a rollback copy of the configuration rolled back from",
    )
    parser.set_defaults(run=run_rollback)


def _check_options(args: argparse.Namespace) -> None:
    """Options that do not go together: refused before anything is read or written."""

    def usage(message: str) -> CommandError:
        return CommandError(message, ExitStatus.USAGE)

    if args.number is None and getattr(args, "level", None) is not None:
        raise usage("--level is for a rollback: give the number N (the list is this home's)")
    if args.number is None:
        given = [
            option
            for option, value in (
                ("--comment", args.comment is not None),
                ("--dry-run", args.dry_run),
                ("--no-rollback", args.no_rollback),
            )
            if value
        ]
        if given:
            raise usage(f"{given[0]} is for a rollback: give the number N")
        if args.keep is not None and not args.list and args.format is not None:
            raise usage("--format is for the list and --dry-run: --keep alone prints one line")
        return
    if args.list:
        raise usage("give --list or a number N, not both")
    if args.keep is not None:
        raise usage("--keep goes without N: it may remove the configuration N names")
    if args.format is not None and not args.dry_run:
        raise usage("--format is for the list and --dry-run: a rollback prints one line")


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    _check_options(args)
    if args.number is not None:
        return _roll_back(ctx, args)
    shown = args.format or "text"
    if args.keep is None:
        return _list(ctx, shown)
    try:
        removed = ctx.store.set_rollback_keep(args.keep)
    except StoreError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot keep the setting: {error.strerror}") from None
    if shown == "json":  # what was done goes into the document: the output stays JSON
        return _list(ctx, shown, {"keep": args.keep, "removed": removed})
    ctx.out.write(rollback_kept(args.keep, removed) + "\n")
    return _list(ctx, shown) if args.list else ExitStatus.OK


def _choices(ctx: Context) -> list[RollbackCopy]:
    try:
        return operations.rollback_choices(ctx.store)
    except operations.Refused as refusal:
        raise CommandError(refusal.message, ExitStatus.USAGE) from None


def _document(choices: list[RollbackCopy], head: dict[str, Any]) -> dict[str, Any]:
    def item(number: int, copy: RollbackCopy) -> dict[str, Any]:
        made = "factory" if copy.factory else "unrecorded" if copy.committed is None else "commit"
        return {
            "number": number,
            "made": made,
            "committed": copy.committed,
            "comment": copy.comment if made == "commit" else None,
            "replaced": copy.replaced,
            "file": copy.name,
        }

    items = [item(number, copy) for number, copy in enumerate(choices, 1)]
    return {**head, "configurations": items}


def _list(ctx: Context, shown: str, head: dict[str, Any] | None = None) -> int:
    """The list, as text or as JSON (*head*: what the document says first)."""
    choices = _choices(ctx)
    if shown == "json":
        ctx.document(_document(choices, head or {}), "json")
    elif not choices:
        ctx.out.write(NOTHING_TO_ROLL_BACK + "\n")
    else:
        ctx.out.write(operations.rollback_list_text(choices) + "\n")
    return ExitStatus.OK


def _chosen(ctx: Context, args: argparse.Namespace) -> tuple[RollbackCopy, Table]:
    """Copy N of the list, and its table."""
    choices = _choices(ctx)
    if not 1 <= args.number <= len(choices):
        raise CommandError(no_such_rollback(args.number, len(choices)), ExitStatus.USAGE)
    copy = choices[args.number - 1]
    try:
        return copy, operations.rollback_table(ctx.store, copy)
    except operations.Refused as refusal:
        raise CommandError(refusal.message, ExitStatus.USAGE) from None


def _roll_back(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store.locked():
        copy, table = _chosen(ctx, args)
        comment = args.comment
        if comment is None:
            comment = f"rollback to {operations.describe_rollback(copy)}"
        if ctx.reader is not None or is_member(ctx.store.home):
            return _roll_back_level(ctx, args, table, comment)
        before = _committed_or_none(ctx)
        return show_or_commit(ctx, args, before, table, comment, args.format or "text")


def _roll_back_level(ctx: Context, args: argparse.Namespace, table: Table, comment: str) -> int:
    """In a cluster home: copy N's table committed to a level of the repository (``--level``,
    else the cluster level), as every change command there, then applied to the home. A
    rollback of the home alone would be undone by the next ``cluster apply``; the shell's
    ``rollbackconfig`` makes the same table its mode's level's pending change."""
    args.change_format = args.format or "text"
    args.command_line = f"rollback {args.number}"  # the commit's subject without a comment
    return apply(ctx, args, lambda _level_table: table, comment)


def _committed_or_none(ctx: Context) -> Table | None:
    """The committed table, or ``None`` when it cannot be read: a damaged configuration
    is what a rollback is for (it is kept as a copy, unless --no-rollback)."""
    try:
        return ctx.store.load()
    except StoreError:
        return None
