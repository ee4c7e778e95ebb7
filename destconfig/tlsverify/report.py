"""How tlsverify says what it found: the certificate steps of the log, the policy block,
the settings table and the JSON document. Pure functions of the facts.

What the server sent (its replies, its certificate's names) reaches the terminal
only escaped: the log lines by their writer, the policy block and the settings
table here (an outcome quotes a reply, line breaks and all), and the JSON text with
``\\u`` escapes for what a terminal would act on.
"""

from __future__ import annotations

import json
from typing import Any

from destconfig import words
from destconfig.console import escape
from destconfig.model import Tls
from destconfig.render.listing import DEFAULT_ROW, aligned
from destconfig.tlsverify.decision import Facts, Outcome, Rules, Stage, identity, outcomes


def verification_lines(facts: Facts, address: str) -> list[str]:
    """The log from "Verifying peer certificate." on, under tlsverify's own (Verify) rules."""
    lines = ["Verifying peer certificate."]
    certificate = facts.certificate
    verified = False
    if not facts.chain_trusted:
        lines.append(f"TLS certificate chain not verified: {facts.chain_problem}.")
    elif certificate is None:
        lines.append("The server presented no certificate.")
    else:
        for name in certificate.common_names:
            lines.append(f"Verifying certificate common name {name}.")
        if certificate.dns_names:
            lines.append(f"Verifying certificate DNS names {', '.join(certificate.dns_names)}.")
        found = identity(certificate, Rules.VERIFY, facts.domain, facts.host)
        if found.matched is not None:
            lines.append(f"TLS certificate match {found.matched}")
            verified = True
        else:
            lines.append(
                f"TLS certificate does not match: it presents {certificate.describe()}; "
                f"checked {found.checked}."
            )
    lines.append("TLS certificate verified." if verified else "TLS certificate not verified.")
    lines.append(f"TLS connection to {address} succeeded.")
    if verified:
        lines.append(f"TLS successfully connected to {facts.host}.")
    else:
        lines.append(f"TLS connected to {facts.host} without a verified certificate.")
    lines.append("TLS verification completed.")
    return lines


def governing(key: str | None, setting: Tls) -> str:
    """``Destination controls entry: KEY (TLS: Setting)``."""
    return f"Destination controls entry: {key or DEFAULT_ROW} (TLS: {words.TLS[setting]})"


def policy_block(key: str | None, setting: Tls, facts: Facts) -> str:
    """The two lines after the log: the governing entry, and what delivery would do.

    Escaped, each line on its own: a reply of several lines, quoted in the outcome,
    would otherwise add lines of the server's choosing to the report.
    """
    outcome = outcomes(facts)[setting].text
    return escape(governing(key, setting)) + "\nDelivery with this setting: " + escape(outcome)


def settings_table(facts: Facts, setting: Tls) -> str:
    """``--all-settings``: each setting and its outcome; ``*`` marks the governing one.

    Each outcome escaped, as in :func:`policy_block`.
    """
    rows = [("", "TLS setting", "Delivery")]
    for each, found in outcomes(facts).items():
        rows.append(("*" if each is setting else "", words.TLS[each], escape(found.text)))
    widths = [max(len(row[column]) for row in rows) for column in range(2)] + [0]
    return "\n".join(aligned(row, widths) for row in rows)


def _outcome_document(found: Outcome) -> dict[str, Any]:
    return {
        "delivery": found.delivery.value,
        "goes_ahead": found.goes_ahead,
        "verified": found.verified,
        "text": found.text,
    }


def document(
    key: str | None,
    setting: Tls,
    facts: Facts,
    log: list[str],
    *,
    all_settings: bool,
) -> dict[str, Any]:
    """The JSON form: the facts, the log, the governing entry and the outcome(s)."""
    certificate = facts.certificate
    result: dict[str, Any] = {
        "domain": facts.domain,
        "host": facts.host,
        "stage": facts.stage.value,
        "reason": facts.reason or None,
        "chain_trusted": facts.chain_trusted if facts.stage is Stage.TLS_UP else None,
        "chain_problem": facts.chain_problem or None,
        "certificate": None
        if certificate is None
        else {
            "common_names": list(certificate.common_names),
            "dns_names": list(certificate.dns_names),
        },
        "log": log,
        "entry": key,
        "tls": setting.value,
        "outcome": _outcome_document(outcomes(facts)[setting]),
    }
    if all_settings:
        result["settings"] = {
            each.value: _outcome_document(found) for each, found in outcomes(facts).items()
        }
    return result


def json_text(data: Any) -> str:
    """*data* as indented JSON, every character a terminal would act on as a ``\\u`` escape.

    json.dumps escapes the C0 controls but passes C1 controls (U+009B is a one-byte
    CSI to many terminals), DEL and bidirectional overrides (U+202E) straight through.
    Outside its strings JSON text is printable ASCII and line breaks, so escaping
    every other non-printable character (as :func:`destconfig.console.escape` judges
    them) changes only strings, and they decode to the same text.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if text.replace("\n", "").isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a surrogate pair, as JSON writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
