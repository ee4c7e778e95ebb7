"""The operations both front ends make on a table, decided in one place.

The shell asks questions and the one-shot commands read options; both then call
these functions, which take a table and arguments and return a new table, or
raise :class:`Refused` carrying the words both front ends show. So each refusal
is worded once, and a rule (all the entries to delete must exist, an import's
profiles join the known ones) cannot differ between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig.console import escape
from destconfig.formats.problems import FormatError, quote
from destconfig.messages import TABLE_NOT_CHANGED, already_exists, error_lines, not_found
from destconfig.model import dane_refusal
from destconfig.render.detail import render_default, render_entry

if TYPE_CHECKING:
    from datetime import datetime

    from destconfig.formats import Format
    from destconfig.formats.problems import Problem
    from destconfig.model import DefaultEntry, Entry, Settings, Table
    from destconfig.store import Store


class Refused(Exception):
    """An operation that cannot be made; *message* is what the user is told."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require_new(table: Table, key: str) -> None:
    """NEW of a destination that has an entry is refused before any question."""
    if key in table.entries:
        raise Refused(already_exists(key))


def require_existing(table: Table, key: str) -> Entry:
    """The entry of *key*; EDIT or DELETE of a destination without one is refused."""
    entry = table.entries.get(key)
    if entry is None:
        raise Refused(not_found(key))
    return entry


def _dane_kept(default: DefaultEntry, entries: Mapping[str, Entry]) -> None:
    """A change that breaks the DANE rule (the model's) is refused whole."""
    refusal = dane_refusal(default, entries)
    if refusal is not None:
        raise Refused(refusal)


def new_entry(table: Table, key: str, entry: Entry) -> Table:
    require_new(table, key)
    _dane_kept(table.default, {key: entry})
    return table.with_entry(key, entry)


def edit_entry(table: Table, key: str, entry: Entry) -> Table:
    require_existing(table, key)
    _dane_kept(table.default, {key: entry})
    return table.with_entry(key, entry)


def delete_entries(table: Table, keys: Sequence[str]) -> Table:
    """Every entry of *keys* removed; all must exist, or none is removed."""
    for key in keys:
        require_existing(table, key)
    for key in dict.fromkeys(keys):
        table = table.without_entry(key)
    return table


def set_default(table: Table, default: DefaultEntry) -> Table:
    _dane_kept(default, table.entries)
    return table.with_default(default)


def set_settings(table: Table, settings: Settings) -> Table:
    """The global settings replaced; the certificate must be one the table knows."""
    if settings.certificate not in table.certificates:
        known = ", ".join(table.certificates)
        raise Refused(
            f"unknown certificate {quote(settings.certificate)}; the certificates are {known}"
        )
    return table.with_settings(settings)


def clear(table: Table) -> Table:
    return table.cleared()


def _joined_profiles(current: Table, loaded: Table) -> tuple[str, ...]:
    return tuple(sorted(set(current.bounce_profiles) | set(loaded.bounce_profiles)))


def imported(current: Table, loaded: Table, *, full: bool) -> Table:
    """The table after importing *loaded* in place of it.

    A full format (TOML, JSON) replaces the whole configuration. The appliance's
    table file replaces the default entry and the entries; the global settings
    stay, and the profiles the file uses join the known ones.
    """
    _dane_kept(loaded.default, loaded.entries)
    if full:
        return loaded
    return current.model_copy(
        update={
            "default": loaded.default,
            "entries": loaded.entries,
            "bounce_profiles": _joined_profiles(current, loaded),
        }
    )


def merged(current: Table, loaded: Table, *, replace_default: bool) -> Table:
    """The file's entries added to (or replacing) the current ones; its profiles join."""
    entries = {**current.entries, **loaded.entries}
    default = loaded.default if replace_default else current.default
    _dane_kept(default, entries)
    return current.model_copy(
        update={
            "entries": entries,
            "bounce_profiles": _joined_profiles(current, loaded),
            "default": default,
        }
    )


def read_import(
    data: bytes, fmt: Format, shown_name: str, *, shown: int | None = None, importing: bool = True
) -> Table:
    """The table in *data*; a file with problems is refused with a line for each.

    *shown_name* is the file's name as the user sees it (already escaped);
    *shown* cuts the list (the shell shows ten). An import ends the list with the
    note that the table was not changed.
    """
    try:
        return fmt.loads(data)
    except FormatError as error:
        problems: list[Problem] = error.problems if shown is None else error.problems[:shown]
        raise file_refused(shown_name, problems, importing=importing) from None


def file_refused(shown_name: str, problems: list[Problem], *, importing: bool = True) -> Refused:
    """The refusal of a file (*shown_name* already escaped) for *problems*, a line each,
    and for an import the note that the table was not changed: every refusal of an
    imported file (its reading, a merge's rules) is worded so."""
    lines = error_lines(shown_name, problems)
    if importing:
        lines.append(TABLE_NOT_CHANGED)
    return Refused("\n".join(lines))


@dataclass(frozen=True)
class Detail:
    """What DETAIL shows: the keys of the entries in order, ``None`` for the default entry."""

    keys: tuple[str | None, ...]


def detail(table: Table, target: str) -> Detail:
    """DETAIL of *target*: ``default``, ``all``, or a stored key (else refused as not found).

    *target* that is no destination at all is quoted as typed (escaped) in the refusal.
    """
    if target == "default":
        return Detail((None,))
    if target == "all":
        return Detail((*table.sorted_keys(), None))
    if target not in table.entries:
        raise Refused(not_found(escape(target)))
    return Detail((target,))


def detail_text(table: Table, shown: Detail) -> str:
    """DETAIL's blocks, separated by an empty line."""
    return "\n\n".join(_block(table, key) for key in shown.keys)


def _block(table: Table, key: str | None) -> str:
    if key is None:
        return render_default(table.default)
    return render_entry(key, table.entries[key], table.default)


class CommitRefused(Refused):
    """A commit that did not happen; nothing was written and the changes are as they were.

    *message* is the reason, one phrase (already escaped). *conflict* and *busy* say
    that another session committed first, or holds the lock: the shell has its own
    words for those two.
    """

    def __init__(self, message: str, *, conflict: bool = False, busy: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict
        self.busy = busy


def commit(
    store: Store,
    table: Table,
    *,
    comment: str,
    when: datetime,
    keep_rollback: bool,
    text: bytes | None = None,
) -> list[str]:
    """Commit *table* through the store; the warnings of a commit that happened.

    Every way a commit can fail becomes a :class:`CommitRefused`, its reason
    worded here for both front ends.
    """
    from destconfig.console import escape_lines
    from destconfig.store import BusyError, ConflictError, LockError, StoreError, TooLarge

    try:
        return store.commit(
            table, comment=comment, when=when, keep_rollback=keep_rollback, text=text
        )
    except ConflictError as error:
        raise CommitRefused(escape(str(error)), conflict=True) from None
    except BusyError as error:
        raise CommitRefused(str(error), busy=True) from None
    except (LockError, TooLarge, StoreError) as error:
        raise CommitRefused(escape_lines(str(error))) from None
    except OSError as error:
        raise CommitRefused(escape(error.strerror or str(error))) from None


# Rollback: the earlier configurations, as both front ends list and choose them.

if TYPE_CHECKING:
    from destconfig.store import RollbackCopy

ROLLBACK_TITLE = "Configurations to roll back to, newest first:"
_COMMITTED_ON = "Committed on"


def rollback_choices(store: Store) -> list[RollbackCopy]:
    """The configurations one can roll back to, newest first (the current one is never
    among them: it is not a copy); refused when ``rollback/`` cannot be read."""
    from destconfig.console import escape_lines
    from destconfig.store import StoreError

    try:
        return store.rollback_copies()
    except StoreError as error:
        raise Refused(escape_lines(str(error))) from None


def rollback_table(store: Store, copy: RollbackCopy) -> Table:
    """The table kept in *copy*; refused, with the file's problems, when it is damaged."""
    from destconfig.console import escape_lines
    from destconfig.store import StoreError

    try:
        return store.load_rollback(copy)
    except StoreError as error:
        raise Refused(escape_lines(str(error))) from None


def describe_rollback(copy: RollbackCopy) -> str:
    """The configuration of *copy* in a sentence: ``the configuration committed TIME (COMMENT)``."""
    if copy.factory:
        return "the factory configuration"
    if copy.committed is None:
        return f"the configuration replaced {copy.replaced}, whose commit is not recorded"
    comment = f" ({copy.comment})" if copy.comment else ""
    return f"the configuration committed {copy.committed}{comment}"


def rollback_list_text(choices: Sequence[RollbackCopy]) -> str:
    """The numbered list of *choices* (not empty), each with the commit that made it."""
    numbers = [f"{number}." for number in range(1, len(choices) + 1)]
    width = max(len(number) for number in numbers) + 2
    times = [copy.committed for copy in choices if copy.committed is not None]
    time_width = max(len(time) for time in [_COMMITTED_ON, *times]) + 2
    lines = [ROLLBACK_TITLE, "", " " * width + _COMMITTED_ON.ljust(time_width) + "Comment"]
    for number, copy in zip(numbers, choices, strict=True):
        if copy.factory:
            shown = "The factory configuration"
        elif copy.committed is None:
            shown = f"Not recorded (replaced {copy.replaced})"
        elif copy.comment:
            shown = copy.committed.ljust(time_width) + copy.comment
        else:
            shown = copy.committed
        lines.append(number.ljust(width) + shown)
    return "\n".join(lines)
