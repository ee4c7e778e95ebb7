"""The table on a running Postfix: tables exported with ``destconfig export --format
postfix``, installed into a real instance (tests/postfix.py), and mail sent through it
to aiosmtpd servers on loopback, checked both in Postfix's log and in what each server
received.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.postfix import SENDER, Destination, Postfix, destination, running
from tests.tlsservers import Pki

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def export(home: Path, changes: list[tuple[str, ...]], target: Path) -> Path:
    """A home with *changes* made by one-shot commands, exported to *target*."""
    for change in changes:
        done = run_cli(home, *change)
        assert done.status == 0, (change, done.err)
    done = run_cli(home, "export", str(target), "--format", "postfix")
    assert done.status == 0, done.err
    return target


@pytest.fixture
def plain() -> Iterator[Destination]:
    """A server that does not offer STARTTLS."""
    with destination("mx.plain.test") as server:
        yield server


@pytest.fixture
def named(pki: Pki) -> Iterator[Destination]:
    """STARTTLS with a certificate naming the test domains that route here."""
    names = ("pref.test", "no.test", "hosted.test", "verify.test", "req.test")
    with destination("mx.named.test", pki.issue(*names)) as server:
        yield server


@pytest.fixture
def elsewhere(pki: Pki) -> Iterator[Destination]:
    """STARTTLS with a certificate for another name."""
    with destination("mx.elsewhere.test", pki.issue("elsewhere.test")) as server:
        yield server


def checked_clean(mta: Postfix) -> None:
    """``postfix check`` and ``postconf -n`` print no warning."""
    check = mta.postfix_check()
    assert (check.status, check.out, check.err) == (0, "", "")
    listed = mta.postconf_n()
    assert (listed.status, listed.err) == (0, ""), listed.err


def received_by(server: Destination, recipient: str) -> list[bool]:
    """For each message *server* received for *recipient*: whether it came over TLS."""
    return [each.tls for each in server.received if recipient in each.rcpt_tos]


def test_every_tls_setting_on_postfix(
    tmp_path: Path, pki: Pki, plain: Destination, named: Destination, elsewhere: Destination
) -> None:
    table = [
        ("default", "--tls", "required"),
        ("new", "no.test", "--tls", "no"),
        ("new", "pref.test", "--tls", "preferred"),
        ("new", "pref-plain.test", "--tls", "preferred"),
        ("new", "req-plain.test", "--tls", "required"),
        ("new", "req.test", "--tls", "required"),
        ("new", "req-elsewhere.test", "--tls", "required"),
        ("new", "verify.test", "--tls", "required-verify"),
        ("new", "verify-elsewhere.test", "--tls", "required-verify"),
        ("new", "hosted.test", "--tls", "required-verify-hosted"),
        ("new", "hosted-elsewhere.test", "--tls", "required-verify-hosted"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    routes = [
        (named, ("no.test", "pref.test", "req.test", "verify.test", "hosted.test")),
        (plain, ("pref-plain.test", "req-plain.test", "other.test")),
        (elsewhere, ("req-elsewhere.test", "verify-elsewhere.test", "hosted-elsewhere.test")),
    ]
    with running(pki.ca_file, start=False) as mta:
        for server, domains in routes:
            for domain in domains:
                mta.route(domain, server)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        domains = [domain for _, each in routes for domain in each]
        sent = {domain: mta.send(SENDER, f"user@{domain}", f"to {domain}\n") for domain in domains}
        status = {domain: mta.wait(message)[0].status for domain, message in sent.items()}
        log = mta.log()
    assert status == {
        "no.test": "sent",
        "pref.test": "sent",
        "req.test": "sent",
        "verify.test": "sent",
        "hosted.test": "sent",
        "pref-plain.test": "sent",
        "req-plain.test": "deferred",  # never in clear
        "other.test": "deferred",  # the default entry's Required
        "req-elsewhere.test": "sent",  # Required does not verify
        "verify-elsewhere.test": "deferred",
        "hosted-elsewhere.test": "deferred",
    }
    assert received_by(named, "user@no.test") == [False]  # offered, and not used
    assert received_by(named, "user@pref.test") == [True]
    assert received_by(named, "user@req.test") == [True]
    assert received_by(named, "user@verify.test") == [True]
    assert received_by(named, "user@hosted.test") == [True]
    assert received_by(plain, "user@pref-plain.test") == [False]
    assert received_by(plain, "user@req-plain.test") == []
    assert received_by(plain, "user@other.test") == []
    assert received_by(elsewhere, "user@req-elsewhere.test") == [True]
    assert received_by(elsewhere, "user@verify-elsewhere.test") == []
    assert received_by(elsewhere, "user@hosted-elsewhere.test") == []
    assert "TLS is required, but was not offered by host req-plain.test" in log
    assert re.search(r"Verified TLS connection established to hosted\.test\[", log)


def test_a_pattern_governs_the_names_under_it_and_not_itself(
    tmp_path: Path, pki: Pki, plain: Destination
) -> None:
    table = [
        ("new", ".partner.test", "--tls", "required"),
        # TLS left at Default under the pattern: the default entry's No, not Required
        ("new", "b.partner.test", "--bounce-verification", "on"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with running(pki.ca_file, start=False) as mta:
        for domain in ("a.partner.test", "b.partner.test", "partner.test"):
            mta.route(domain, plain)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        under = mta.send(SENDER, "user@a.partner.test", "under the pattern\n")
        trap = mta.send(SENDER, "user@b.partner.test", "an entry at Default\n")
        itself = mta.send(SENDER, "user@partner.test", "the pattern's own name\n")
        results = [mta.wait(message)[0].status for message in (under, trap, itself)]
    assert results == ["deferred", "sent", "sent"]
    assert received_by(plain, "user@a.partner.test") == []
    assert received_by(plain, "user@b.partner.test") == [False]
    assert received_by(plain, "user@partner.test") == [False]


def test_ip_destinations(tmp_path: Path, pki: Pki, plain: Destination) -> None:
    address = plain.address
    table = [("new", f"[{address}]", "--tls", "required"), ("default", "--tls", "no")]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with running(pki.ca_file, start=False) as mta:
        mta.route(f"[{address}]", plain)
        mta.route("plain.test", plain)
        mta.start()
        mta.install(exported)
        to_address = mta.send(SENDER, f"user@[{address}]", "by address\n")
        by_name = mta.send(SENDER, "user@plain.test", "by name\n")
        [literal] = mta.wait(to_address)
        [named_delivery] = mta.wait(by_name)
    assert literal.status == "deferred"
    assert "TLS is required, but was not offered" in literal.detail
    assert named_delivery.status == "sent"
    assert received_by(plain, f"user@[{address}]") == []
    assert received_by(plain, "user@plain.test") == [False]


def test_a_concurrency_limit(tmp_path: Path, pki: Pki) -> None:
    table = [("new", "slow.test", "--concurrency", "2"), ("default", "--tls", "no")]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with destination("mx.slow.test", hold=1.0) as slow, running(pki.ca_file, start=False) as mta:
        mta.route("slow.test", slow)
        mta.start()
        mta.install(exported)
        checked_clean(mta)
        messages = [mta.send(SENDER, f"user{n}@slow.test", f"message {n}\n") for n in range(6)]
        statuses = [mta.wait(message)[0].status for message in messages]
    assert statuses == ["sent"] * 6
    assert len(slow.received) == 6
    assert slow.most_at_once == 2  # at most 2, and the limit was reached


@pytest.mark.parametrize("per_connection", [1, 2])
def test_messages_per_connection(tmp_path: Path, pki: Pki, per_connection: int) -> None:
    table = [
        (
            "new",
            "reuse.test",
            "--concurrency",
            "1",
            "--messages-per-connection",
            str(per_connection),
        ),
        ("default", "--tls", "no"),
    ]
    exported = export(tmp_path / "home", table, tmp_path / "postfix")
    with destination("mx.reuse.test", hold=0.3) as server, running(pki.ca_file, start=False) as mta:
        mta.route("reuse.test", server)
        mta.start()
        mta.install(exported)
        messages = [mta.send(SENDER, f"user{n}@reuse.test", f"message {n}\n") for n in range(4)]
        for message in messages:
            assert mta.wait(message)[0].status == "sent"
    per = Counter(each.connection for each in server.received)
    assert sum(per.values()) == 4
    assert max(per.values()) <= per_connection
    assert server.most_at_once == 1


def test_the_examples_table_installs_without_a_warning(tmp_path: Path, pki: Pki) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "import", str(ROOT / "examples" / "destinations.cfg")).status == 0
    target = tmp_path / "postfix"
    assert run_cli(home, "export", str(target), "--format", "postfix").status == 0
    with running(pki.ca_file) as mta:
        mta.install(target)
        checked_clean(mta)
        services = mta.run("postconf", "-c", str(mta.conf), "-M").out
    assert "dc_c20_m20 unix - - n - " in re.sub(r"\s+", " ", services)


def readme_recipe() -> str:
    """The README's block of commands that installs an export on a Postfix host."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```sh\nconf=/etc/postfix\n")
    return text[start + len("```sh\n") : text.index("```", start + 5)]


def test_the_readme_recipe_word_for_word_delivers_as_the_table_says(
    tmp_path: Path, pki: Pki, plain: Destination, named: Destination
) -> None:
    home = tmp_path / "home"
    changes = (
        ("new", "req-plain.test", "--tls", "required"),
        ("new", "pref.test", "--tls", "preferred", "--concurrency", "2"),
    )
    for change in changes:
        assert run_cli(home, *change).status == 0
    recipe = readme_recipe()
    assert recipe.startswith("conf=/etc/postfix\n")
    with running(pki.ca_file, start=False) as mta:
        mta.route("req-plain.test", plain)
        mta.route("pref.test", named)
        mta.start()
        script = recipe.replace("conf=/etc/postfix\n", f"conf={mta.conf}\n", 1)
        env = {
            **os.environ,
            **mta._env(),
            "PATH": f"{BIN}:{mta.bin}:/usr/sbin:/usr/bin:/sbin:/bin",
            "DESTCONFIG_HOME": str(home),
        }
        for _ in range(2):  # a second run replaces what the first installed
            done = subprocess.run(
                ["sh", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
        mta.reload()  # and waits for the old configuration's processes to go
        checked_clean(mta)
        master = (mta.conf / "master.cf").read_text()
        refused = mta.send(SENDER, "user@req-plain.test", "must be encrypted\n")
        delivered = mta.send(SENDER, "user@pref.test", "may be encrypted\n")
        assert mta.wait(refused)[0].status == "deferred"
        assert mta.wait(delivered)[0].status == "sent"
    assert master.count("\ndc_c2 unix ") == 1  # the second run replaced the first's
    assert received_by(plain, "user@req-plain.test") == []
    assert received_by(named, "user@pref.test") == [True]
