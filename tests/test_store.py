"""The store (spec §9): load, commit, rollback copies, the atomic write, damaged files."""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import toml as toml_format
from destconfig.model import (
    DefaultEntry,
    Entry,
    IpSort,
    LimitApply,
    LimitType,
    Settings,
    Table,
    Tls,
)
from destconfig.store import Store, StoreError, atomic_write

WHEN = datetime(2026, 11, 27, 21, 6, 44, tzinfo=UTC)

RICH = (
    Table(
        certificates=("Mine",),
        settings=Settings(certificate="Mine", tls_alert=True),
        bounce_profiles=("quiet",),
    )
    .with_default(
        DefaultEntry(
            ip_sort_pref=IpSort.REQUIRE_V4,
            max_host_concurrency=1000,
            max_messages_per_connection=1,
            recipient_minutes=60,
            recipient_limit=1_000_000_000,
            limit_type=LimitType.MXIP,
            limit_apply=LimitApply.VG,
            bounce_validation=True,
            tls=Tls.REQUIRED_VERIFY_HOSTED,
        )
    )
    .with_entry("example.com", Entry(tls=Tls.REQUIRED))
    .with_entry(".example.org", Entry(bounce_profile="bulk-1"))
    .with_entry("[2001:db8::1]", Entry(ip_sort_pref=IpSort.PREFER_V4, bounce_validation=False))
    .with_entry("[192.0.2.25]", Entry(max_messages_per_connection=7))
    .with_entry("xn--fa-hia.de", Entry(tls=Tls.NO))
    .with_entry(
        "xn--r8jz45g.jp",
        Entry(
            max_host_concurrency=1,
            recipient_minutes=1,
            recipient_limit=0,
            limit_type=LimitType.HOST,
            limit_apply=LimitApply.VG,
            bounce_profile="quiet",
        ),
    )
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


# --- load -------------------------------------------------------------------------------


def test_load_on_an_empty_home_is_the_factory_table(tmp_path: Path) -> None:
    assert Store(tmp_path).load() == Table()


def test_load_on_a_missing_home_is_the_factory_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "not" / "there")
    assert store.load() == Table()
    assert not (tmp_path / "not").exists()  # loading creates nothing


def test_load_keeps_the_configuration_directory(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.prepare()
    (store.configuration_dir / "table.cfg").write_bytes(b"kept")
    assert store.load() == Table()
    assert (store.configuration_dir / "table.cfg").read_bytes() == b"kept"


# --- commit and load --------------------------------------------------------------------


def test_commit_then_load_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(RICH, comment="everything", when=WHEN, keep_rollback=False)
    loaded = Store(tmp_path).load()
    assert loaded == RICH
    assert loaded.bounce_profiles == ("bulk-1", "quiet")
    assert loaded.certificates == ("Demo", "Mine")
    assert loaded.entries["[2001:db8::1]"] == Entry(
        ip_sort_pref=IpSort.PREFER_V4, bounce_validation=False
    )
    assert loaded.entries["xn--fa-hia.de"] == Entry(tls=Tls.NO)
    assert loaded.sorted_keys() == RICH.sorted_keys()


def test_commit_of_the_factory_table_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="", when=WHEN, keep_rollback=False)
    assert store.config_path.is_file()
    assert store.load() == Table()


def test_a_later_commit_replaces_the_earlier(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(RICH, comment="one", when=WHEN, keep_rollback=False)
    smaller = RICH.without_entry("example.com")
    store.commit(smaller, comment="two", when=WHEN, keep_rollback=False)
    assert store.load() == smaller
    assert store.load() != RICH


_keys = st.sampled_from(
    ["example.com", ".example.com", "[192.0.2.1]", "[2001:db8::1]", "xn--bcher-kva.de", "a.b"]
)
_entries = st.builds(
    Entry,
    ip_sort_pref=st.none() | st.sampled_from(IpSort),
    max_messages_per_connection=st.none() | st.integers(1, 1000),
    bounce_validation=st.none() | st.booleans(),
    bounce_profile=st.none() | st.sampled_from(["bulk", "Quiet.1", "z_z"]),
    tls=st.none() | st.sampled_from(Tls),
)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(_keys, _entries, max_size=6), st.booleans())
def test_round_trip_property(entries: dict[str, Entry], alert: bool) -> None:
    table = Table().with_settings(Settings(tls_alert=alert))
    for key, entry in entries.items():
        table = table.with_entry(key, entry)
    with tempfile.TemporaryDirectory() as directory:
        store = Store(Path(directory))
        store.commit(table, comment="c", when=WHEN, keep_rollback=False)
        assert store.load() == table


# --- permissions ------------------------------------------------------------------------


def test_config_is_private_and_home_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    store.commit(RICH, comment="", when=WHEN, keep_rollback=True)
    assert mode(home) == 0o700
    assert mode(store.config_path) == 0o600
    assert mode(store.configuration_dir) == 0o700
    assert mode(store.rollback_dir) == 0o700
    for copy in store.rollback_dir.iterdir():
        assert mode(copy) == 0o600


def test_prepare_makes_a_private_home(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    Store(home).prepare()
    assert mode(home) == 0o700
    assert mode(home / "configuration") == 0o700


def test_config_stays_private_after_a_second_commit(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="", when=WHEN, keep_rollback=False)
    store.commit(RICH, comment="", when=WHEN, keep_rollback=False)
    assert mode(store.config_path) == 0o600


# --- rollback copies --------------------------------------------------------------------


def test_keep_rollback_copies_the_previous_bytes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="first", when=WHEN, keep_rollback=False)
    previous = store.config_path.read_bytes()
    store.commit(RICH, comment="second", when=WHEN, keep_rollback=True)
    copies = sorted(store.rollback_dir.glob("*.toml"))
    assert [copy.name for copy in copies] == ["config-00000001-20261127T210644.toml"]
    assert copies[0].read_bytes() == previous
    assert store.config_path.read_bytes() != previous
    assert store.load() == RICH


def test_no_rollback_copy_when_declined(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="first", when=WHEN, keep_rollback=False)
    store.commit(RICH, comment="second", when=WHEN, keep_rollback=False)
    assert not store.rollback_dir.exists() or list(store.rollback_dir.iterdir()) == []


def test_first_commit_rollback_copy_is_the_factory_configuration(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(RICH, comment="", when=WHEN, keep_rollback=True)
    (copy,) = store.rollback_dir.glob("*.toml")
    assert toml_format.loads(copy.read_bytes()) == Table()


def test_two_rollback_copies_in_the_same_second_get_distinct_names(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = Table().with_entry("a.example", Entry())
    second = first.with_entry("b.example", Entry())
    store.commit(first, comment="", when=WHEN, keep_rollback=False)
    bytes_first = store.config_path.read_bytes()
    store.commit(second, comment="", when=WHEN, keep_rollback=True)
    bytes_second = store.config_path.read_bytes()
    store.commit(RICH, comment="", when=WHEN, keep_rollback=True)
    copies = {path.name: path.read_bytes() for path in store.rollback_dir.glob("*.toml")}
    assert len(copies) == 2
    assert all(name.startswith("config-") and name.endswith(".toml") for name in copies)
    assert sorted(copies.values()) == sorted([bytes_first, bytes_second])
    assert copies["config-00000001-20261127T210644.toml"] == bytes_first
    assert copies["config-00000002-20261127T210644.toml"] == bytes_second
    assert bytes_first != bytes_second


def test_rollback_copies_in_different_seconds(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="", when=WHEN, keep_rollback=True)
    later = datetime(2026, 11, 27, 21, 6, 45, tzinfo=UTC)
    store.commit(RICH, comment="", when=later, keep_rollback=True)
    names = sorted(path.name for path in store.rollback_dir.glob("*.toml"))
    assert names == ["config-00000001-20261127T210644.toml", "config-00000002-20261127T210645.toml"]


# --- the atomic write -------------------------------------------------------------------


def test_commit_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="", when=WHEN, keep_rollback=True)
    store.commit(RICH, comment="", when=WHEN, keep_rollback=True)
    assert leftovers(tmp_path) == []
    assert leftovers(store.rollback_dir) == []
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".config.toml")]


def test_atomic_write_writes_exactly_the_bytes(tmp_path: Path) -> None:
    target = tmp_path / "file"
    atomic_write(target, b"one\n")
    assert target.read_bytes() == b"one\n"
    atomic_write(target, b"")
    assert target.read_bytes() == b""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


def _fail_replace(*args: Any, **kwargs: Any) -> None:
    raise OSError(28, "No space left on device")


def test_failed_replace_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    store.commit(Table(), comment="", when=WHEN, keep_rollback=False)
    before = store.config_path.read_bytes()
    names_before = sorted(path.name for path in tmp_path.iterdir())
    monkeypatch.setattr(os, "replace", _fail_replace)
    with pytest.raises(OSError, match="No space left on device"):
        store.commit(RICH, comment="", when=WHEN, keep_rollback=False)
    monkeypatch.undo()
    assert store.config_path.read_bytes() == before
    assert leftovers(tmp_path) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == names_before
    assert store.load() == Table()


def test_failed_replace_of_a_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "new"
    monkeypatch.setattr(os, "replace", _fail_replace)
    with pytest.raises(OSError):
        atomic_write(target, b"data")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


# --- damaged files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"this is [not toml\n",
        b"\xff\xfe\x00garbage",
        b'[settings]\ncertificate = "Unknown"\n',
        b'[entries."Example.COM"]\n',
        b'[entries."example.com"]\ntls = "SOMETIMES"\n',
        b'[entries."example.com"]\nmax_host_concurrency = 5\n',  # no limit_type/limit_apply
        b"[default]\nmax_host_concurrency = 0\n",
        b"unknown_key = 1\n",
        b'entries = "not a table"\n',
    ],
)
def test_a_damaged_config_raises_store_error_naming_the_file(tmp_path: Path, data: bytes) -> None:
    store = Store(tmp_path)
    store.config_path.write_bytes(data)
    with pytest.raises(StoreError) as error:
        store.load()
    assert str(store.config_path) in str(error.value)
    assert store.config_path.read_bytes() == data  # left as it is


def test_an_unreadable_config_raises_store_error_naming_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.config_path.mkdir()
    with pytest.raises(StoreError) as error:
        store.load()
    assert str(store.config_path) in str(error.value)
