"""The host command ``rollbackconfig``: an earlier committed configuration, made pending.

It lists the configurations kept by earlier commits, asks which, and makes that
table the session's table; ``commit`` then commits it like any other change, with
its comment and rollback question, and ``clearchanges`` drops it. Pending changes
are replaced only when the user says so: a rollback is the whole table. In a cluster
home the session's table is its mode's level's: ``commit`` pushes the earlier table to
that level, as the one-shot ``rollback N --level LEVEL`` does (a rollback of the home
alone would be undone by the next ``cluster apply``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from destconfig.dialogue.questions import Abandon, Text, YesNo, parse_number
from destconfig.messages import NOTHING_TO_ROLL_BACK

if TYPE_CHECKING:
    from destconfig.shell.session import Session
    from destconfig.store import RollbackCopy

NUMBER_QUESTION = "Enter the number of the configuration to roll back to."
REPLACE_QUESTION = "You have uncommitted changes. Replace them with this configuration?"


def do_rollbackconfig(shell: Session) -> bool:
    from destconfig import operations  # here: it brings the models, as commit's does

    try:
        choices = operations.rollback_choices(shell.store)
    except operations.Refused as refusal:
        shell.console.block(f"The earlier configurations cannot be read: {refusal.message}")
        return False
    if not choices:
        shell.console.block(NOTHING_TO_ROLL_BACK)
        return False
    shell.console.block(operations.rollback_list_text(choices))

    def chosen(answer: str) -> RollbackCopy:
        return choices[parse_number(answer, 1, len(choices)) - 1]

    try:
        copy = shell.dialogue.ask(Text(NUMBER_QUESTION, chosen))
    except Abandon:
        return False
    if shell.pending and not shell.dialogue.ask(YesNo(REPLACE_QUESTION, False)):
        return False
    try:
        table = operations.rollback_table(shell.store, copy)
    except operations.Refused as refusal:
        shell.console.block(f"The configuration cannot be read: {refusal.message}")
        return False
    shell.table = table
    described = operations.describe_rollback(copy)
    if not shell.pending:  # the configuration committed now: nothing to commit
        shell.console.block(
            f"{described[0].upper()}{described[1:]} is the one committed now; nothing is pending."
        )
        return False
    shell.console.block(
        f"Rolled back to {described}.\n"
        "The change is pending: 'commit' commits it, 'clearchanges' drops it."
    )
    return False
