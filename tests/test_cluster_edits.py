"""A level's file made by editing the previous one is byte for byte the file the writer
writes for the new table, for any few entries added, changed or removed; any other file
or change is left to the writer."""

from __future__ import annotations

import random

from destconfig.cluster.edits import MOST_ENTRIES, edited
from destconfig.formats import toml as toml_format
from destconfig.model import Entry, Table, Tls

TLS = list(Tls)
KEYS = ["a.example", ".sub.example", "[10.1.2.3]", "z.example", "b-c.example", "m.example"]


def entry(rng: random.Random) -> Entry:
    return rng.choice(
        [
            Entry(),
            Entry(tls=rng.choice(TLS)),
            Entry(bounce_validation=rng.choice([True, False]), tls=rng.choice(TLS)),
            Entry(bounce_profile="bulk"),
        ]
    )


def table_of(rng: random.Random, size: int) -> Table:
    table = Table().with_entry("seed.example", Entry(bounce_profile="bulk"))
    for _ in range(size):
        table = table.with_entry(f"host{rng.randrange(10**6)}.example", entry(rng))
    return table


def changed(rng: random.Random, table: Table, count: int) -> Table:
    for _ in range(count):
        keys = sorted(table.entries)
        action = rng.choice(["add", "change", "remove"]) if keys else "add"
        if action == "add":
            key = rng.choice([*KEYS, f"new{rng.randrange(10**6)}.example", "ü.example"])
            table = table.with_entry(key, entry(rng))
        elif action == "change":
            table = table.with_entry(rng.choice(keys), entry(rng))
        else:
            table = table.without_entry(rng.choice(keys))
    return table


def test_a_few_entries_changed_are_the_writers_own_file() -> None:
    rng = random.Random(16)
    for size in (0, 1, 2, 5, 40):
        for _ in range(40):
            before = table_of(rng, size)
            text = toml_format.dumps(before)
            after = changed(rng, before, rng.randrange(1, 6))
            made = edited(before, text, after)
            assert made == toml_format.dumps(after), (size, sorted(after.entries))


def test_every_entry_removed_and_the_first_and_last_replaced() -> None:
    before = Table().with_entry("a.example", Entry()).with_entry("z.example", Entry())
    text = toml_format.dumps(before)
    emptied = before.without_entry("a.example").without_entry("z.example")
    assert edited(before, text, emptied) == toml_format.dumps(emptied)
    ends = before.with_entry("0.example", Entry()).with_entry("zz.example", Entry(tls=Tls.NO))
    assert edited(before, text, ends) == toml_format.dumps(ends)


def test_other_files_and_other_changes_are_left_to_the_writer() -> None:
    rng = random.Random(7)
    before = table_of(rng, 10)
    text = toml_format.dumps(before)
    after = before.with_entry("new.example", Entry(tls=Tls.REQUIRED))
    # A profile new to the table changes what comes before [entries].
    assert edited(before, text, before.with_entry("p.example", Entry(bounce_profile="new"))) is None
    # A file laid out by hand: a comment line, or an entry split over lines.
    assert edited(before, text.replace(b"\n[entries]\n", b"\n[entries]\n# hand\n"), after) is None
    assert edited(before, text + b"\n", after) is None
    # The line of a changed entry not where the writer puts it.
    key = sorted(before.entries)[3]
    moved = before.with_entry(key, Entry(tls=Tls.NO))
    spaced = text.replace(f'"{key}" = {{'.encode(), f'"{key}"  = {{'.encode())
    assert edited(before, spaced, moved) is None
    many = before
    for number in range(MOST_ENTRIES + 1):
        many = many.with_entry(f"many{number}.example", Entry())
    assert edited(before, text, many) is None
