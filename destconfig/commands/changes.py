"""``new``, ``edit``, ``delete``, ``default``, ``setup``, ``clear``: one change, committed.

Each reads the committed table, makes the change, and commits it at once under
the home's lock (the same lock and atomic write as the shell's ``commit``), or
with ``--dry-run`` prints what would change and commits nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from destconfig import operations
from destconfig.cluster.home import is_member
from destconfig.commands.context import CommandError, Context
from destconfig.commands.options import (
    add_setting_options,
    changed_default,
    changed_entry,
    destination,
    given,
)
from destconfig.commands.release import add_release_option, keep_release
from destconfig.exitstatus import ExitStatus
from destconfig.messages import DEMO_CERTIFICATE_NOTE, NOTHING_TO_COMMIT, committed
from destconfig.model import DEMO_CERTIFICATE, Settings, Table
from destconfig.store import format_time
from destconfig.tablediff import diff, diff_document, render_diff

Change = Callable[[Table], Table]


def commit_options(parser: argparse.ArgumentParser, *, dry_run_format: bool = True) -> None:
    """The options of a command that commits; *dry_run_format*: ``--format`` chooses how
    ``--dry-run`` shows the change (import's ``--format`` is its file's)."""
    group = parser.add_argument_group("commit")
    group.add_argument("--comment", default=None, help="the commit comment (default: the command)")
    group.add_argument(
        "--dry-run", action="store_true", help="print what would change and commit nothing"
    )
    if dry_run_format:
        group.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            dest="change_format",
            help="with --dry-run: the change as text or as JSON, as diff gives them "
            "(default: %(default)s)",
        )
    group.add_argument(
        "--no-rollback",
        action="store_true",
        help="do not keep a rollback copy of the configuration before the change",
    )


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    new = commands.add_parser(
        "new",
        parents=[common],
        help="create an entry",
        description="Create an entry; settings not given stay at Default.",
    )
    new.add_argument("dest", type=destination, metavar="DEST")
    add_setting_options(new, for_default=False)
    commit_options(new)
    new.set_defaults(run=run_new)

    edit = commands.add_parser(
        "edit",
        parents=[common],
        help="change an entry",
        description="Change the settings given; the others stay.",
    )
    edit.add_argument("dest", type=destination, metavar="DEST")
    add_setting_options(edit, for_default=False)
    commit_options(edit)
    edit.set_defaults(run=run_edit)

    delete = commands.add_parser(
        "delete",
        parents=[common],
        help="remove entries",
        description="Remove entries; all must exist, or none is removed.",
    )
    delete.add_argument("dests", type=destination, nargs="+", metavar="DEST")
    commit_options(delete)
    delete.set_defaults(run=run_delete)

    default = commands.add_parser(
        "default",
        parents=[common],
        help="change the default entry",
        description="Change the settings given of the default entry.",
    )
    add_setting_options(default, for_default=True)
    default.add_argument(  # named only to say why it is refused
        "--bounce-profile", type=_no_default_profile, metavar="NAME", help=argparse.SUPPRESS
    )
    commit_options(default)
    default.set_defaults(run=run_default)

    setup = commands.add_parser(
        "setup",
        parents=[common],
        help="change the global settings",
        description="Change the global settings (the shell's SETUP).",
    )
    setup.add_argument("--certificate", help="the certificate for outbound TLS connections")
    setup.add_argument(
        "--tls-alert",
        choices=("on", "off"),
        help="send an alert when a required TLS connection fails",
    )
    add_release_option(setup)
    commit_options(setup)
    setup.set_defaults(run=run_setup)

    clear = commands.add_parser(
        "clear",
        parents=[common],
        help="remove every entry",
        description="Remove every entry (not the default entry).",
    )
    clear.add_argument(
        "--yes", action="store_true", help="confirm the removal: clear refuses without it"
    )
    commit_options(clear)
    clear.set_defaults(run=run_clear)


def _no_default_profile(text: str) -> str:
    raise argparse.ArgumentTypeError(
        "the default entry has no bounce profile: the system's default profile applies to "
        "every destination without one of its own"
    )


def comment_of(args: argparse.Namespace, words: list[str]) -> str:
    line = args.command_line = " ".join(words)  # a cluster commit's subject without one
    return args.comment if args.comment is not None else line


def apply(ctx: Context, args: argparse.Namespace, change: Change, comment: str) -> int:
    """Make *change* to the committed table and commit it (or show it, with --dry-run)."""
    shown = getattr(args, "change_format", "text")
    if shown != "text" and not args.dry_run:
        raise CommandError("--format is for --dry-run: a commit prints one line", ExitStatus.USAGE)
    if ctx.reader is not None or is_member(ctx.store.home):
        from destconfig.commands.levels import apply_change

        return apply_change(ctx, args, change, comment)
    with ctx.store.locked():
        before = ctx.load()
        try:
            after = change(before)
        except operations.Refused as refusal:
            raise CommandError(refusal.message) from None
        return show_or_commit(ctx, args, before, after, comment, shown)


def show_or_commit(
    ctx: Context,
    args: argparse.Namespace,
    before: Table | None,
    after: Table,
    comment: str,
    shown: str,
) -> int:
    """The end of every change command, the home's lock held: with --dry-run the change
    from *before* to *after* (as text or JSON: *shown*), else *after* committed unless it
    is *before*. *before* is ``None`` when the committed file cannot be read (a rollback
    replaces it); a dry run then refuses it, as :meth:`Context.load` does."""
    if args.dry_run:
        difference = diff(ctx.load() if before is None else before, after)
        if shown == "json":
            ctx.document(diff_document(difference), "json")
        elif not difference.empty:
            ctx.out.write(render_diff(difference, "committed", "after") + "\n")
        return ExitStatus.OK
    if after == before:
        ctx.out.write(NOTHING_TO_COMMIT + "\n")
        return ExitStatus.OK
    when = ctx.env.clock()
    try:
        warnings = operations.commit(
            ctx.store, after, comment=comment, when=when, keep_rollback=not args.no_rollback
        )
    except operations.CommitRefused as refusal:
        raise CommandError(f"nothing was committed: {refusal.message}") from None
    ctx.out.write(committed(format_time(when)) + "\n")
    for warning in warnings:
        ctx.error(f"warning: {warning}")
    return ExitStatus.OK


def run_new(args: argparse.Namespace, ctx: Context) -> int:
    def change(table: Table) -> Table:
        operations.require_new(table, args.dest)
        return operations.new_entry(table, args.dest, changed_entry(None, given(args)))

    return apply(ctx, args, change, comment_of(args, ["new", args.dest]))


def run_edit(args: argparse.Namespace, ctx: Context) -> int:
    def change(table: Table) -> Table:
        entry = operations.require_existing(table, args.dest)
        return operations.edit_entry(table, args.dest, changed_entry(entry, given(args)))

    return apply(ctx, args, change, comment_of(args, ["edit", args.dest]))


def run_delete(args: argparse.Namespace, ctx: Context) -> int:
    def change(table: Table) -> Table:
        return operations.delete_entries(table, args.dests)

    return apply(ctx, args, change, comment_of(args, ["delete", *args.dests]))


def run_default(args: argparse.Namespace, ctx: Context) -> int:
    def change(table: Table) -> Table:
        return operations.set_default(table, changed_default(table.default, given(args)))

    return apply(ctx, args, change, comment_of(args, ["default"]))


def run_setup(args: argparse.Namespace, ctx: Context) -> int:
    """The settings change first, the release after it: a refused change keeps nothing."""
    if args.certificate is None and args.tls_alert is None and keep_release(args, ctx):
        return ExitStatus.OK

    def change(table: Table) -> Table:
        settings = table.settings
        if args.certificate is not None:
            settings = settings.model_copy(update={"certificate": args.certificate})
        if args.tls_alert is not None:
            settings = settings.model_copy(update={"tls_alert": args.tls_alert == "on"})
        changed = operations.set_settings(table, Settings.model_validate(settings.model_dump()))
        if args.certificate == DEMO_CERTIFICATE:
            ctx.err.write(DEMO_CERTIFICATE_NOTE + "\n")
        return changed

    status = apply(ctx, args, change, comment_of(args, ["setup"]))
    if status == ExitStatus.OK:
        keep_release(args, ctx)
    return status


def run_clear(args: argparse.Namespace, ctx: Context) -> int:
    if not args.yes:
        raise CommandError("clear removes every entry: confirm with --yes", ExitStatus.USAGE)
    return apply(ctx, args, operations.clear, comment_of(args, ["clear"]))
