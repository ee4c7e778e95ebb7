"""What a session loads before it needs it: the cost every scripted session pays.

A piped session is measured in ``benchmarks/``; here the rules behind the figures
are pinned: which modules a session imports, and that a session on a new home
builds the factory table (and pydantic's models) only when a command needs it.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destconfig.cli import main
from destconfig.gcpause import keep, without_gc
from destconfig.model import FACTORY_TABLE, Table
from destconfig.store import Store

ROOT = Path(__file__).parent.parent


def imported_modules(home: Path, answers: bytes) -> set[str]:
    """The modules a piped session imports, as ``-X importtime`` lists them."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "destconfig", "--home", str(home)],
        input=answers,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "DESTCONFIG_HOME": str(home)},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr.decode()
    names = set()
    for line in run.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "destconfig.cli" in names  # the listing is what it claims to be
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_a_piped_quit_on_a_new_home_defines_no_models(tmp_path: Path) -> None:
    names = imported_modules(tmp_path / "home", b"quit\n")
    assert "destconfig.shell.host" in names
    assert not {"pydantic", "pydantic_core", "prompt_toolkit", "rich"} & top_level(names)
    assert "destconfig.model" not in names
    assert "destconfig.shell.menu" not in names


def test_a_piped_session_that_opens_the_menu_builds_the_table(tmp_path: Path) -> None:
    names = imported_modules(tmp_path / "home", b"destconfig\nlist\n\nquit\n")
    assert {"destconfig.model", "destconfig.shell.menu"} <= names
    assert not {"prompt_toolkit", "rich"} & top_level(names)


def test_a_piped_session_with_a_committed_table_reads_it_at_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Store(home).commit(FACTORY_TABLE, comment="", when=_when(), keep_rollback=False)
    names = imported_modules(home, b"quit\n")
    assert {"destconfig.model", "destconfig.formats.toml"} <= names
    assert not {"prompt_toolkit", "rich"} & top_level(names)


def _when() -> datetime:
    return datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


# --- Store.load_committed ---------------------------------------------------------------


def test_load_committed_is_none_on_a_new_home(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.load_committed() is None
    assert store.load() is FACTORY_TABLE


def test_load_committed_reads_a_committed_table(tmp_path: Path) -> None:
    store = Store(tmp_path)
    table = Table().with_settings(Table().settings.model_copy(update={"tls_alert": True}))
    store.commit(table, comment="", when=_when(), keep_rollback=False)
    assert Store(tmp_path).load_committed() == table


# --- without_gc -------------------------------------------------------------------------


def test_without_gc_pauses_the_collector_and_restores_it() -> None:
    seen: list[bool] = []

    @without_gc
    def work(value: int) -> int:
        seen.append(gc.isenabled())
        return value * 2

    assert gc.isenabled()
    assert work(21) == 42
    assert seen == [False]
    assert gc.isenabled()


def test_without_gc_restores_the_collector_after_an_error() -> None:
    @without_gc
    def fails() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        fails()
    assert gc.isenabled()


def test_without_gc_leaves_a_paused_collector_paused() -> None:
    @without_gc
    def work() -> bool:
        return gc.isenabled()

    gc.disable()
    try:
        assert work() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["esa", "toml", "json"])
def test_every_format_reads_without_the_collector_and_restores_it(name: str) -> None:
    from destconfig.formats import formats

    fmt = formats()[name]
    assert hasattr(fmt.loads, "__wrapped__")  # the reader is the paused one
    assert fmt.loads(fmt.dumps(FACTORY_TABLE)) == FACTORY_TABLE
    assert gc.isenabled()


# --- keep -------------------------------------------------------------------------------


def test_keep_moves_what_was_built_out_of_the_collector_s_walks() -> None:
    gc.unfreeze()
    built = [{"entry": number} for number in range(1000)]
    keep()
    assert gc.get_freeze_count() >= len(built)
    gc.unfreeze()


@pytest.mark.parametrize("words", [[], ["list"]], ids=["shell", "one-shot"])
def test_a_process_keeps_the_table_it_read(
    tmp_path: Path, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shell and a one-shot command both leave their table out of the collector's way."""
    home = tmp_path / "home"
    Store(home).commit(FACTORY_TABLE, comment="", when=_when(), keep_rollback=False)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with open(os.devnull) as nothing:
        monkeypatch.setattr(sys, "stdin", nothing)  # the shell reads end of input
        assert main(["--home", str(home), *words]) == 0
    assert gc.get_freeze_count() > 0
