"""IMPORT and EXPORT in the shell: what lands on disk and what is left alone."""

from __future__ import annotations

import os
from pathlib import Path

from destconfig.formats import esa
from destconfig.formats import json as json_format
from destconfig.model import Entry, Table, Tls
from destconfig.store import Store
from tests.helpers import run_session

EXAMPLES = Path(__file__).parent.parent / "examples"
NEW_REQUIRED = "new\nexample.com\nN\nN\nN\nY\n3\nN\nN\nN\n"


def test_export_writes_the_session_table_with_pending_changes(tmp_path: Path) -> None:
    outcome = run_session(tmp_path, f"destconfig\n{NEW_REQUIRED}export\nt.cfg\nexport\nt.json\n\n")
    assert 'File written on machine "ESA" to the location "configuration/t.cfg".' in (
        outcome.stdout
    )
    expected = Table().with_entry("example.com", Entry(tls=Tls.REQUIRED))
    assert (tmp_path / "configuration" / "t.cfg").read_bytes() == esa.dumps(expected)
    assert (tmp_path / "configuration" / "t.json").read_bytes() == json_format.dumps(expected)
    assert outcome.status == 1  # still pending: export is not a commit
    assert Store(tmp_path).load() == Table()


def test_declining_the_overwrite_leaves_the_file(tmp_path: Path) -> None:
    target = tmp_path / "configuration" / "t.cfg"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"keep me\n")
    outcome = run_session(tmp_path, f"destconfig\n{NEW_REQUIRED}export\nt.cfg\nN\n\n")
    assert target.read_bytes() == b"keep me\n"
    assert "File written" not in outcome.stdout


def test_failed_import_changes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    good = (EXAMPLES / "destinations.cfg").read_bytes()
    # A valid file with one bad line at the very end.
    (directory / "almost.cfg").write_bytes(good + b"\n[last.example]\ntls = 9\n")
    before = run_session(tmp_path, f"destconfig\n{NEW_REQUIRED}list\n\n").stdout
    after = run_session(tmp_path, f"destconfig\n{NEW_REQUIRED}import\nalmost.cfg\nlist\n\n").stdout
    lines = good.count(b"\n") + 3
    assert f'\n[]> almost.cfg\nError in "almost.cfg" line {lines}: bad value "9" for tls; ' in after
    assert "\nThe table was not changed.\n\nChoose the operation" in after
    listing = before[before.index("[]> list\n") :]
    assert after.endswith(listing)


def test_import_replaces_the_whole_table(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    (directory / "t.cfg").write_bytes((EXAMPLES / "destinations.cfg").read_bytes())
    answers = f"destconfig\n{NEW_REQUIRED}import\nt.cfg\n\ncommit\n\nN\n"
    outcome = run_session(tmp_path, answers)
    assert "\n[]> t.cfg\n\nThere are currently 31 entries configured.\n" in outcome.stdout
    committed = Store(tmp_path).load()
    assert committed.entries == esa.loads((EXAMPLES / "destinations.cfg").read_bytes()).entries
    assert "example.com" not in committed.entries


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    directory = tmp_path / "configuration"
    directory.mkdir()
    os.mkfifo(directory / "pipe")
    outcome = run_session(tmp_path, "destconfig\nimport\npipe\nexport\npipe\ny\n\n")
    assert '\n[]> pipe\nThe file "pipe" cannot be read: not a regular file.\n' in outcome.stdout
    assert 'The file "pipe" could not be written: not a regular file.\n' in outcome.stdout


def test_names_are_escaped_in_messages(tmp_path: Path) -> None:
    outcome = run_session(tmp_path, "destconfig\nimport\nred\x1b[31m.cfg\n\n")
    assert (
        '[]> red\\x1b[31m.cfg\nThe file "red\\x1b[31m.cfg" does not exist in the '
        "configuration directory.\n" in outcome.stdout
    )
    assert "\x1b" not in outcome.stdout
