"""``cluster create|join|leave|status|apply|set``: the home as a machine of a cluster
whose levels live in a git repository (see :mod:`destconfig.cluster.member`)."""

from __future__ import annotations

import argparse
import functools
import time
from typing import cast

from destconfig.cluster.levels import DEFAULT_GROUP, Level, LevelError
from destconfig.cluster.member import (
    ClusterError,
    Member,
    create,
    host_name,
    join,
    leave,
    set_levels,
    status,
)
from destconfig.commands.context import CommandError, Context
from destconfig.commands.levels import apply_home, member_of
from destconfig.console import escape
from destconfig.exitstatus import ExitStatus

APPLY_INTERRUPTED = "interrupted: the home keeps the table it last applied whole"


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    cluster = commands.add_parser(
        "cluster",
        parents=[common],
        help="share the table with other hosts through a git repository",
        description="Cluster, group and machine levels of the table in a git repository; "
        "a machine's table is its level's, else its group's, else the cluster's.",
    )
    # The actions' parsers write where the command's own does (the program's streams).
    streams = {name: getattr(cluster, f"_{name}") for name in ("out", "err")}
    actions = cluster.add_subparsers(
        dest="action",
        metavar="ACTION",
        required=True,
        parser_class=cast(
            "type[argparse.ArgumentParser]", functools.partial(type(cluster), **streams)
        ),
    )

    made = actions.add_parser("create", help="a new cluster whose cluster level is this table")
    made.add_argument("name", metavar="NAME")
    made.add_argument("--repo", required=True, metavar="URL", help="an empty repository")
    _membership(made)
    made.set_defaults(run=run_create)

    joined = actions.add_parser("join", help="make this home a machine of a cluster")
    joined.add_argument("url", metavar="URL")
    _membership(joined)
    joined.set_defaults(run=run_join)

    left = actions.add_parser("leave", help="take this machine out of its cluster")
    _author(left)
    left.set_defaults(run=run_leave)

    shown = actions.add_parser("status", help="each machine, its level, what it applied")
    shown.add_argument("--format", choices=("text", "json"), default="text")
    shown.set_defaults(run=run_status)

    applied = actions.add_parser("apply", help="commit this machine's table into the home")
    applied.add_argument("--watch", type=_seconds, metavar="SECONDS", help="repeat every SECONDS")
    applied.add_argument("--then", metavar="COMMAND", help="run COMMAND (by sh) after a change")
    applied.set_defaults(run=run_apply)

    changed = actions.add_parser("set", help="copy, move or delete a level's table")
    changed.add_argument("operation", choices=("copy", "move", "delete"))
    changed.add_argument("first", type=_level, metavar="LEVEL")
    changed.add_argument("second", type=_level, nargs="?", metavar="LEVEL")
    changed.add_argument("--comment", default="", help="the commit comment")
    _author(changed)
    changed.set_defaults(run=run_set)


def _membership(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", default=DEFAULT_GROUP, help="default: %(default)s")
    parser.add_argument("--machine", default=None, help="default: the host's name")
    _author(parser)


def _author(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--author", metavar="'NAME <EMAIL>'", help="the commits' author")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("a number of seconds above 0, 86400 at most")
    return value


def _level(text: str) -> Level:
    try:
        return Level.parse(text)
    except LevelError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _required(ctx: Context) -> Member:
    member = member_of(ctx)
    if member is None:
        raise CommandError("this home is no cluster's machine: 'cluster create' or 'cluster join'")
    return member


def run_create(args: argparse.Namespace, ctx: Context) -> int:
    table = ctx.load()
    machine = args.machine or host_name()
    with ctx.store.locked():
        try:
            create(
                ctx.store.home,
                table,
                name=args.name,
                url=args.repo,
                group=args.group,
                machine=machine,
                author=args.author,
            )
        except (ClusterError, LevelError) as error:
            raise CommandError(str(error)) from None
    ctx.out.write(
        f"Created cluster {args.name}: this home is machine {machine} of group {args.group}.\n"
    )
    return apply_home(ctx, _required(ctx), then=None, quiet=True)


def run_join(args: argparse.Namespace, ctx: Context) -> int:
    machine = args.machine or host_name()
    with ctx.store.locked():
        try:
            join(
                ctx.store.home, url=args.url, group=args.group, machine=machine, author=args.author
            )
        except (ClusterError, LevelError) as error:
            raise CommandError(str(error)) from None
    ctx.out.write(f"Joined: this home is machine {machine} of group {args.group}.\n")
    return apply_home(ctx, _required(ctx), then=None)


def run_leave(args: argparse.Namespace, ctx: Context) -> int:
    member = _required(ctx)
    try:
        leave(member, author=args.author)
    except ClusterError as error:
        raise CommandError(error.message) from None
    ctx.out.write(f"Machine {member.machine} left the cluster; the home keeps its table.\n")
    return ExitStatus.OK


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    member = _required(ctx)
    try:
        document, note = status(member)
    except ClusterError as error:
        raise CommandError(error.message) from None
    if note is not None:
        ctx.error(note)
    if args.format == "json":
        ctx.document(document, "json")
        return ExitStatus.OK
    lines = [f"Cluster {escape(document['cluster'])} at commit {document['head'][:12]}", ""]
    rows = [("Machine", "Group", "Level", "Applied", "Newest")]
    for each in document["machines"]:
        applied = each["applied"][:12] if each["applied"] else "-"
        rows.append(
            (
                each["machine"],
                each["group"],
                each["level"],
                applied,
                "yes" if each["newest"] else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    ctx.out.write("\n".join(lines) + "\n")
    return ExitStatus.OK


def run_apply(args: argparse.Namespace, ctx: Context) -> int:
    """One round, or with ``--watch`` rounds until Ctrl-C. An interruption at any moment
    (a fetch, the commit into the home, ``--then``, the sleep) ends it with one line: the
    home's table is the one it had or the one applied whole (the commit into the home
    defers Ctrl-C until it is done)."""
    member = _required(ctx)
    try:
        if args.watch is None:
            return apply_home(ctx, member, then=args.then)
        while True:  # a round that fails is said, and the next one tried
            try:
                apply_home(ctx, member, then=args.then, quiet=True)
            except CommandError as error:
                ctx.error(error.message)
            ctx.out.flush()
            time.sleep(args.watch)
    except KeyboardInterrupt:
        ctx.error(APPLY_INTERRUPTED)
        return ExitStatus.OK if args.watch is not None else ExitStatus.FAILED


def run_set(args: argparse.Namespace, ctx: Context) -> int:
    member = _required(ctx)
    try:
        commit = set_levels(
            member,
            args.operation,
            args.first,
            args.second,
            comment=args.comment,
            author=args.author,
        )
    except ClusterError as error:
        raise CommandError(error.message.replace("\n", " ")) from None
    ctx.out.write(f"Committed cluster commit {commit[:12]}.\n")
    return apply_home(ctx, member, then=None, quiet=True)
