"""``destconfig setup --release NAME``: the home keeps the shell's appliance release.

Not a change of the table: the release is the home's setting (``settings.toml``),
written at once, with no commit and no rollback copy. The shell's ``--release``
overrides it for one session.
"""

from __future__ import annotations

import argparse

from destconfig.commands.context import CommandError, Context
from destconfig.dialogue.release import NAMES
from destconfig.messages import release_kept
from destconfig.store import StoreError


def add_release_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release",
        choices=NAMES,
        help="the appliance release whose dialogue the shell speaks, kept in the home's "
        "settings (the shell's --release overrides it)",
    )


def keep_release(args: argparse.Namespace, ctx: Context) -> bool:
    """Keep ``--release`` when given (not with ``--dry-run``); whether it was given."""
    release: str | None = args.release
    if release is None:
        return False
    if args.dry_run:
        return True
    try:
        ctx.store.prepare()
        ctx.store.set_release(release)
    except StoreError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot keep the release: {error.strerror}") from None
    ctx.out.write(release_kept(release) + "\n")
    return True
