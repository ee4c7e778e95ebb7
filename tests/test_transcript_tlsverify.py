"""The tlsverify transcripts, replayed against a real SMTP server on loopback.

Their lines that depend on the run (the server's port) are written ``${SMTP_PORT}``;
the replay is given the port of the server started here, and trusts its authority.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from destconfig.replay import replay_files, replay_text, substitute
from tests.helpers import run_cli
from tests.tlsservers import Pki, quiet_aiosmtpd, smtp_server

DIRECTORY = Path(__file__).parent.parent / "transcripts" / "tlsverify"
TRANSCRIPTS = sorted(DIRECTORY.glob("*.txt"))


def test_there_are_tlsverify_transcripts() -> None:
    assert [path.name for path in TRANSCRIPTS] == ["verify-hosted-split.txt"]


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda path: path.name)
def test_tlsverify_transcript_replays(path: Path, tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    # CN = the domain, SAN = another name: verified under Verify, not under Hosted Domains.
    context = pki.issue("mail.example.test", common_name="example.test")
    with quiet_aiosmtpd(), smtp_server(context) as port:
        text = path.read_text(encoding="utf-8")
        difference = replay_text(text, values={"SMTP_PORT": str(port)}, ca_file=pki.ca_file)
        assert difference is None, difference.describe() if difference else ""
        out = io.StringIO()
        status = replay_files([path], out, values={"SMTP_PORT": str(port)}, ca_file=pki.ca_file)
        assert (status, out.getvalue()) == (0, f"PASS {path}\n")


def test_the_replay_fails_where_the_server_says_otherwise(tmp_path: Path) -> None:
    """Without the authority the certificate is not verified, and the replay says where."""
    pki = Pki(tmp_path / "pki")
    context = pki.issue("mail.example.test", common_name="example.test")
    with quiet_aiosmtpd(), smtp_server(context) as port:
        text = TRANSCRIPTS[0].read_text(encoding="utf-8")
        difference = replay_text(text, values={"SMTP_PORT": str(port)}, ca_file=None)
    assert difference is not None
    assert difference.expected == "Verifying certificate common name example.test."
    assert difference.actual == (
        "TLS certificate chain not verified: unable to get local issuer certificate."
    )


def test_substitute_replaces_only_the_names_given() -> None:
    assert substitute("a ${PORT} ${OTHER} $PORT ${port}", {"PORT": "25"}) == (
        "a 25 ${OTHER} $PORT ${port}"
    )


def test_the_replay_command_takes_the_values_and_the_authority(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    context = pki.issue("mail.example.test", common_name="example.test")
    with quiet_aiosmtpd(), smtp_server(context) as port:
        argv = ["replay", "--set", f"SMTP_PORT={port}", "--ca-file", str(pki.ca_file)]
        result = run_cli(None, *argv, str(TRANSCRIPTS[0]))
    assert (result.status, result.out) == (0, f"PASS {TRANSCRIPTS[0]}\n")


def test_the_replay_command_refuses_a_value_without_a_name() -> None:
    assert run_cli(None, "replay", "--set", "=25", "x.txt").status == 2
