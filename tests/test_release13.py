"""The release profile: how a session chooses release 13, and what release 13 does differently.

The dialogue itself is pinned byte for byte by ``transcripts/release13-*.txt``;
here: the choice (``--release``, ``setup --release``, the home's settings), the
rules the transcripts cannot show on a fresh home (another certificate than
Demo, a table whose entries already use DANE) and the seed release's unchanged
questions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from destconfig.model import FACTORY_TABLE, Dane, Entry, Settings, Table, Tls
from destconfig.replay import release_of, replay_text
from destconfig.store import Store, StoreError
from tests.helpers import run_cli, run_ok, run_session
from tests.test_commands import snapshot
from tests.test_replay import MENU

TRANSCRIPTS = Path(__file__).parent.parent / "transcripts"

DANE_GATE = "Do you wish to configure DANE Support for this domain? [N]> "
CERTCONFIG = "You have chosen to enable TLS. Please use the 'certconfig' command to\n"
NO_CERTIFICATE = "you have not entered a certificate"

# NEW example.com: no limits, TLS Required, then N to every question after it.
NEW_TLS_REQUIRED = "destconfig\nnew\nexample.com\nn\nn\nn\ny\n3\nn\nn\nn\nn\nn\n\nquit\ny\n"


def _commit(home: Path, table: Table) -> None:
    when = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    Store(home).commit(table, comment="", when=when, keep_rollback=False)


# --- choosing the release ----------------------------------------------------------------


def test_the_seed_release_is_the_default(tmp_path: Path) -> None:
    shown = run_session(tmp_path, NEW_TLS_REQUIRED).stdout
    assert DANE_GATE not in shown
    assert CERTCONFIG in shown


def test_release_13_on_the_command_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--release", "13", stdin=NEW_TLS_REQUIRED.encode())
    assert DANE_GATE in done.out
    assert NO_CERTIFICATE in done.out
    assert CERTCONFIG not in done.out


def test_setup_release_is_kept_in_the_homes_settings(tmp_path: Path) -> None:
    done = run_ok(tmp_path, "setup", "--release", "13")
    assert done.out == "The shell speaks the dialogue of release 13.\n"
    assert (tmp_path / "settings.toml").read_bytes() == b'[shell]\nrelease = "13"\n'
    assert Store(tmp_path).release() == "13"
    assert DANE_GATE in run_session(tmp_path, NEW_TLS_REQUIRED).stdout
    # Nothing was committed: the release is no part of the table.
    assert not (tmp_path / "config.toml").exists()


def test_the_command_line_overrides_the_homes_release(tmp_path: Path) -> None:
    run_ok(tmp_path, "setup", "--release", "13")
    done = run_cli(tmp_path, "--release", "seed", stdin=NEW_TLS_REQUIRED.encode())
    assert DANE_GATE not in done.out
    assert CERTCONFIG in done.out
    run_ok(tmp_path, "setup", "--release", "seed")
    assert DANE_GATE in run_cli(tmp_path, "--release", "13", stdin=NEW_TLS_REQUIRED.encode()).out


def test_the_release_and_the_rollback_setting_keep_each_other(tmp_path: Path) -> None:
    run_ok(tmp_path, "rollback", "--keep", "5")
    run_ok(tmp_path, "setup", "--release", "13")
    store = Store(tmp_path)
    assert (store.rollback_keep(), store.release()) == (5, "13")
    run_ok(tmp_path, "rollback", "--keep", "7")
    assert (store.rollback_keep(), store.release()) == (7, "13")
    assert (tmp_path / "settings.toml").read_bytes() == (
        b'[rollback]\nkeep = 7\n\n[shell]\nrelease = "13"\n'
    )


def test_setup_release_with_other_settings_commits_them_too(tmp_path: Path) -> None:
    done = run_ok(tmp_path, "setup", "--release", "13", "--tls-alert", "on")
    assert done.out.startswith("Changes committed: ")
    assert done.out.endswith(" UTC\nThe shell speaks the dialogue of release 13.\n")
    assert Store(tmp_path).load().settings.tls_alert is True


@pytest.mark.parametrize(
    ("committed", "settings"), [(False, None), (True, None), (True, b"[rollback]\nkeep = 7\n")]
)
def test_a_refused_setup_keeps_no_release(
    tmp_path: Path, committed: bool, settings: bytes | None
) -> None:
    if committed:
        run_ok(tmp_path, "setup", "--tls-alert", "on")
    if settings is not None:
        (tmp_path / "settings.toml").write_bytes(settings)
    before = snapshot(tmp_path)
    done = run_cli(tmp_path, "setup", "--release", "13", "--certificate", "Nope")
    assert done.status == 1
    assert done.out == ""
    assert done.err == 'destconfig: unknown certificate "Nope"; the certificates are Demo\n'
    assert snapshot(tmp_path) == before
    assert Store(tmp_path).release() is None


def test_setup_release_dry_run_keeps_nothing(tmp_path: Path) -> None:
    run_ok(tmp_path, "setup", "--release", "13", "--dry-run")
    assert Store(tmp_path).release() is None


def test_an_unknown_release_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--release", "12", stdin=b"quit\n")
    assert done.status == 2
    assert "invalid choice: '12'" in done.err
    assert run_cli(tmp_path, "setup", "--release", "12").status == 2


def test_a_settings_file_with_an_unknown_release_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text('[shell]\nrelease = "12"\n')
    done = run_cli(tmp_path, stdin=NEW_TLS_REQUIRED.encode())
    assert done.status == 0
    assert done.err == (
        f"destconfig: warning: {tmp_path}/settings.toml is not a valid settings file: "
        'shell.release must be "seed" or "13"; the seed release\'s dialogue is spoken\n'
    )
    assert DANE_GATE not in done.out
    # --release says what the home cannot: no warning, since the setting is not needed.
    done = run_cli(tmp_path, "--release", "13", stdin=NEW_TLS_REQUIRED.encode())
    assert (done.status, done.err) == (0, "")
    assert DANE_GATE in done.out
    (tmp_path / "settings.toml").write_text('[shell]\ndialogue = "13"\n')
    with pytest.raises(StoreError, match=r"unknown setting shell\.dialogue"):
        Store(tmp_path).release()
    # setup --release does not replace a settings file it cannot read.
    done = run_cli(tmp_path, "setup", "--release", "13")
    assert done.status == 1
    assert "unknown setting shell.dialogue" in done.err
    assert (tmp_path / "settings.toml").read_text() == '[shell]\ndialogue = "13"\n'


# --- what release 13 does ----------------------------------------------------------------


def test_with_a_certificate_of_its_own_release_13_gives_the_certconfig_notice(
    tmp_path: Path,
) -> None:
    table = FACTORY_TABLE.model_copy(
        update={"certificates": ("Demo", "mail"), "settings": Settings(certificate="mail")}
    )
    _commit(tmp_path, table)
    shown = run_cli(tmp_path, "--release", "13", stdin=NEW_TLS_REQUIRED.encode()).out
    assert DANE_GATE in shown
    assert NO_CERTIFICATE not in shown
    assert CERTCONFIG in shown


def test_the_certificate_question_n_keeps_tls_and_dane_as_they_were(tmp_path: Path) -> None:
    entry = Entry(tls=Tls.REQUIRED, dane=Dane.MANDATORY)
    _commit(tmp_path, FACTORY_TABLE.with_entry("example.com", entry))
    # EDIT: TLS Preferred, DANE Opportunistic, then N at the certificate question; commit.
    answers = "destconfig\nedit\nexample.com\nn\nn\nn\ny\n2\ny\n2\nn\nn\nn\nn\n\ncommit\nquit\n"
    done = run_cli(tmp_path, "--release", "13", stdin=answers.encode())
    assert done.status == 0, done.err
    assert "There are no changes to commit." in done.out
    assert Store(tmp_path).load().entries["example.com"] == entry


def test_tls_no_makes_an_entrys_dane_no_without_asking(tmp_path: Path) -> None:
    with_dane = FACTORY_TABLE.with_entry(
        "example.com", Entry(tls=Tls.REQUIRED, dane=Dane.MANDATORY)
    )
    answers = "destconfig\nedit\nexample.com\nn\nn\nn\ny\n1\nn\nn\nn\n\ncommit\n\nn\nquit\n"
    for release in ("13", "seed"):
        _commit(tmp_path, with_dane)
        done = run_cli(tmp_path, "--release", release, stdin=answers.encode())
        assert done.status == 0, done.err
        assert "DANE" not in done.out
        entry = Store(tmp_path).load().entries["example.com"]
        assert (entry.tls, entry.dane) == (Tls.NO, Dane.NO)


def test_dane_is_asked_under_the_default_entrys_tls(tmp_path: Path) -> None:
    default = FACTORY_TABLE.default.model_copy(update={"tls": Tls.PREFERRED})
    _commit(tmp_path, FACTORY_TABLE.with_default(default))
    # NEW with the TLS gate N: TLS stays Default (Preferred), so DANE is asked; no
    # certificate question, as TLS was not chosen here.
    answers = "destconfig\nnew\nexample.com\nn\nn\nn\nn\ny\n3\nn\nn\nn\n\ncommit\n\nn\nquit\n"
    done = run_cli(tmp_path, "--release", "13", stdin=answers.encode())
    assert done.status == 0, done.err
    assert DANE_GATE in done.out
    assert NO_CERTIFICATE not in done.out
    entry = Store(tmp_path).load().entries["example.com"]
    assert (entry.tls, entry.dane) == (None, Dane.MANDATORY)


def test_the_seed_release_lists_known_profiles_before_new_profile(tmp_path: Path) -> None:
    table = FACTORY_TABLE.model_copy(update={"bounce_profiles": ("bulk",)})
    _commit(tmp_path, table)
    answers = "destconfig\nnew\nexample.com\nn\nn\nn\nn\nn\ny\n\nn\n\nquit\ny\n"
    seed = run_session(tmp_path, answers).stdout
    assert "1. Default\n2. bulk\n3. New Profile\n[1]> " in seed
    release13 = run_cli(tmp_path, "--release", "13", stdin=answers.encode()).out
    assert "1. Default\n2. New Profile\n3. bulk\n[1]> " in release13


# --- transcripts -------------------------------------------------------------------------


def test_a_transcripts_name_gives_its_release() -> None:
    assert release_of(Path("release13-new-dane.txt")) == "13"
    assert release_of(Path("new-all-settings.txt")) is None
    assert release_of(Path("releaseseed-x.txt")) is None  # seed is no prefix: it is the default
    assert release_of(Path("release12-x.txt")) is None


def test_release_13_transcripts_exist_and_need_their_release() -> None:
    paths = sorted(TRANSCRIPTS.glob("release13-*.txt"))
    assert len(paths) >= 5
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert replay_text(text, release="13") is None, path.name
        assert replay_text(text) is not None, path.name  # the seed dialogue differs


# DEFAULT with TLS No under an entry whose own DANE needs TLS: refused at the TLS choice,
# which is asked again; the answers before it stay.
_MENU = "\n" + MENU  # the seed menu, as test_replay has it
_TLS_CHOICE = (
    "\nDo you want to use TLS support?\n"
    "1. No\n2. Preferred\n3. Required\n4. Preferred - Verify\n5. Required - Verify\n"
    "6. Required - Verify Hosted Domains\n[2]> "
)
_BEFORE_TLS = (
    "ESA> destconfig\n" + _MENU + "[]> default\n"
    "\nEnter the default maximum concurrency limit.\n[500]> 7\n"
    "\nEnter the default maximum number of messages per connection.\n[50]> \n"
    "\nDo you wish to specify a default recipient limit? [N]> n\n"
    "\nSelect how you want to apply the limits for domains with no specific entry:\n"
    "1. One limit applies to the entire domain\n"
    "2. Separate limit for each mail exchanger IP address\n[1]> \n"
    "\nSelect how the limits will be enforced:\n"
    "1. System Wide\n2. Per Virtual Gateway(tm)\n[1]> \n" + _TLS_CHOICE + "1\n"
    "e1.example: DANE Opportunistic or Mandatory needs TLS; with TLS No, DANE must be No\n"
    + _TLS_CHOICE
    + "3\n"
)
_AFTER_TLS = (
    "\nPerform bounce verification address tagging? [N]> \n"
    "\nHow should the appliance sort IP addresses within an MX preference level\n"
    "for mail destined to domains with no specific entry?\n"
    "1. Prefer IPv4\n2. Prefer IPv6\n3. Require IPv4\n4. Require IPv6\n[2]> \n"
    "\nThere is currently 1 entry configured.\n" + _MENU + "[]> \n"
    "\nESA> commit\n"
    "\nPlease enter some comments describing your changes:\n[]> \n"
    "\nDo you want to save the current configuration for rollback? [Y]> n\n"
    "\nChanges committed: Fri Nov 27 21:06:44 2026 UTC\n"
    "\nESA> quit\n"
)
_TLS_SEQUEL = {
    "seed": (
        "\nYou have chosen to enable TLS. Please use the 'certconfig' command to\n"
        "ensure that there is a valid certificate configured.\n"
    ),
    "13": (
        "\nDo you want to use DANE Support?\n1. No\n2. Opportunistic\n3. Mandatory\n[1]> \n"
        "\nYou have chosen to enable TLS, but you have not entered a certificate: the\n"
        '"Demo" certificate is for testing only. Use this TLS setting anyway? [Y]> \n'
    ),
}


@pytest.mark.parametrize("release", ["seed", "13"])
def test_default_tls_no_is_refused_at_once_under_an_entrys_dane(
    tmp_path: Path, release: str
) -> None:
    default = FACTORY_TABLE.default.model_copy(update={"tls": Tls.PREFERRED})
    table = FACTORY_TABLE.with_default(default).with_entry("e1.example", Entry(dane=Dane.MANDATORY))
    _commit(tmp_path, table)
    # Concurrency 7, TLS No (refused), then Required; every later question at its default.
    sequel = "\n\n" if release == "13" else ""
    answers = f"destconfig\ndefault\n7\n\nn\n\n\n1\n3\n{sequel}\n\n\ncommit\n\nn\nquit\n"
    done = run_cli(tmp_path, "--release", release, stdin=answers.encode())
    assert (done.status, done.err) == (0, "")
    assert done.out == _BEFORE_TLS + _TLS_SEQUEL[release] + _AFTER_TLS
    kept = Store(tmp_path).load()
    assert (kept.default.max_host_concurrency, kept.default.tls) == (7, Tls.REQUIRED)
    assert kept.entries == table.entries
