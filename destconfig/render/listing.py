"""LIST: the summary table (spec §7), as a pure function of the table."""

from __future__ import annotations

from destconfig import words
from destconfig.model import DefaultEntry, Entry, Table, Tls

DEFAULT_ROW = "(Default)"
_HEAD_UPPER = ("", "Rate", "", "Bounce", "Bounce", "IP Version")
_HEAD_LOWER = ("Domain", "Limiting", "TLS", "Verification", "Profile", "Preference")
_FIXED = (8, 7, 12)  # Rate Limiting, TLS, Bounce Verification
_PROFILE_MIN = 9
_IP_WIDTH = 12


def _tls(value: Tls) -> str:
    return "Off" if value is Tls.NO else "On"


def entry_row(key: str, entry: Entry) -> tuple[str, str, str, str, str, str]:
    return (
        key,
        "On" if entry.rate_limited else "Default",
        "Default" if entry.tls is None else _tls(entry.tls),
        "Default" if entry.bounce_validation is None else words.on_off(entry.bounce_validation),
        "Default" if entry.bounce_profile is None else entry.bounce_profile,
        "Default" if entry.ip_sort_pref is None else words.IP_SORT[entry.ip_sort_pref],
    )


def default_row(default: DefaultEntry) -> tuple[str, str, str, str, str, str]:
    return (
        DEFAULT_ROW,
        "On",
        _tls(default.tls),
        words.on_off(default.bounce_validation),
        DEFAULT_ROW,
        words.IP_SORT[default.ip_sort_pref],
    )


def render_list(table: Table) -> str:
    """The LIST table, lines joined with ``\\n``, no trailing newline.

    One pass over the entries, in key order, each row formatted as it is made.
    """
    entries = table.entries
    keys = table.sorted_keys()
    default = default_row(table.default)
    widths = (
        max([len(_HEAD_LOWER[0]), len(default[0]), *map(len, keys)]),
        *_FIXED,
        _profile_width(table),
        _IP_WIDTH,
    )
    row = _row_format(widths).format
    lines = [row(*_HEAD_UPPER).rstrip(), row(*_HEAD_LOWER).rstrip()]
    lines.append(" ".join("=" * width for width in widths))
    lines.extend(row(*entry_row(key, entries[key])).rstrip() for key in keys)
    lines.append(row(*default).rstrip())
    return "\n".join(lines)


def _profile_width(table: Table) -> int:
    """The longest of the least width and every profile name shown.

    The other cells of the column (``Default``, ``(Default)``) are no wider than
    the least width, and entries use known profiles only: unless a known name is
    longer, the entries need not be looked at.
    """
    if all(len(name) <= _PROFILE_MIN for name in table.bounce_profiles):
        return _PROFILE_MIN
    shown = {entry.bounce_profile for entry in table.entries.values()}
    return max([_PROFILE_MIN, *(len(name) for name in shown if name is not None)])


def _row_format(widths: tuple[int, ...] | list[int]) -> str:
    """A format string of left-aligned columns one space apart (one per table: fast)."""
    return " ".join(f"{{:<{width}}}" for width in widths)


def aligned(cells: tuple[str, ...], widths: tuple[int, ...] | list[int]) -> str:
    """Left-aligned columns, one space apart, no trailing spaces."""
    if len(cells) != len(widths):
        raise ValueError("one width per cell")
    return _row_format(widths).format(*cells).rstrip()
