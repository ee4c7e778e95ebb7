"""The destconfig menu and its operations (spec §4 to §7).

Each operation asks its questions through the session's dialogue and, only when
it completes, replaces the session's table with a new one. It returns whether the
entry-count banner follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from destconfig import formats, operations
from destconfig.confdir import BadName, check_name
from destconfig.console import escape
from destconfig.destinations import InvalidDestination, normalise
from destconfig.dialogue import flows
from destconfig.dialogue.questions import Abandon, DestinationWords, Invalid, Text, YesNo
from destconfig.dialogue.reader import PromptKind
from destconfig.formats.limits import MAX_ERRORS
from destconfig.messages import banner, invalid_destination
from destconfig.model import DefaultEntry, Entry, Settings
from destconfig.render.detail import render_detail
from destconfig.render.listing import render_list
from destconfig.store import CONFIGURATION_DIR, BusyError, LockError, StoreError

if TYPE_CHECKING:
    from destconfig.shell.session import Session

Operation = Callable[["Session"], bool]


@dataclass(frozen=True)
class MenuItem:
    name: str
    description: str
    run: Operation


def parse_destination(answer: str) -> str:
    try:
        return normalise(answer)
    except InvalidDestination:
        raise Invalid(invalid_destination(answer)) from None


def _ask_existing(shell: Session, text: str) -> str:
    """A destination that has an entry (else :class:`Refused`, with the not-found words)."""
    words = DestinationWords(shell.table.entries.keys())
    key = shell.dialogue.ask(Text(text, parse_destination, words=words))
    operations.require_existing(shell.table, key)
    return key


def do_new(shell: Session) -> bool:
    key = shell.dialogue.ask(Text("Enter the domain you wish to configure.", parse_destination))
    operations.require_new(shell.table, key)
    draft: flows.Draft = {}
    flows.run(shell.release.entry, draft, flows.Scope(shell.table, key, new=True), shell.dialogue)
    shell.table = operations.new_entry(shell.table, key, Entry(**draft))
    return True


def do_edit(shell: Session) -> bool:
    key = _ask_existing(shell, "Enter the domain you wish to edit.")
    draft = shell.table.entries[key].model_dump()
    flows.run(shell.release.entry, draft, flows.Scope(shell.table, key), shell.dialogue)
    shell.table = operations.edit_entry(shell.table, key, Entry(**draft))
    return True


def do_delete(shell: Session) -> bool:
    key = _ask_existing(shell, "Enter the domain you wish to delete.")
    shell.table = operations.delete_entries(shell.table, [key])
    return True


def do_default(shell: Session) -> bool:
    draft = shell.table.default.model_dump()
    flows.run(shell.release.default, draft, flows.Scope(shell.table), shell.dialogue)
    shell.table = operations.set_default(shell.table, DefaultEntry(**draft))
    return True


def do_setup(shell: Session) -> bool:
    draft = shell.table.settings.model_dump()
    flows.run(shell.release.setup, draft, flows.Scope(shell.table), shell.dialogue)
    shell.table = operations.set_settings(shell.table, Settings(**draft))
    return False


def do_list(shell: Session) -> bool:
    shell.console.block(render_list(shell.table))
    return False


DETAIL_QUESTION = (
    "Enter the domain name to view, DEFAULT to view details for the default,\n"
    "or ALL to view details for all."
)


def _detail_target(answer: str) -> str:
    """``default``, ``all``, a stored key, or the answer as typed when it is no destination."""
    word = answer.strip()
    if word.lower() in ("default", "all"):
        return word.lower()
    try:
        return normalise(word)
    except InvalidDestination:
        return word


def do_detail(shell: Session) -> bool:
    table = shell.table
    words = DestinationWords(table.entries.keys(), extra=("DEFAULT", "ALL"))
    target = shell.dialogue.ask(Text(DETAIL_QUESTION, _detail_target, words=words))
    shown = operations.detail(table, target)
    shell.console.block(render_detail(table, shown.keys, shell.release.detail))
    return False


def do_clear(shell: Session) -> bool:
    shell.table = operations.clear(shell.table)
    return True


BAD_FILE_NAME = "Invalid file name. Enter the name of a file in the configuration directory."


def parse_file_name(answer: str) -> str:
    try:
        return check_name(answer.strip())
    except BadName:
        raise Invalid(BAD_FILE_NAME) from None


def _reason(error: OSError) -> str:
    return escape(error.strerror or str(error))


def do_import(shell: Session) -> bool:
    name = shell.dialogue.ask(Text("Enter the name of the file to import.", parse_file_name))
    shown = escape(name)
    if not shell.configuration.exists(name):
        shell.console.reject(f'The file "{shown}" does not exist in the configuration directory.')
        return False
    try:
        data = shell.configuration.read(name)
    except OSError as error:
        shell.console.reject(f'The file "{shown}" cannot be read: {_reason(error)}.')
        return False
    fmt = formats.for_name(name)
    loaded = operations.read_import(data, fmt, shown, shown=MAX_ERRORS)
    shell.table = operations.imported(shell.table, loaded, full=fmt.full)
    return True


def do_export(shell: Session) -> bool:
    name = shell.dialogue.ask(Text("Enter a name for the exported file.", parse_file_name))
    shown = escape(name)
    if shell.configuration.exists(name) and not shell.dialogue.ask(
        YesNo(f'The file "{shown}" already exists. Overwrite it?', False)
    ):
        return False
    data = formats.for_name(name).dumps(shell.table)
    try:
        # Under the home's lock: another session's start or commit sweeps the
        # temporary files of configuration/, and must not take this one's.
        with shell.store.locked():
            shell.configuration.write(name, data)
    except OSError as error:
        shell.console.reject(f'The file "{shown}" could not be written: {_reason(error)}.')
        return False
    except (BusyError, LockError, StoreError) as error:
        shell.console.reject(f'The file "{shown}" could not be written: {escape(str(error))}.')
        return False
    shell.console.block(
        f'File written on machine "{shell.hostname}" to the location "{CONFIGURATION_DIR}/{shown}".'
    )
    return False


MENU: tuple[MenuItem, ...] = (
    MenuItem("SETUP", "Change global settings.", do_setup),
    MenuItem("NEW", "Create a new entry.", do_new),
    MenuItem("EDIT", "Modify an entry.", do_edit),
    MenuItem("DELETE", "Remove an entry.", do_delete),
    MenuItem("DEFAULT", "Change the default.", do_default),
    MenuItem("LIST", "Display a summary list of all entries.", do_list),
    MenuItem("DETAIL", "Display details for one destination or all entries.", do_detail),
    MenuItem("CLEAR", "Remove all entries.", do_clear),
    MenuItem("IMPORT", "Import tables from a file.", do_import),
    MenuItem("EXPORT", "Export tables to a file.", do_export),
)

_BY_NAME = {item.name.lower(): item for item in MENU}

MENU_TEXT = "Choose the operation you want to perform:\n" + "\n".join(
    f"- {item.name} - {item.description}" for item in MENU
)


def _operation(answer: str) -> MenuItem:
    word = answer.strip()
    item = _BY_NAME.get(word.lower())
    if item is None:
        raise Invalid(f"Unknown option: {escape(word)}")
    return item


MENU_QUESTION = Text(
    MENU_TEXT, _operation, words=tuple(item.name for item in MENU), kind=PromptKind.MENU
)


def run_menu(shell: Session) -> None:
    """The menu loop: until an empty answer leaves it."""
    while True:
        try:
            item = shell.dialogue.ask(MENU_QUESTION)
        except Abandon:
            return
        try:
            show_banner = item.run(shell)
        except Abandon:
            continue
        except operations.Refused as refusal:
            shell.console.reject(refusal.message)
            continue
        if show_banner:
            shell.console.block(banner(len(shell.table.entries)))
