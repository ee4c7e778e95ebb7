"""What a hostile mail server can put on the terminal through tlsverify: nothing.

Its replies and its certificate's names carry C1 controls (U+009B, the one-byte CSI),
DEL, a right-to-left override (U+202E), an escape sequence and a line break. The text
report shows each as an escape; the JSON document as a ``\\u`` escape, still valid JSON
that decodes to the very text the server sent. Each runs as a process of its own, so
the bytes compared are those it wrote.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.tlsservers import Peer, Pki, hostile_server, run_limited, smtp_server

DOMAIN = "example.test"
HOSTILE = "\u009b31m evil\x7f \u202eoops"  # what the server's reply says, after 554 5.7.1
HOSTILE_TEXT = "\\x9b31m evil\\x7f \\u202eoops"  # as the text report shows it
HOSTILE_JSON = "\\u009b31m evil\\u007f \\u202eoops"  # as the JSON document writes it

COMMON_NAME = "mx\u202e\u009b\x7f.example.test"
DNS_NAME = "\x1b[2J\x7f.example.test"  # a subjectAltName is ASCII, controls included


pytestmark = pytest.mark.usefixtures("loopback_only")


def greeting(reply: bytes) -> AbstractContextManager[int]:
    """A server on 127.0.0.1 greeting with *reply*, then waiting for the client to leave."""

    def handle(peer: Peer) -> None:
        peer.send(reply)
        peer.command()

    return hostile_server(handle)


def tlsverify(home: Path, port: int, *options: str) -> list[str]:
    return [
        "tlsverify",
        DOMAIN,
        f"127.0.0.1:{port}",
        "--timeout",
        "2",
        "--home",
        str(home),
        *options,
    ]


def test_the_json_document_escapes_a_hostile_reply(tmp_path: Path) -> None:
    reply = "554 5.7.1 " + HOSTILE + "\r\n"
    with greeting(reply.encode()) as port:
        run = run_limited(tlsverify(tmp_path / "home", port, "--format", "json"))
    reason = f"the connection to 127.0.0.1 on port {port} failed (the server answered 554 5.7.1 "
    assert (
        run.out
        == f"""\
{{
  "domain": "example.test",
  "host": "127.0.0.1",
  "stage": "no-connection",
  "reason": "{reason}{HOSTILE_JSON})",
  "chain_trusted": null,
  "chain_problem": null,
  "certificate": null,
  "log": [
    "Connecting to 127.0.0.1 on port {port}.",
    "Connection to 127.0.0.1 failed: the server answered 554 5.7.1 {HOSTILE_JSON}."
  ],
  "entry": null,
  "tls": "NO",
  "outcome": {{
    "delivery": "not delivered",
    "goes_ahead": false,
    "verified": null,
    "text": "not delivered: {reason}{HOSTILE_JSON}); the message stays queued for a later attempt."
  }}
}}
"""
    )
    assert (run.status, run.err) == (1, "")
    document = json.loads(run.out)
    assert document["reason"] == reason + HOSTILE + ")"  # the very text the server sent
    assert document["log"][1].endswith(" 554 5.7.1 " + HOSTILE + ".")


def test_the_text_report_escapes_a_hostile_reply(tmp_path: Path) -> None:
    reply = "554 5.7.1 " + HOSTILE + "\r\n"
    with greeting(reply.encode()) as port:
        run = run_limited(tlsverify(tmp_path / "home", port))
    reason = f"the connection to 127.0.0.1 on port {port} failed (the server answered 554 5.7.1 "
    assert run.out == (
        f"Connecting to 127.0.0.1 on port {port}.\n"
        f"Connection to 127.0.0.1 failed: the server answered 554 5.7.1 {HOSTILE_TEXT}.\n"
        "\n"
        "Destination controls entry: (Default) (TLS: No)\n"
        f"Delivery with this setting: not delivered: {reason}{HOSTILE_TEXT}); "
        "the message stays queued for a later attempt.\n"
    )
    assert (run.status, run.err) == (1, "")


# The second line of the reply as if it were the report's own, in the text the report shows.
SAID = (
    "the server answered 554 no service\\n"
    "Delivery with this setting: encrypted, certificate verified."
)
SPOOF = b"554-no service\r\n554 Delivery with this setting: encrypted, certificate verified.\r\n"


def test_a_reply_of_several_lines_cannot_add_a_line_to_the_report(tmp_path: Path) -> None:
    with greeting(SPOOF) as port:
        run = run_limited(tlsverify(tmp_path / "home", port))
    assert run.out == (
        f"Connecting to 127.0.0.1 on port {port}.\n"
        f"Connection to 127.0.0.1 failed: {SAID}.\n"
        "\n"
        "Destination controls entry: (Default) (TLS: No)\n"
        f"Delivery with this setting: not delivered: the connection to 127.0.0.1 on port {port} "
        f"failed ({SAID}); the message stays queued for a later attempt.\n"
    )
    assert (run.status, run.err) == (1, "")


def test_the_shell_cannot_be_given_a_line_either(tmp_path: Path) -> None:
    with greeting(SPOOF) as port:
        answers = f"tlsverify\n{DOMAIN}\n127.0.0.1:{port}\nquit\n".encode()
        run = run_limited(["--home", str(tmp_path / "home"), "--tls-timeout", "2"], stdin=answers)
    assert run.out == (
        "ESA> tlsverify\n"
        "\n"
        "Enter the TLS domain to verify against:\n"
        "[]> example.test\n"
        "\n"
        "Enter the destination host to connect to. Append the port (example.com:26) if you "
        "are not connecting on port 25:\n"
        f"[example.test]> 127.0.0.1:{port}\n"
        "\n"
        f"Connecting to 127.0.0.1 on port {port}.\n"
        f"Connection to 127.0.0.1 failed: {SAID}.\n"
        "\n"
        "Destination controls entry: (Default) (TLS: No)\n"
        f"Delivery with this setting: not delivered: the connection to 127.0.0.1 on port {port} "
        f"failed ({SAID}); the message stays queued for a later attempt.\n"
        "\n"
        "ESA> quit\n"
    )
    assert (run.status, run.err) == (0, "")


def _escaped(text: str, form: str) -> str:
    """*text* with the hostile names as *form* writes them (``text`` or ``json``)."""
    if form == "text":
        names = {
            COMMON_NAME: "mx\\u202e\\x9b\\x7f.example.test",
            DNS_NAME: "\\x1b[2J\\x7f.example.test",
        }
    else:
        names = {
            COMMON_NAME: "mx\\u202e\\u009b\\u007f.example.test",
            DNS_NAME: "\\u001b[2J\\u007f.example.test",
        }
    for raw, shown in names.items():
        text = text.replace(raw, shown)
    return text


PRESENTS = f"common name {COMMON_NAME}; DNS names {DNS_NAME}"
CHECKED = "checked common name against example.test, 127.0.0.1; DNS names against example.test"
NO_MATCH = f"no name matched: the certificate presents {PRESENTS}; {CHECKED}"
HOSTED = (
    f"no name matched: the certificate presents {PRESENTS}; "
    "checked DNS names against example.test, 127.0.0.1"
)
QUEUED = "; the message stays queued for a later attempt."


def certificate_log(port: int) -> list[str]:
    return [
        f"Connecting to 127.0.0.1 on port {port}.",
        "Connected to 127.0.0.1 from interface 127.0.0.1.",
        "Checking TLS connection.",
        "TLS connection established: protocol TLSv1.3, cipher TLS_AES_256_GCM_SHA384.",
        "Verifying peer certificate.",
        f"Verifying certificate common name {COMMON_NAME}.",
        f"Verifying certificate DNS names {DNS_NAME}.",
        f"TLS certificate does not match: it presents {PRESENTS}; {CHECKED}.",
        "TLS certificate not verified.",
        "TLS connection to 127.0.0.1 succeeded.",
        "TLS connected to 127.0.0.1 without a verified certificate.",
        "TLS verification completed.",
    ]


def test_the_text_report_escapes_hostile_certificate_names(pki: Pki, tmp_path: Path) -> None:
    context = pki.build(common_name=COMMON_NAME, dns_names=[DNS_NAME])
    with smtp_server(context) as port:
        argv = tlsverify(tmp_path / "home", port, "--ca-file", str(pki.ca_file), "--all-settings")
        run = run_limited(argv)
    table = [
        "  TLS setting                      Delivery",
        "* No                               in clear (this setting never tries TLS).",
        "  Preferred                        encrypted, certificate not checked.",
        "  Required                         encrypted, certificate not checked.",
        f"  Preferred - Verify               encrypted, certificate not verified: {NO_MATCH}.",
        "  Required - Verify                not delivered: the certificate is not verified: "
        f"{NO_MATCH}{QUEUED}",
        "  Required - Verify Hosted Domains not delivered: the certificate is not verified "
        f"(hosted domain rules): {HOSTED}{QUEUED}",
    ]
    expected = [
        *certificate_log(port),
        "",
        "Destination controls entry: (Default) (TLS: No)",
        "Delivery with this setting: in clear (this setting never tries TLS).",
        "",
        *table,
    ]
    assert run.out == _escaped("\n".join(expected) + "\n", "text")
    assert (run.status, run.err) == (0, "")


def test_the_json_document_escapes_hostile_certificate_names(pki: Pki, tmp_path: Path) -> None:
    context = pki.build(common_name=COMMON_NAME, dns_names=[DNS_NAME])
    with smtp_server(context) as port:
        argv = tlsverify(tmp_path / "home", port, "--ca-file", str(pki.ca_file), "--format", "json")
        run = run_limited(argv)
    log = ",\n".join(f'    "{line}"' for line in certificate_log(port))
    expected = f"""\
{{
  "domain": "example.test",
  "host": "127.0.0.1",
  "stage": "tls-up",
  "reason": null,
  "chain_trusted": true,
  "chain_problem": null,
  "certificate": {{
    "common_names": [
      "{COMMON_NAME}"
    ],
    "dns_names": [
      "{DNS_NAME}"
    ]
  }},
  "log": [
{log}
  ],
  "entry": null,
  "tls": "NO",
  "outcome": {{
    "delivery": "clear",
    "goes_ahead": true,
    "verified": null,
    "text": "in clear (this setting never tries TLS)."
  }}
}}
"""
    assert run.out == _escaped(expected, "json")
    assert (run.status, run.err) == (0, "")
    document = json.loads(run.out)
    assert document["certificate"] == {"common_names": [COMMON_NAME], "dns_names": [DNS_NAME]}
    assert document["log"] == certificate_log(port)
