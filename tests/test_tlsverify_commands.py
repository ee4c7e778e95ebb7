"""tlsverify as a one-shot command and at the host prompt, against loopback servers.

Both run in-process so that the fake network can be injected: names such as
mx1.example.test reach 127.0.0.1, never DNS. Output is compared whole, byte for
byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from destconfig.model import Entry, Table, Tls
from destconfig.replay import FIXED_TIME
from destconfig.store import Store
from destconfig.tlsverify import probe
from tests.helpers import Result, run_cli
from tests.tlsservers import (
    FakeNetwork,
    Pki,
    closed_port,
    loopback_network,
    smtp_server,
)

DOMAIN = "example.test"
MX = "mx1.example.test"


pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def destconfig(home: Path, *argv: str, network: FakeNetwork | None = None) -> Result:
    """``destconfig --home HOME ARGV``, in-process, names resolved by *network*.

    tlsverify gets a 2-second time limit unless *argv* sets one.
    """
    limit = ["--timeout", "2"] if argv[0] == "tlsverify" and "--timeout" not in argv else []
    network = network if network is not None else loopback_network(MX)
    return run_cli(home, *argv, *limit, network=network)


def commit(home: Path, table: Table) -> None:
    store = Store(home)
    store.prepare()
    store.commit(table, comment="", when=FIXED_TIME, keep_rollback=False)


def with_port(text: str, port: int) -> str:
    return text.replace("{port}", str(port))


CONNECTED = """\
Connecting to 127.0.0.1 on port {port}.
Connected to 127.0.0.1 from interface 127.0.0.1.
Checking TLS connection.
TLS connection established: protocol TLSv1.3, cipher TLS_AES_256_GCM_SHA384.
Verifying peer certificate.
"""

VERIFIED_WILDCARD = (
    CONNECTED
    + """\
Verifying certificate DNS names *.example.test.
TLS certificate match *.example.test
TLS certificate verified.
TLS connection to 127.0.0.1 succeeded.
TLS successfully connected to mx1.example.test.
TLS verification completed.
"""
)

VERIFIED_DOMAIN = (
    CONNECTED
    + """\
Verifying certificate DNS names example.test.
TLS certificate match example.test
TLS certificate verified.
TLS connection to 127.0.0.1 succeeded.
TLS successfully connected to mx1.example.test.
TLS verification completed.
"""
)

MX_ONLY_FOR_MAIL = (
    CONNECTED
    + """\
Verifying certificate DNS names mx1.example.test.
TLS certificate does not match: it presents DNS names mx1.example.test; \
checked DNS names against mail.example.test.
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed.
"""
)


# --- the one-shot command: text --------------------------------------------------------------


def test_verified_under_the_pattern_that_governs(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(".example.test", Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.issue("*.example.test")) as port:
        result = destconfig(
            home,
            "tlsverify",
            "mail.example.test",
            f"{MX}:{port}",
            "--ca-file",
            str(pki.ca_file),
            "--timeout",
            "2",
        )
    assert result.out == with_port(
        VERIFIED_WILDCARD
        + """
Destination controls entry: .example.test (TLS: Required - Verify)
Delivery with this setting: encrypted, certificate verified.
""",
        port,
    )
    assert (result.status, result.err) == (0, "")


def test_not_delivered_is_status_1(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(".example.test", Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.build(common_name=None, dns_names=[MX])) as port:
        result = destconfig(
            home,
            "tlsverify",
            "mail.example.test",
            f"{MX}:{port}",
            "--ca-file",
            str(pki.ca_file),
            "--timeout",
            "2",
        )
    assert result.out == with_port(
        MX_ONLY_FOR_MAIL
        + """
Destination controls entry: .example.test (TLS: Required - Verify)
Delivery with this setting: not delivered: the certificate is not verified: no name matched: \
the certificate presents DNS names mx1.example.test; checked DNS names against \
mail.example.test; the message stays queued for a later attempt.
""",
        port,
    )
    assert (result.status, result.err) == (1, "")


def test_the_hosted_rules_of_an_entry_made_by_new(pki: Pki, home: Path) -> None:
    made = destconfig(home, "new", DOMAIN, "--tls", "REQUIRED_VERIFY_HOSTED")
    assert (made.status, made.err) == (0, "")
    with smtp_server(pki.build(common_name=None, dns_names=[MX])) as port:
        result = destconfig(
            home, "tlsverify", DOMAIN, f"{MX}:{port}", "--ca-file", str(pki.ca_file)
        )
    # tlsverify's own check (Verify) fails; the entry's setting (hosted rules) passes.
    assert result.out == with_port(
        CONNECTED
        + """\
Verifying certificate DNS names mx1.example.test.
TLS certificate does not match: it presents DNS names mx1.example.test; \
checked DNS names against example.test.
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed.

Destination controls entry: example.test (TLS: Required - Verify Hosted Domains)
Delivery with this setting: encrypted, certificate verified (hosted domain rules).
""",
        port,
    )
    assert (result.status, result.err) == (0, "")


def test_without_an_entry_the_default_governs(pki: Pki, home: Path) -> None:
    with smtp_server(None) as port:
        result = destconfig(home, "tlsverify", DOMAIN, f"{MX}:{port}")
    assert result.out == with_port(
        """\
Connecting to 127.0.0.1 on port {port}.
Connected to 127.0.0.1 from interface 127.0.0.1.
Checking TLS connection.
The server does not offer STARTTLS.

Destination controls entry: (Default) (TLS: No)
Delivery with this setting: in clear (this setting never tries TLS).
""",
        port,
    )
    assert (result.status, result.err) == (0, "")


def test_a_pattern_does_not_govern_the_domain_itself(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(".example.test", Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.issue(DOMAIN)) as port:
        result = destconfig(
            home, "tlsverify", DOMAIN, f"{MX}:{port}", "--ca-file", str(pki.ca_file)
        )
    assert result.out.endswith(
        "\nDestination controls entry: (Default) (TLS: No)\n"
        "Delivery with this setting: in clear (this setting never tries TLS).\n"
    )
    assert result.status == 0


def test_no_connection_is_status_1(home: Path) -> None:
    port = closed_port()
    result = destconfig(home, "tlsverify", DOMAIN, f"{MX}:{port}", "--timeout", "2")
    assert result.out == with_port(
        """\
Connecting to 127.0.0.1 on port {port}.
Connection to 127.0.0.1 failed: connection refused.

Destination controls entry: (Default) (TLS: No)
Delivery with this setting: not delivered: the connection to 127.0.0.1 on port {port} failed \
(connection refused); the message stays queued for a later attempt.
""",
        port,
    )
    assert (result.status, result.err) == (1, "")


def test_the_system_trust_store_does_not_know_the_test_authority(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(DOMAIN, Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.issue(DOMAIN)) as port:
        result = destconfig(home, "tlsverify", DOMAIN, f"{MX}:{port}")
    assert result.out == with_port(
        CONNECTED
        + """\
TLS certificate chain not verified: unable to get local issuer certificate.
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed.

Destination controls entry: example.test (TLS: Required - Verify)
Delivery with this setting: not delivered: the certificate is not verified: unable to get \
local issuer certificate; the message stays queued for a later attempt.
""",
        port,
    )
    assert result.status == 1


def test_no_host_looks_up_the_mail_exchangers(
    pki: Pki, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = FakeNetwork(exchangers={DOMAIN: [MX]}, hosts={MX: ["127.0.0.1"]})
    with smtp_server(pki.issue(DOMAIN)) as port:
        monkeypatch.setattr(probe, "SMTP_PORT", port)  # the exchanger's SMTP port
        result = destconfig(
            home, "tlsverify", DOMAIN, "--ca-file", str(pki.ca_file), network=network
        )
    assert result.out == with_port(
        """\
Looking up the mail exchangers of example.test.
Mail exchangers in preference order: mx1.example.test.
"""
        + VERIFIED_DOMAIN
        + """
Destination controls entry: (Default) (TLS: No)
Delivery with this setting: in clear (this setting never tries TLS).
""",
        port,
    )
    assert result.status == 0


SETTINGS_TABLE_WILDCARD = """\
  TLS setting                      Delivery
  No                               in clear (this setting never tries TLS).
  Preferred                        encrypted, certificate not checked.
  Required                         encrypted, certificate not checked.
  Preferred - Verify               encrypted, certificate not verified: no name matched: \
the certificate presents DNS names *.example.test; checked DNS names against example.test.
* Required - Verify                not delivered: the certificate is not verified: no name \
matched: the certificate presents DNS names *.example.test; checked DNS names against \
example.test; the message stays queued for a later attempt.
  Required - Verify Hosted Domains encrypted, certificate verified (hosted domain rules).
"""


def test_all_settings(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(DOMAIN, Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.issue("*.example.test")) as port:
        result = destconfig(
            home,
            "tlsverify",
            DOMAIN,
            f"{MX}:{port}",
            "--ca-file",
            str(pki.ca_file),
            "--all-settings",
        )
    assert result.out == with_port(
        CONNECTED
        + """\
Verifying certificate DNS names *.example.test.
TLS certificate does not match: it presents DNS names *.example.test; \
checked DNS names against example.test.
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed.

Destination controls entry: example.test (TLS: Required - Verify)
Delivery with this setting: not delivered: the certificate is not verified: no name matched: \
the certificate presents DNS names *.example.test; checked DNS names against example.test; \
the message stays queued for a later attempt.

"""
        + SETTINGS_TABLE_WILDCARD,
        port,
    )
    assert (result.status, result.err) == (1, "")


# --- the one-shot command: JSON --------------------------------------------------------------

DOCUMENT_KEYS = [
    "domain",
    "host",
    "stage",
    "reason",
    "chain_trusted",
    "chain_problem",
    "certificate",
    "log",
    "entry",
    "tls",
    "outcome",
]


def test_json(pki: Pki, home: Path) -> None:
    commit(home, Table().with_entry(DOMAIN, Entry(tls=Tls.REQUIRED_VERIFY)))
    with smtp_server(pki.issue(DOMAIN, expired=True)) as port:
        result = destconfig(
            home,
            "tlsverify",
            DOMAIN,
            f"{MX}:{port}",
            "--ca-file",
            str(pki.ca_file),
            "--format",
            "json",
        )
    assert (result.status, result.err) == (1, "")
    assert result.out.endswith("}\n")
    document = json.loads(result.out)  # nothing but the document on standard output
    assert list(document) == DOCUMENT_KEYS
    log = with_port(
        CONNECTED
        + """\
TLS certificate chain not verified: certificate has expired.
TLS certificate not verified.
TLS connection to 127.0.0.1 succeeded.
TLS connected to mx1.example.test without a verified certificate.
TLS verification completed.""",
        port,
    ).split("\n")
    assert document == {
        "domain": DOMAIN,
        "host": MX,
        "stage": "tls-up",
        "reason": None,
        "chain_trusted": False,
        "chain_problem": "certificate has expired",
        "certificate": {"common_names": [], "dns_names": [DOMAIN]},
        "log": log,
        "entry": DOMAIN,
        "tls": "REQUIRED_VERIFY",
        "outcome": {
            "delivery": "not delivered",
            "goes_ahead": False,
            "verified": False,
            "text": "not delivered: the certificate is not verified: certificate has expired; "
            "the message stays queued for a later attempt.",
        },
    }


def test_json_with_all_settings(home: Path) -> None:
    with smtp_server(None) as port:
        result = destconfig(
            home, "tlsverify", DOMAIN, f"{MX}:{port}", "--format", "json", "--all-settings"
        )
    assert result.status == 0
    document = json.loads(result.out)
    assert list(document) == [*DOCUMENT_KEYS, "settings"]
    assert (document["entry"], document["tls"], document["stage"]) == (None, "NO", "no-starttls")
    assert document["chain_trusted"] is None  # no TLS: nothing to trust or not
    assert document["certificate"] is None
    reason = "the server does not offer STARTTLS"
    clear = {"delivery": "clear", "goes_ahead": True, "verified": None}
    queued = {"delivery": "not delivered", "goes_ahead": False, "verified": None}
    queued_text = f"not delivered: {reason}; the message stays queued for a later attempt."
    assert document["settings"] == {
        "NO": {**clear, "text": "in clear (this setting never tries TLS)."},
        "PREFERRED": {**clear, "text": f"in clear: {reason}."},
        "REQUIRED": {**queued, "text": queued_text},
        "PREFERRED_VERIFY": {**clear, "text": f"in clear: {reason}."},
        "REQUIRED_VERIFY": {**queued, "text": queued_text},
        "REQUIRED_VERIFY_HOSTED": {**queued, "text": queued_text},
    }
    assert list(document["settings"]) == [
        "NO",
        "PREFERRED",
        "REQUIRED",
        "PREFERRED_VERIFY",
        "REQUIRED_VERIFY",
        "REQUIRED_VERIFY_HOSTED",
    ]
    assert document["outcome"] == document["settings"]["NO"]


# --- the one-shot command: usage errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([".example.test"], 'Invalid domain ".example.test". Enter a domain name (example.com).'),
        (["a@b"], 'Invalid domain "a@b". Enter a domain name (example.com).'),
        (
            ["user@example.test"],
            'Invalid domain "user@example.test". Enter a domain name (example.com).',
        ),
        (["192.0.2.1"], 'Invalid domain "192.0.2.1". Enter a domain name (example.com).'),
        (["exa mple.test"], 'Invalid domain "exa mple.test". Enter a domain name (example.com).'),
        (
            [DOMAIN, "h:0"],
            'Invalid host "h:0". Enter a host name or an IP address, with ":port" when the port '
            "is not 25.",
        ),
        (
            [DOMAIN, "mx1.example.test:65536"],
            'Invalid host "mx1.example.test:65536". Enter a host name or an IP address, with '
            '":port" when the port is not 25.',
        ),
        (
            [DOMAIN, ""],
            'Invalid host "". Enter a host name or an IP address, with ":port" when the port '
            "is not 25.",
        ),
    ],
)
def test_usage_errors(home: Path, argv: list[str], message: str) -> None:
    network = FakeNetwork()
    result = destconfig(home, "tlsverify", *argv, network=network)
    assert result == Result(2, "", f"destconfig: {message}\n")
    assert network.mx_lookups == []
    assert network.address_lookups == []


def test_ca_file_errors(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate\n")
    for path, problem in [
        (missing, "no such file"),
        (tmp_path, "is a directory"),
        (text, "not a PEM file of certificates"),
    ]:
        network = FakeNetwork()
        result = destconfig(home, "tlsverify", DOMAIN, "--ca-file", str(path), network=network)
        assert result == Result(2, "", f"destconfig: {path}: {problem}\n")
        assert network.mx_lookups == []  # refused before any lookup


@pytest.mark.parametrize("seconds", ["0", "-1", "abc", "3601"])
def test_a_bad_timeout_is_a_usage_error(home: Path, seconds: str) -> None:
    stopped = run_cli(home, "tlsverify", DOMAIN, "--timeout", seconds)
    assert stopped.status == 2
    assert stopped.err.endswith(
        "destconfig: tlsverify: argument --timeout: a number of seconds above 0, "
        "3600 at most\ndestconfig: try 'destconfig tlsverify --help' for more information\n"
    )


# --- the host prompt -------------------------------------------------------------------------

MENU = """
Choose the operation you want to perform:
- SETUP - Change global settings.
- NEW - Create a new entry.
- EDIT - Modify an entry.
- DELETE - Remove an entry.
- DEFAULT - Change the default.
- LIST - Display a summary list of all entries.
- DETAIL - Display details for one destination or all entries.
- CLEAR - Remove all entries.
- IMPORT - Import tables from a file.
- EXPORT - Export tables to a file.
[]> """

NEW_REQUIRED_VERIFY = f"""\
ESA> destconfig
{MENU}new

Enter the domain you wish to configure.
[]> example.test

Do you wish to configure a concurrency limit for example.test? [Y]> N

Do you wish to apply a messages-per-connection limit to this domain? [N]> N

Do you wish to apply a recipient limit to this domain? [N]> N

Do you wish to apply a specific TLS setting for this domain? [N]> Y

Do you want to use TLS support?
1. No
2. Preferred
3. Required
4. Preferred - Verify
5. Required - Verify
6. Required - Verify Hosted Domains
[1]> 5

You have chosen to enable TLS. Please use the 'certconfig' command to
ensure that there is a valid certificate configured.

Do you wish to apply a specific bounce verification
address tagging setting for this domain? [N]> N

Do you wish to apply a specific bounce profile to this domain? [N]> N

Do you wish to apply a specific IP sort preference to this domain? [N]> N

There is currently 1 entry configured.
{MENU}

"""

HOST_QUESTION = (
    "Enter the destination host to connect to. Append the port (example.com:26) if you are "
    "not connecting on port 25:"
)

NO_ANSWER = "[]> "  # the prompts answered with an empty line
NO_HOST_ANSWER = "[example.test]> "

POLICY = """
Destination controls entry: example.test (TLS: Required - Verify)
Delivery with this setting: encrypted, certificate verified.
"""

DIALOGUE = (
    NEW_REQUIRED_VERIFY
    + f"""\
ESA> tlsverify

Enter the TLS domain to verify against:
[]> a@b
Invalid domain "a@b". Enter a domain name (example.com).

Enter the TLS domain to verify against:
[]> Example.TEST

{HOST_QUESTION}
[example.test]> h:0
Invalid host "h:0". Enter a host name or an IP address, with ":port" when the port is not 25.

{HOST_QUESTION}
[example.test]> mx1.example.test:{{port}}

"""
    + VERIFIED_DOMAIN
    + POLICY
    + f"""
ESA> tlsverify

Enter the TLS domain to verify against:
{NO_ANSWER}

ESA> tlsverify

Enter the TLS domain to verify against:
[]> example.test

{HOST_QUESTION}
{NO_HOST_ANSWER}

Looking up the mail exchangers of example.test.
Mail exchangers in preference order: mx1.example.test.
"""
    + VERIFIED_DOMAIN
    + POLICY
    + """
ESA> quit

You have uncommitted changes. Exit without committing them? [N]> Y
"""
)

ANSWERS = [
    "destconfig",
    "new",
    "example.test",
    "N",
    "N",
    "N",
    "Y",
    "5",
    "N",
    "N",
    "N",
    "",  # leave the menu, the new entry not committed
    "tlsverify",
    "a@b",
    "Example.TEST",
    "h:0",
    "mx1.example.test:{port}",
    "tlsverify",
    "",  # no domain: back to the prompt
    "tlsverify",
    "example.test",
    "",  # no host: the mail exchangers
    "quit",
    "Y",
]


def test_the_host_prompt_dialogue(pki: Pki, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    network = FakeNetwork(exchangers={DOMAIN: [MX]}, hosts={MX: ["127.0.0.1"]})
    with smtp_server(pki.issue(DOMAIN)) as port:
        monkeypatch.setattr(probe, "SMTP_PORT", port)  # the exchanger's SMTP port
        answers = with_port("\n".join(ANSWERS) + "\n", port).encode()
        options = ("--ca-file", str(pki.ca_file), "--tls-timeout", "2")
        result = run_cli(home, *options, stdin=answers, network=network)
    assert result.out == with_port(DIALOGUE, port)
    assert result.status == 0
    assert result.err == ""
    assert network.mx_lookups == [DOMAIN]
    # What governed was the session's table, never committed.
    assert Store(home).load().entries == {}
