"""The difference between two configurations, field by field (pure).

Used by ``destconfig diff`` and by ``--dry-run``, so that a change is always
shown the same way. Values are shown in the words of the TOML/JSON document;
a setting left at Default is shown as ``Default``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from pydantic import BaseModel

from destconfig.model import Table

DEFAULT_WORD = "Default"


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any  # None: Default (or absent)
    new: Any


@dataclass(frozen=True)
class TableDiff:
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)
    default: list[FieldChange] = field(default_factory=list)
    settings: list[FieldChange] = field(default_factory=list)
    profiles_only_a: list[str] = field(default_factory=list)
    profiles_only_b: list[str] = field(default_factory=list)
    certificates_only_a: list[str] = field(default_factory=list)
    certificates_only_b: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.only_a,
                self.only_b,
                self.changed,
                self.default,
                self.settings,
                self.profiles_only_a,
                self.profiles_only_b,
                self.certificates_only_a,
                self.certificates_only_b,
            )
        )


def _word_of(value: Any) -> Any:
    """A value as the TOML/JSON document words it (an enum by its value)."""
    return value.value if isinstance(value, Enum) else value


def _fields(a: BaseModel, b: BaseModel) -> list[FieldChange]:
    # Every field, also those a document leaves out at their factory value (the default's DANE).
    old, new = a.__dict__, b.__dict__
    return [
        FieldChange(name, _word_of(old[name]), _word_of(new[name]))
        for name in type(a).model_fields
        if old[name] != new[name]
    ]


def diff(a: Table, b: Table, *, whole: bool = True) -> TableDiff:
    """How *b* differs from *a*; without *whole*, only the default entry and the entries
    (what the appliance's table file holds)."""
    keys_a, keys_b = a.entries.keys(), b.entries.keys()
    changed = {
        key: _fields(a.entries[key], b.entries[key])
        for key in sorted(keys_a & keys_b)
        if a.entries[key] != b.entries[key]
    }
    tables = TableDiff(
        only_a=sorted(keys_a - keys_b),
        only_b=sorted(keys_b - keys_a),
        changed=changed,
        default=_fields(a.default, b.default),
    )
    if not whole:
        return tables
    return replace(
        tables,
        settings=_fields(a.settings, b.settings),
        profiles_only_a=sorted(set(a.bounce_profiles) - set(b.bounce_profiles)),
        profiles_only_b=sorted(set(b.bounce_profiles) - set(a.bounce_profiles)),
        certificates_only_a=sorted(set(a.certificates) - set(b.certificates)),
        certificates_only_b=sorted(set(b.certificates) - set(a.certificates)),
    )


def _word(value: Any) -> str:
    if value is None:
        return DEFAULT_WORD
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _changes(title: str, changes: list[FieldChange]) -> list[str]:
    lines = [f"~ {title}"]
    lines.extend(f"    {c.name}: {_word(c.old)} -> {_word(c.new)}" for c in changes)
    return lines


def render_diff(d: TableDiff, name_a: str, name_b: str) -> str:
    """Text like a unified diff's: ``-`` only in A, ``+`` only in B, ``~`` changed."""
    lines = [f"--- {name_a}", f"+++ {name_b}"]
    if d.settings:
        lines.extend(_changes("settings", d.settings))
    lines.extend(f"- certificate {name}" for name in d.certificates_only_a)
    lines.extend(f"+ certificate {name}" for name in d.certificates_only_b)
    lines.extend(f"- bounce profile {name}" for name in d.profiles_only_a)
    lines.extend(f"+ bounce profile {name}" for name in d.profiles_only_b)
    if d.default:
        lines.extend(_changes("(Default)", d.default))
    lines.extend(f"- {key}" for key in d.only_a)
    lines.extend(f"+ {key}" for key in d.only_b)
    for key, changes in d.changed.items():
        lines.extend(_changes(key, changes))
    return "\n".join(lines)


def diff_document(d: TableDiff) -> dict[str, Any]:
    """The difference as plain data, for ``--format json``."""

    def changes(items: list[FieldChange]) -> dict[str, dict[str, Any]]:
        return {c.name: {"old": c.old, "new": c.new} for c in items}

    return {
        "equal": d.empty,
        "only_in_a": d.only_a,
        "only_in_b": d.only_b,
        "changed": {key: changes(items) for key, items in d.changed.items()},
        "default": changes(d.default),
        "settings": changes(d.settings),
        "bounce_profiles": {"only_in_a": d.profiles_only_a, "only_in_b": d.profiles_only_b},
        "certificates": {"only_in_a": d.certificates_only_a, "only_in_b": d.certificates_only_b},
    }
