"""Every valid table survives dumps then loads, in every format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from destconfig.formats import esa, formats
from destconfig.model import Table
from tests.strategies import tables


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(tables())
def test_full_formats_round_trip(table: Table) -> None:
    for fmt in formats().values():
        if fmt.full:
            assert fmt.loads(fmt.dumps(table)) == table, fmt.name


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(tables())
def test_esa_keeps_the_default_entry_and_the_entries(table: Table) -> None:
    loaded = esa.loads(esa.dumps(table))
    assert loaded.default == table.default
    assert loaded.entries == table.entries
    used = {e.bounce_profile for e in table.entries.values() if e.bounce_profile is not None}
    assert set(loaded.bounce_profiles) == used


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(tables())
def test_esa_export_import_export_gives_the_same_bytes(table: Table) -> None:
    exported = esa.dumps(table)
    assert esa.dumps(esa.loads(exported)) == exported
