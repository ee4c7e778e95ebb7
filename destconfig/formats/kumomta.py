"""The table as a KumoMTA traffic shaping file (TOML, for its shaping helper).

``["default"]`` comes from the default entry, a block per exact entry (with
``mx_rollup = false``, so that it applies to that domain alone), and a
``[provider."NAME"]`` block per pattern matching the names under it. KumoMTA
merges the blocks that apply (the default, the providers, the domain), so every
block carries all its values: what the table says applies to that destination,
the default entry's values where the entry has none. What KumoMTA cannot hold is
reported as a loss, worded in the catalogue of settings.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from destconfig import settings
from destconfig.destinations import is_address
from destconfig.formats.postfix import DEFAULT_KEY, Loss
from destconfig.model import Entry, Table, effective

HEADER = "# Written by destconfig export --format kumomta; the next export replaces this file.\n"


def _rate(limit: int, minutes: int) -> str:
    """``max_message_rate`` for *limit* recipients per *minutes*."""
    if minutes == 1:
        return f"{limit}/min"
    if 60 % minutes == 0:
        return f"{limit * 60 // minutes}/h"
    return f"{max(1, limit * 60 // minutes)}/h"


def _block(values: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "enable_tls": settings.KUMOMTA_TLS[values["tls"]],
        **({"enable_dane": True} if values["dane"] in settings.KUMOMTA_DANE else {}),
        "connection_limit": values["max_host_concurrency"],
        "max_deliveries_per_connection": values["max_messages_per_connection"],
    }
    if values["recipient_limit"]:
        block["max_message_rate"] = _rate(values["recipient_limit"], values["recipient_minutes"])
    return block


# The shaping file has no comments to keep these in (the Postfix export keeps them there).
_NOT_IN_SHAPING = "not written: KumoMTA's shaping has no such setting"
_NOT_SHAPED = frozenset({"bounce_validation", "bounce_profile"})


def _losses(key: str, values: dict[str, Any]) -> list[Loss]:
    found = []
    for setting in settings.MTA_SETTINGS:
        assert setting.mta is not None
        value = values.get(setting.name)
        if setting.name == "recipient_limit":
            value = None if value is None else (value, values["recipient_minutes"])
        if value is None:
            continue
        reason = setting.mta.kumomta_loss(value)
        if reason is not None:
            found.append(Loss(key, setting.name, _reason(setting.name, reason)))
    return found


def _reason(name: str, reason: str) -> str:
    return _NOT_IN_SHAPING if name in _NOT_SHAPED else reason


def render(table: Table) -> tuple[bytes, list[Loss]]:
    """The shaping file for *table*, and what it loses."""
    default = table.default
    losses = _losses(DEFAULT_KEY, dict(default))
    document: dict[str, Any] = {"default": _block(effective(None, default))}
    providers: dict[str, Any] = {}
    for key in table.sorted_keys():
        entry: Entry = table.entries[key]
        losses += _losses(key, {name: value for name, value in entry})
        if is_address(key):
            losses.append(Loss(key, "destination", "KumoMTA's shaping has no block for an address"))
            continue
        block = _block(effective(entry, default))
        if key.startswith("."):
            providers[key] = {"match": [{"DomainSuffix": key}], **block}
        else:
            document[key] = {"mx_rollup": False, **block}
    if providers:
        document["provider"] = providers
    return (HEADER + tomli_w.dumps(document)).encode("utf-8"), list(dict.fromkeys(losses))
