"""DETAIL: one block per entry (spec §7), as pure functions of the table."""

from __future__ import annotations

from destconfig import words
from destconfig.model import DefaultEntry, Entry, Table
from destconfig.render.listing import DEFAULT_ROW

_LABEL_WIDTH = 32
_INDENT = "    "


def _block(title: str, values: list[tuple[str, str]]) -> str:
    lines = [title]
    lines.extend(f"{_INDENT}{(label + ':').ljust(_LABEL_WIDTH)} {value}" for label, value in values)
    return "\n".join(lines)


def _or_default(own: str | None, effective: str) -> str:
    return f"Default ({effective})" if own is None else own


def _default_values(default: DefaultEntry) -> dict[str, str]:
    return {
        "ip": words.IP_SORT[default.ip_sort_pref],
        "concurrency": str(default.max_host_concurrency),
        "messages": str(default.max_messages_per_connection),
        "recipients": words.recipients(default.recipient_limit, default.recipient_minutes),
        "limit_type": words.LIMIT_TYPE[default.limit_type],
        "limit_apply": words.LIMIT_APPLY[default.limit_apply],
        "tls": words.TLS[default.tls],
        "bounce": words.on_off(default.bounce_validation),
    }


def _labelled(values: dict[str, str], profile: str) -> list[tuple[str, str]]:
    return [
        ("IP Address Preference", values["ip"]),
        ("Concurrent Connections", values["concurrency"]),
        ("Maximum Messages Per Connection", values["messages"]),
        ("Recipients Limit", values["recipients"]),
        ("Apply Limits Per Destination", values["limit_type"]),
        ("Apply Limits Per ESA Hostname", values["limit_apply"]),
        ("TLS Support", values["tls"]),
        ("Bounce Verification", values["bounce"]),
        ("Bounce Profile", profile),
    ]


def render_entry(key: str, entry: Entry, default: DefaultEntry) -> str:
    """An entry's block: its own values, or ``Default (EFFECTIVE)``."""
    effective = _default_values(default)
    recipients = (
        None
        if entry.recipient_limit is None
        else words.recipients(entry.recipient_limit, entry.recipient_minutes)
    )
    own: dict[str, str | None] = {
        "ip": None if entry.ip_sort_pref is None else words.IP_SORT[entry.ip_sort_pref],
        "concurrency": _str(entry.max_host_concurrency),
        "messages": _str(entry.max_messages_per_connection),
        "recipients": recipients,
        "limit_type": None if entry.limit_type is None else words.LIMIT_TYPE[entry.limit_type],
        "limit_apply": (
            None if entry.limit_apply is None else words.LIMIT_APPLY[entry.limit_apply]
        ),
        "tls": None if entry.tls is None else words.TLS[entry.tls],
        "bounce": None
        if entry.bounce_validation is None
        else words.on_off(entry.bounce_validation),
    }
    values = {name: _or_default(value, effective[name]) for name, value in own.items()}
    return _block(key, _labelled(values, entry.bounce_profile or "Default"))


def render_default(default: DefaultEntry) -> str:
    return _block(DEFAULT_ROW, _labelled(_default_values(default), DEFAULT_ROW))


def render_all(table: Table) -> str:
    """Every entry in LIST order, then the default; blocks separated by an empty line."""
    blocks = [render_entry(key, table.entries[key], table.default) for key in table.sorted_keys()]
    blocks.append(render_default(table.default))
    return "\n\n".join(blocks)


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)
