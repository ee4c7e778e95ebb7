"""One-shot commands that a user can trust: export never replaces a file unasked, --tls
takes words, refusals that say what to do."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.helpers import run_cli


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run_cli(home, "new", "a.example").status == 0
    return home


def test_an_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    home = _home(tmp_path)
    target = tmp_path / "passwd"
    target.write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    target.chmod(0o644)
    done = run_cli(home, "export", str(target), "--format", "esa")
    assert (done.status, done.out) == (1, "")
    assert done.err == f"destconfig: {target} exists: give --force to replace it\n"
    assert target.read_bytes() == b"root:x:0:0::/root:/bin/sh\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_force_replaces_a_regular_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    home = _home(tmp_path)
    target = tmp_path / "table.cfg"
    target.write_bytes(b"old\n")
    target.chmod(0o644)
    done = run_cli(home, "export", str(target), "--force")
    assert (done.status, done.out, done.err) == (0, "", "")
    assert target.read_bytes() == run_cli(home, "export", "-").out.encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_new_file_is_private(tmp_path: Path) -> None:
    home = _home(tmp_path)
    target = tmp_path / "new.cfg"
    assert run_cli(home, "export", str(target)).status == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_force_never_follows_a_name_into_a_link_fifo_or_device(tmp_path: Path) -> None:
    home = _home(tmp_path)
    kept = tmp_path / "kept.cfg"
    kept.write_bytes(b"kept\n")
    link = tmp_path / "link.cfg"
    link.symlink_to(kept)
    fifo = tmp_path / "fifo.cfg"
    os.mkfifo(fifo)
    for target in (link, fifo, Path("/dev/null")):
        done = run_cli(home, "export", str(target), "--force")
        assert (done.status, done.out) == (1, ""), target
        assert done.err == f"destconfig: cannot write {target}: not a regular file\n"
    assert kept.read_bytes() == b"kept\n"
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_tls_numbers_are_refused_with_the_words_listed(tmp_path: Path) -> None:
    """The table file's 1 is Preferred and the menu's 1 is No: a number could weaken TLS."""
    home = tmp_path / "home"
    for number in ("0", "1", "5"):
        done = run_cli(home, "new", "x.example", "--tls", number)
        assert (done.status, done.out) == (2, ""), number
        assert done.err == (
            f"destconfig: new: argument --tls: bad value '{number}'; use NO, PREFERRED, "
            "REQUIRED, PREFERRED_VERIFY, REQUIRED_VERIFY, REQUIRED_VERIFY_HOSTED or default (not "
            "a number: the table file counts the settings from 0, the menu from 1)\n"
            "destconfig: try 'destconfig new --help' for more information\n"
        ), done.err
    assert not (home / "config.toml").exists()
    assert run_cli(home, "new", "x.example", "--tls", "preferred").status == 0


def test_clear_help_says_it_refuses_without_yes(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "home", "clear", "--help")
    assert done.status == 0
    assert "confirm the removal: clear refuses without it" in done.out
    assert "asks for" not in done.out


def test_a_file_name_of_255_bytes_can_be_exported(tmp_path: Path) -> None:
    """The temporary file beside it has a name of its own that must fit as well."""
    home = _home(tmp_path)
    target = tmp_path / ("a" * 250 + ".toml")
    done = run_cli(home, "export", str(target))
    assert (done.status, done.err) == (0, "")
    assert target.read_bytes() == run_cli(home, "export", "-", "--format", "toml").out.encode()
    again = run_cli(home, "export", str(target), "--force")
    assert (again.status, again.err) == (0, "")


def test_import_from_standard_input_recognises_toml_and_json(tmp_path: Path) -> None:
    source = _home(tmp_path)
    for fmt in ("toml", "json", "esa"):
        text = run_cli(source, "export", "-", "--format", fmt).out.encode()
        home = tmp_path / f"to-{fmt}"
        done = run_cli(home, "import", "-", stdin=text)
        assert (done.status, done.err) == (0, ""), (fmt, done.err)
        assert run_cli(home, "list").out == run_cli(source, "list").out


def test_standard_input_is_named_stdin_in_messages(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "home", "import", "-", stdin=b'{"entries": 1}\n')
    assert (done.status, done.out) == (1, "")
    assert done.err.startswith('destconfig: Error in "<stdin>"'), done.err
    assert done.err.endswith("destconfig: The table was not changed.\n")


def test_dry_run_gives_the_change_as_json_as_diff_does(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = (home / "config.toml").read_bytes()
    shown = run_cli(home, "edit", "a.example", "--tls", "required", "--dry-run", "--format", "json")
    assert (shown.status, shown.err) == (0, "")
    assert json.loads(shown.out) == {
        "equal": False,
        "only_in_a": [],
        "only_in_b": [],
        "changed": {"a.example": {"tls": {"old": None, "new": "REQUIRED"}}},
        "default": {},
        "settings": {},
        "bounce_profiles": {"only_in_a": [], "only_in_b": []},
        "certificates": {"only_in_a": [], "only_in_b": []},
    }
    assert (home / "config.toml").read_bytes() == before
    # The same document as diff's, for the same change.
    after = tmp_path / "after.toml"
    assert run_cli(home, "export", str(after)).status == 0
    edited = after.read_text(encoding="utf-8").replace(
        '"a.example" = {}', '"a.example" = { tls = "REQUIRED" }'
    )
    after.write_text(edited, encoding="utf-8")
    compared = run_cli(home, "diff", "current", str(after), "--format", "json")
    assert compared.out == shown.out


def test_an_empty_dry_run_in_json_says_equal(tmp_path: Path) -> None:
    home = _home(tmp_path)
    shown = run_cli(home, "edit", "a.example", "--dry-run", "--format", "json")
    assert (shown.status, shown.err) == (0, "")
    assert json.loads(shown.out)["equal"] is True


def test_format_without_dry_run_is_refused_and_commits_nothing(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = (home / "config.toml").read_bytes()
    done = run_cli(home, "edit", "a.example", "--tls", "required", "--format", "json")
    assert (done.status, done.out, done.err) == (
        2,
        "",
        "destconfig: --format is for --dry-run: a commit prints one line\n",
    )
    assert (home / "config.toml").read_bytes() == before
