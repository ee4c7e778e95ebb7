"""Messages shared by the shell and the one-shot commands, so each is written once."""

from __future__ import annotations

from destconfig.console import escape
from destconfig.formats.problems import Problem


def invalid_destination(answer: str) -> str:
    return (
        f'Invalid destination "{escape(answer.strip())}". Enter a domain (example.com), '
        "a subdomain (.example.com) or an IP address (192.0.2.1)."
    )


def invalid_recipient(answer: str) -> str:
    """``resolve`` speaks of recipients: a pattern is a form of entry, never of a recipient."""
    return (
        f'Invalid recipient "{escape(answer.strip())}". Enter an address (user@example.com) '
        "or a domain (example.com)."
    )


def not_found(dest: str) -> str:
    """*dest* is a stored key, or text already escaped."""
    return f'"{dest}" was not found in the destination control table.'


def dane_needs_tls(dest: str) -> str:
    """The DANE rule refused (*dest* a stored key, or ``(Default)``): named once for every
    path that can break it (import, the one-shot options, the shell, the model)."""
    return f"{dest}: DANE Opportunistic or Mandatory needs TLS; with TLS No, DANE must be No"


def release_kept(release: str) -> str:
    """``setup --release``: the home's appliance release, now kept."""
    return f"The shell speaks the dialogue of release {release}."


def already_exists(dest: str) -> str:
    return f'An entry for "{dest}" already exists.'


def banner(count: int) -> str:
    if count == 1:
        return "There is currently 1 entry configured."
    return f"There are currently {count} entries configured."


def error_lines(name: str, problems: list[Problem]) -> list[str]:
    """``Error in "NAME" line L: REASON`` for each problem (*name* already escaped)."""
    return [
        f'Error in "{name}" line {problem.line}: {problem.reason}'
        if problem.line is not None
        else f'Error in "{name}": {problem.reason}'
        for problem in problems
    ]


TABLE_NOT_CHANGED = "The table was not changed."

DEMO_CERTIFICATE_NOTE = (
    'The "Demo" certificate is for testing only and does not keep delivery private. '
    "Install a certificate of your own for production use."
)

NOTHING_TO_COMMIT = "There are no changes to commit."


def not_committed(reason: str) -> str:
    """The shell's word for a commit that did not happen (*reason* already escaped)."""
    return f"The changes could not be committed: {reason}"


def committed(when: str) -> str:
    """*when* in the commit time format (spec §3.1)."""
    return f"Changes committed: {when}"


NOTHING_TO_ROLL_BACK = "There is no earlier configuration to roll back to."


def no_such_rollback(number: int, count: int) -> str:
    """``destconfig rollback N`` with no configuration *number* among *count*: with none,
    :data:`NOTHING_TO_ROLL_BACK` worded as an error (``destconfig: there is no ...``)."""
    if count == 0:
        return NOTHING_TO_ROLL_BACK[0].lower() + NOTHING_TO_ROLL_BACK[1:].removesuffix(".")
    return (
        f"there is no configuration {number} to roll back to: the list has {count} "
        "(destconfig rollback --list)"
    )


def rollback_kept(keep: int, removed: int) -> str:
    """What ``rollback --keep`` did."""
    text = f"Rollback keeps the newest {keep} {'copy' if keep == 1 else 'copies'}."
    if removed:
        text += f" {removed} older {'copy was' if removed == 1 else 'copies were'} removed."
    return text


# A commit refused because another session (or administrator) committed first.
CONFLICT = (
    "The configuration was committed by another session since this session started.\n"
    "Nothing was committed; your changes are still pending. Use 'clearchanges' to start\n"
    "again from the configuration committed now."
)

INTERRUPTED = "interrupted: nothing more was done (a commit under way is whole or not made)"
"""Ctrl-C reaching the program's top: the store's writes are atomic, so whatever was
being committed is either in place or not."""
