"""How tlsverify says what it found: the certificate steps of the log, the policy block,
the settings table and the JSON document. Pure functions of the facts."""

from __future__ import annotations

from typing import Any

from destconfig import words
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
    """The two lines after the log: the governing entry, and what delivery would do."""
    return (
        governing(key, setting) + "\nDelivery with this setting: " + outcomes(facts)[setting].text
    )


def settings_table(facts: Facts, setting: Tls) -> str:
    """``--all-settings``: each setting and its outcome; ``*`` marks the governing one."""
    rows = [("", "TLS setting", "Delivery")]
    for each, found in outcomes(facts).items():
        rows.append(("*" if each is setting else "", words.TLS[each], found.text))
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
