"""How the audit says what it found: plain text, a drawn table's cells, and the JSON
document of spec §3. Pure functions of the results.

What a server or a DNS answer sent (a reply, a certificate's names, a policy's
patterns) reaches the terminal escaped: the text here line by line, the JSON with
tlsverify's escapes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from destconfig import words
from destconfig.audit.findings import SUMMARY_ORDER, Finding
from destconfig.audit.runner import Audited
from destconfig.console import escape
from destconfig.render.listing import DEFAULT_ROW
from destconfig.settings import DANE_SHOWN

HEAD = ("Destination", "Finding", "TLS", "DANE", "Reasons")


def counts(results: list[Audited]) -> dict[str, int]:
    found = Counter(result.judgement.finding for result in results)
    return {finding.value: found[finding] for finding in SUMMARY_ORDER}


def summary(results: list[Audited]) -> str:
    """``Summary: 1 will-queue, 0 weaker-than-published, 2 matches, 0 cannot-tell.``"""
    parts = [f"{count} {name}" for name, count in counts(results).items()]
    return "Summary: " + ", ".join(parts) + "."


def _entry(result: Audited) -> str:
    key = result.destination.key
    return DEFAULT_ROW if key is None else key


def _settings(result: Audited) -> str:
    destination = result.destination
    return (
        f"entry {_entry(result)}; TLS: {words.TLS[destination.tls]}; "
        f"DANE: {DANE_SHOWN[destination.dane]}"
    )


def _published(result: Audited) -> list[str]:
    lines = []
    if result.mx:
        lines.append("Mail exchangers tried: " + ", ".join(result.mx))
    policy = result.sts.policy
    if policy is not None:
        patterns = f", mx {', '.join(policy.mx)}" if policy.mx else ""
        lines.append(f"MTA-STS: {policy.mode}{patterns}, max_age {policy.max_age}")
    if result.tlsa.usable:
        lines.append(f"TLSA: {len(result.tlsa.usable)} usable at {result.tlsa.name}")
    return lines


def text(results: list[Audited]) -> str:
    """The plain report: a block per destination, then the summary."""
    blocks = []
    for result in results:
        lines = [f"{result.destination.name}: {result.judgement.finding} ({_settings(result)})"]
        lines += ["  " + line for line in _published(result)]
        lines += ["  - " + reason for reason in result.judgement.reasons]
        blocks.append("\n".join(escape(line) for line in lines))
    return "\n\n".join([*blocks, summary(results)]) + "\n"


STYLES = {
    Finding.WILL_QUEUE: "red",
    Finding.WEAKER: "yellow",
    Finding.MATCHES: "green",
    Finding.CANNOT_TELL: "",
}


def rows(results: list[Audited]) -> tuple[list[tuple[str, ...]], list[str]]:
    """The drawn table's cells (escaped) and each row's style."""
    cells: list[tuple[str, ...]] = []
    styles: list[str] = []
    for result in results:
        destination = result.destination
        lines = [*_published(result), *result.judgement.reasons]
        cells.append(
            (
                escape(destination.name),
                result.judgement.finding.value,
                words.TLS[destination.tls],
                DANE_SHOWN[destination.dane],
                "\n".join(escape(line) for line in lines),
            )
        )
        styles.append(STYLES[result.judgement.finding])
    return cells, styles


def document(results: list[Audited]) -> dict[str, Any]:
    """Spec §3's JSON: the entries, then the count of each finding."""
    entries = []
    for result in results:
        policy = result.sts.policy
        entries.append(
            {
                "destination": result.destination.name,
                "finding": result.judgement.finding.value,
                "reasons": list(result.judgement.reasons),
                "tls": result.destination.tls.value,
                "dane": result.destination.dane.value,
                "mx": list(result.mx),
                "mta_sts": None
                if policy is None
                else {"mode": policy.mode.value, "mx": list(policy.mx), "max_age": policy.max_age},
                "tlsa": bool(result.tlsa.usable),
            }
        )
    return {"entries": entries, "summary": counts(results)}
