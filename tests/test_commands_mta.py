"""``export``/``import --format postfix`` and ``export --format kumomta`` as commands:
the files written, what may be replaced, losses and --strict, imports all or nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from destconfig.formats import esa, kumomta, postfix
from tests.helpers import run_cli

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    done = run_cli(home, "import", str(EXAMPLES / "destinations.cfg"))
    assert done.status == 0, done.err
    return home


def table_of(home: Path) -> bytes:
    return (home / "config.toml").read_bytes()


def test_export_writes_the_four_files_and_reports_each_loss(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    done = run_cli(home, "export", str(target), "--format", "postfix", "--map-type", "lmdb")
    assert (done.status, done.out) == (0, "")
    table = esa.loads((EXAMPLES / "destinations.cfg").read_bytes())
    expected = postfix.render(table, str(target), "lmdb")
    assert {name: (target / name).read_bytes() for name in postfix.FILES} == expected.files
    assert done.err == "".join(f"destconfig: warning: {loss}\n" for loss in expected.losses)
    for name in postfix.FILES:  # Postfix's delivery agents read them as its own user
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o644


def test_strict_writes_nothing_when_a_setting_is_lost(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    done = run_cli(home, "export", str(target), "--format", "postfix", "--strict")
    assert done.status == 1
    assert done.err.endswith(
        "destconfig: --strict: 82 settings would not be kept exactly; nothing was written\n"
    )
    assert not target.exists()


def test_a_table_close_to_postfix_loses_only_the_default_entrys_preference(
    tmp_path: Path,
) -> None:
    """Every default entry prefers an address family, which Postfix applies only among MX
    hosts of equal preference: that loss is always reported, and --strict refuses it."""
    home = tmp_path / "home"
    for args in (
        ("default", "--concurrency", "5", "--messages-per-connection", "1"),
        ("new", "a.example", "--tls", "required"),
        ("new", ".b.example", "--tls", "required-verify-hosted"),
    ):
        assert run_cli(home, *args).status == 0
    target = tmp_path / "postfix"
    done = run_cli(home, "export", str(target), "--format", "postfix")
    assert (done.status, done.out) == (0, "")
    assert done.err == (
        "destconfig: warning: (Default): ip_sort_pref: Postfix prefers the address family "
        "only among MX hosts of equal preference\n"
    )


def test_an_export_replaces_its_own_files_and_leaves_the_others(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    assert run_cli(home, "export", str(target), "--format", "postfix").status == 0
    (target / "README").write_text("mine\n")
    assert run_cli(home, "new", "z.example", "--tls", "no").status == 0
    again = run_cli(home, "export", str(target), "--format", "postfix")
    assert again.status == 0
    assert b"\nz.example none\n" in (target / "tls_policy").read_bytes()
    assert (target / "README").read_text() == "mine\n"


def test_a_file_it_did_not_write_is_refused_without_force(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    target.mkdir()
    (target / "main.cf").write_bytes(b"myhostname = mx.example\n")
    done = run_cli(home, "export", str(target), "--format", "postfix")
    assert done.status == 1
    assert done.err.endswith(
        f"destconfig: {target}/main.cf exists and was not written by destconfig: give --force "
        "to replace it\n"
    )
    # Every file is checked before any is written.
    assert sorted(os.listdir(target)) == ["main.cf"]
    assert (target / "main.cf").read_bytes() == b"myhostname = mx.example\n"
    forced = run_cli(home, "export", str(target), "--format", "postfix", "--force")
    assert forced.status == 0
    assert postfix.written_here((target / "main.cf").read_bytes())


def test_a_link_in_the_directory_is_never_followed(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    target.mkdir()
    outside = tmp_path / "passwd"
    outside.write_bytes(b"root:x:0:0\n")
    (target / "transport").symlink_to(outside)
    done = run_cli(home, "export", str(target), "--format", "postfix", "--force")
    assert done.status == 1
    assert done.err.endswith(f"destconfig: cannot write {target}/transport: not a regular file\n")
    assert outside.read_bytes() == b"root:x:0:0\n"
    assert sorted(os.listdir(target)) == ["transport"]


def test_export_then_import_gives_the_identical_table(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    assert run_cli(home, "export", str(target), "--format", "postfix").status == 0
    other = tmp_path / "other"
    done = run_cli(other, "import", str(target), "--format", "postfix")
    assert (done.status, done.err) == (0, "")
    assert table_of(other) == table_of(home)


def test_a_broken_import_names_each_file_and_line_and_changes_nothing(
    home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "postfix"
    target.mkdir()
    (target / "tls_policy").write_bytes(b"example.com sometimes\n")
    (target / "transport").write_bytes(b"x.example\n")
    before = table_of(home)
    done = run_cli(home, "import", str(target), "--format", "postfix")
    assert (done.status, done.out) == (1, "")
    assert done.err == (
        f'destconfig: Error in "{target}/tls_policy" line 1: unknown TLS policy "sometimes"\n'
        f'destconfig: Error in "{target}/transport" line 1: a transport line is a destination '
        "and transport:nexthop\n"
        "destconfig: The table was not changed.\n"
    )
    assert table_of(home) == before


def test_a_hand_written_configuration_imports_with_warnings(tmp_path: Path) -> None:
    target = tmp_path / "postfix"
    target.mkdir()
    (target / "tls_policy").write_bytes(b"partner.example encrypt\n")
    home = tmp_path / "home"
    done = run_cli(home, "import", str(target), "--format", "postfix")
    assert done.status == 0
    assert done.err == (
        "destconfig: warning: tls_policy line 1: partner.example: tls: read approximately "
        "from Postfix\n"
    )
    listed = run_cli(home, "detail", "partner.example")
    assert "    TLS Support:                     Required\n" in listed.out


def test_import_of_a_missing_directory(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "home", "import", str(tmp_path / "none"), "--format", "postfix")
    assert (done.status, done.out) == (1, "")
    assert done.err == f"destconfig: cannot read {tmp_path / 'none'}: No such file or directory\n"


def test_kumomta_export(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "shaping.toml"
    done = run_cli(home, "export", str(target), "--format", "kumomta")
    assert done.status == 0
    table = esa.loads((EXAMPLES / "destinations.cfg").read_bytes())
    data, losses = kumomta.render(table)
    assert target.read_bytes() == data
    assert done.err == "".join(f"destconfig: warning: {loss}\n" for loss in losses)
    assert run_cli(home, "export", str(target), "--format", "kumomta").status == 0  # its own
    target.write_bytes(b"# mine\n")
    refused = run_cli(home, "export", str(target), "--format", "kumomta")
    assert refused.status == 1 and target.read_bytes() == b"# mine\n"


def test_the_mta_options_go_with_the_mta_formats(home: Path, tmp_path: Path) -> None:
    done = run_cli(home, "export", str(tmp_path / "t.toml"), "--strict")
    assert (done.status, done.err) == (
        2,
        "destconfig: --strict and --map-type are for --format postfix or kumomta\n",
    )
    to_stdout = run_cli(home, "export", "-", "--format", "postfix")
    assert (to_stdout.status, to_stdout.err) == (
        2,
        "destconfig: --format postfix writes files, not standard output\n",
    )
