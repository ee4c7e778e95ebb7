"""The operations layer: pure functions from a table to a table, or a refusal with its words."""

from __future__ import annotations

import pytest

from destconfig import operations
from destconfig.formats import formats
from destconfig.model import DefaultEntry, Entry, Settings, Table, Tls
from destconfig.render.detail import render_all, render_default, render_entry

TABLE = Table(
    entries={"a.example": Entry(tls=Tls.REQUIRED), "b.example": Entry(bounce_validation=True)}
)


def test_new_adds_an_entry_and_refuses_one_that_exists() -> None:
    after = operations.new_entry(TABLE, "c.example", Entry())
    assert set(after.entries) == {"a.example", "b.example", "c.example"}
    assert set(TABLE.entries) == {"a.example", "b.example"}  # the old table is kept
    with pytest.raises(operations.Refused) as refusal:
        operations.new_entry(TABLE, "a.example", Entry())
    assert refusal.value.message == 'An entry for "a.example" already exists.'


def test_edit_and_delete_refuse_a_missing_entry_in_the_same_words() -> None:
    words = '"z.example" was not found in the destination control table.'
    with pytest.raises(operations.Refused) as edit:
        operations.edit_entry(TABLE, "z.example", Entry())
    with pytest.raises(operations.Refused) as delete:
        operations.delete_entries(TABLE, ["a.example", "z.example"])
    assert edit.value.message == delete.value.message == words


def test_delete_removes_all_or_none() -> None:
    after = operations.delete_entries(TABLE, ["a.example", "b.example", "a.example"])
    assert after.entries == {}
    with pytest.raises(operations.Refused):
        operations.delete_entries(TABLE, ["b.example", "missing.example"])


def test_settings_need_a_known_certificate() -> None:
    changed = operations.set_settings(TABLE, Settings(tls_alert=True))
    assert changed.settings.tls_alert is True
    with pytest.raises(operations.Refused) as refusal:
        operations.set_settings(TABLE, Settings(certificate="Other"))
    assert refusal.value.message == 'unknown certificate "Other"; the certificates are Demo'


def test_default_and_clear() -> None:
    default = DefaultEntry(tls=Tls.PREFERRED)
    assert operations.set_default(TABLE, default).default == default
    assert operations.clear(TABLE).entries == {}
    assert operations.clear(TABLE).default == TABLE.default


def test_import_replaces_merge_adds_and_profiles_join() -> None:
    current = Table(bounce_profiles=("Mine",), entries={"keep.example": Entry()})
    loaded = Table(
        bounce_profiles=("Theirs",),
        default=DefaultEntry(tls=Tls.REQUIRED),
        entries={"new.example": Entry(bounce_profile="Theirs")},
    )
    partial = operations.imported(current, loaded, full=False)
    assert set(partial.entries) == {"new.example"}
    assert partial.bounce_profiles == ("Mine", "Theirs")
    assert partial.default == loaded.default
    assert operations.imported(current, loaded, full=True) == loaded
    both = operations.merged(current, loaded, replace_default=False)
    assert set(both.entries) == {"keep.example", "new.example"}
    assert both.default == current.default
    assert operations.merged(current, loaded, replace_default=True).default == loaded.default


def test_a_bad_import_is_refused_with_each_problem_and_the_note() -> None:
    data = b"[DEFAULT]\ntls = 9\n"
    with pytest.raises(operations.Refused) as refusal:
        operations.read_import(data, formats()["esa"], "x.cfg")
    lines = refusal.value.message.split("\n")
    assert lines[0] == (
        'Error in "x.cfg" line 1: [DEFAULT] lacks ip_sort_pref, max_host_concurrency, '
        "max_messages_per_connection, limit_type, limit_apply and bounce_validation"
    )
    assert lines[1].startswith('Error in "x.cfg" line 2: ')
    assert lines[-1] == "The table was not changed."
    with pytest.raises(operations.Refused) as compared:
        operations.read_import(data, formats()["esa"], "x.cfg", importing=False)
    assert compared.value.message == "\n".join(lines[:-1])


def test_detail_targets_and_their_text() -> None:
    everything = operations.detail(TABLE, "all")
    assert everything.keys == ("a.example", "b.example", None)
    assert operations.detail_text(TABLE, everything) == render_all(TABLE)
    assert operations.detail_text(TABLE, operations.detail(TABLE, "default")) == render_default(
        TABLE.default
    )
    one = operations.detail(TABLE, "b.example")
    assert operations.detail_text(TABLE, one) == render_entry(
        "b.example", TABLE.entries["b.example"], TABLE.default
    )
    with pytest.raises(operations.Refused) as refusal:
        operations.detail(TABLE, "\x1b[2J")
    assert refusal.value.message == '"\\x1b[2J" was not found in the destination control table.'
