"""The one-shot commands in a cluster home: a change goes to a level of the repository,
then the home applies its effective table.

Without ``--level`` a change goes to the cluster level and a reading command reads the
home's effective table (its ``config.toml``, as last applied); with it, both work on
that level's table in the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator

from destconfig import operations
from destconfig.cluster.levels import Level, LevelError
from destconfig.cluster.member import (
    ClusterError,
    Member,
    Pushed,
    change_level,
    current,
    effective_text,
    record_applied,
    subject,
)
from destconfig.commands.context import CommandError, Context
from destconfig.exitstatus import ExitStatus
from destconfig.messages import NOTHING_TO_COMMIT, committed
from destconfig.model import Table
from destconfig.store import StoreError, format_time
from destconfig.tablediff import diff, diff_document, render_diff


def member_of(ctx: Context) -> Member | None:
    try:
        return Member.of(ctx.store.home)
    except ClusterError as error:
        raise CommandError(error.message, ExitStatus.USAGE) from None


def level_of(text: str | None) -> Level:
    try:
        return Level.parse(text) if text else Level("cluster")
    except LevelError as error:
        raise CommandError(str(error), ExitStatus.USAGE) from None


def _failed(error: ClusterError) -> CommandError:
    if error.conflict:
        return CommandError(error.message.replace("\n", " "))
    return CommandError(error.message)


def read_level(ctx: Context, member: Member, text: str) -> Table:
    """The table of level *text* in the last fetched state (fetched anew when reachable)."""
    level = level_of(text)
    try:
        state, note = current(member, offline_ok=True)
        if note is not None:
            ctx.error(note)
        state.require_known(level)
        source, table = state.inherited(level)
    except ClusterError as error:
        raise _failed(error) from None
    if source != level:
        ctx.error(f"{level} defines no table: showing the table it inherits, {source}'s")
    return table


def level_reader(ctx: Context, text: str) -> Callable[[], Table]:
    """What ``Context.load`` reads with ``--level``: that level's table."""

    def read() -> Table:
        member = member_of(ctx)
        if member is None:
            raise CommandError("--level is for a cluster home", ExitStatus.USAGE)
        return read_level(ctx, member, text)

    return read


def apply_change(
    ctx: Context, args: argparse.Namespace, change: Callable[[Table], Table], comment: str
) -> int:
    """A change command in a cluster home: *change* made to the level's table, pushed,
    then applied to the home when it changes its effective table."""
    member = member_of(ctx)
    if member is None:
        raise CommandError("--level is for a cluster home", ExitStatus.USAGE)
    level = level_of(getattr(args, "level", None))
    shown = getattr(args, "change_format", "text")

    def checked(table: Table) -> Table:
        try:
            return change(table)
        except operations.Refused as refusal:
            raise CommandError(refusal.message) from None

    if args.dry_run:
        try:
            state, _ = current(member)
            state.require_known(level)
            _, before = state.inherited(level)
        except ClusterError as error:
            raise _failed(error) from None
        difference = diff(before, checked(before))
        if shown == "json":
            ctx.document(diff_document(difference), "json")
        elif not difference.empty:
            ctx.out.write(render_diff(difference, "committed", "after") + "\n")
        return ExitStatus.OK
    # The subject: the comment, else (none, or a blank one) ``destconfig COMMAND LINE``.
    line = getattr(args, "command_line", comment)
    message = subject(getattr(args, "comment", None) or "", f"destconfig {line}")
    try:
        pushed = change_level(
            member,
            level,
            checked,
            comment=message,
            author=getattr(args, "author", None),
            note=ctx.error,
        )
    except ClusterError as error:
        raise _failed(error) from None
    if pushed.text is None:
        ctx.out.write(NOTHING_TO_COMMIT + "\n")
        return ExitStatus.OK
    stamp = committed(format_time(ctx.env.clock()))
    ctx.out.write(f"{stamp} (cluster commit {pushed.commit[:12]})\n")
    return apply_home(ctx, member, then=None, quiet=True, pushed=pushed)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C (SIGINT) held back while the home takes a table, delivered once it is done:
    the table, its rollback copy and its ``commits.log`` line are all written, or none."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before = signal.signal(signal.SIGINT, lambda number, _frame: held.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if before is None else before)
    if held:
        signal.raise_signal(signal.SIGINT)  # as it came, to the handler before


def apply_home(
    ctx: Context,
    member: Member,
    *,
    then: str | None,
    quiet: bool = False,
    pushed: Pushed | None = None,
) -> int:
    """``cluster apply``: this machine's effective table committed into the home when it
    changed, the commit recorded as applied, then *then* run after a change. *pushed*: the
    change this process has just pushed (nothing fetched or read again)."""
    try:
        state, level, text = effective_text(member, pushed=pushed)
    except ClusterError as error:
        raise _failed(error) from None
    with ctx.store.locked():
        try:
            committed_now = ctx.store.load_text()
        except StoreError:  # a damaged config.toml is replaced by the effective table
            committed_now = None
        changed = committed_now != text
        if changed:
            try:
                table = state.table(level, text)
            except ClusterError as error:
                raise _failed(error) from None
            assert table is not None
            try:
                with interrupts_deferred():
                    warnings = operations.commit(
                        ctx.store,
                        table,
                        comment=f"cluster apply {state.commit[:12]} ({level})",
                        when=ctx.env.clock(),
                        keep_rollback=True,
                        text=text,
                    )
            except operations.CommitRefused as refusal:
                raise CommandError(f"nothing was applied: {refusal.message}") from None
            for warning in warnings:
                ctx.error(f"warning: {warning}")
    try:
        record_applied(member, state.commit)
    except ClusterError as error:
        ctx.error(f"warning: applied, but not recorded in the repository: {error.message}")
    if not quiet or changed:
        verb = "Applied" if changed else "Already applied"
        ctx.out.write(f"{verb} cluster commit {state.commit[:12]}: the table of {level}.\n")
    if changed and then:
        ctx.out.flush()
        done = subprocess.run(["/bin/sh", "-c", then], check=False)
        if done.returncode != 0:
            raise CommandError(f"--then exited with status {done.returncode}")
    return ExitStatus.OK
