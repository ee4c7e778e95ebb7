"""A level's new file made by editing its previous one, when a change touched a few entries.

Writing a table of 100,000 entries anew takes half a second; a one-entry change to a
level's table is one line of its file. The file the writer made has one line per entry
after ``[entries]``, so the lines of the entries that changed are replaced, removed or
inserted, each line written by the writer itself (a table of that one entry). Any other
file (edited by hand into another layout, its settings changed, many entries changed)
is written whole again: :func:`edited` then says None.
"""

from __future__ import annotations

from itertools import compress
from operator import is_not

from destconfig.formats import toml as toml_format
from destconfig.model import Entry, Table

MOST_ENTRIES = 64  # changed in one commit; more are written whole
_SECTION = b"\n[entries]\n"


def _lines(table: Table, entries: dict[str, Entry]) -> tuple[bytes, bytes]:
    """What the writer writes before ``[entries]`` (with it), and the lines of *entries*."""
    text = toml_format.dumps(table.model_copy(update={"entries": entries}))
    head, section, body = text.partition(_SECTION)
    assert section, "the writer always writes [entries]"
    return head + section, body


def edited(before: Table, text: bytes, after: Table) -> bytes | None:
    """*after*'s file, made from *text* (the file of *before*); None when it is not one
    line per entry after the writer's own head, or when too much changed."""
    old, new = before.entries, after.entries
    # Entries not the very objects they were (C loops: a table may have 100,000).
    changed = sorted(compress(new, map(is_not, new.values(), map(old.get, new))))
    removed = sorted(old.keys() - new.keys())
    if len(changed) + len(removed) > MOST_ENTRIES:
        return None
    head, _ = _lines(before, {})
    if not text.startswith(head) or _lines(after, {})[0] != head:
        return None  # settings or layout other than the writer's own
    if text.count(b"\n", len(head)) != len(old) or (old and not text.endswith(b"\n")):
        return None  # not one line per entry
    edits: list[tuple[int, int, bytes]] = []  # (start, end, new bytes) in text
    for key in removed:
        span = _span(text, head, before, key)
        if span is None:
            return None
        edits.append((*span, b""))
    for key in changed:
        line = _lines(after, {key: new[key]})[1]
        if key in old:
            span = _span(text, head, before, key)
            if span is None:
                return None
            edits.append((*span, line))
            continue
        earlier = max(filter(key.__gt__, old), default=None)  # the entry before it
        if earlier is None:
            at = len(head)
        else:
            span = _span(text, head, before, earlier)
            if span is None:
                return None
            at = span[1]
        edits.append((at, at, line))
    pieces = []
    done = 0
    # At one place, insertions (in key order, as made) come before the line there.
    for start, end, data in sorted(edits, key=lambda edit: (edit[0], edit[1] != edit[0])):
        pieces += [text[done:start], data]
        done = end
    pieces.append(text[done:])
    return b"".join(pieces)


def _span(text: bytes, head: bytes, table: Table, key: str) -> tuple[int, int] | None:
    """Where the line of *key* is in *text*, as the writer writes it; None when absent."""
    line = _lines(table, {key: table.entries[key]})[1]
    found = text.find(b"\n" + line, len(head) - 1)  # the head ends with a newline
    if found < 0:
        return None
    return found + 1, found + 1 + len(line)
