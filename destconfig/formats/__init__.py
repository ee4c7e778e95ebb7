"""File formats of a table: pure ``loads(bytes) -> Table`` / ``dumps(Table) -> bytes``.

The registry names each format and says which file names it claims, so that the
shell and the one-shot commands choose a format the same way. What the formats
share lives beside them and is imported by them and their callers alike:
:mod:`~destconfig.formats.problems` (what is wrong with a file),
:mod:`~destconfig.formats.limits` (how much a file may hold) and
:mod:`~destconfig.formats.numbers` (numbers too long to convert).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from destconfig.model import Table


@dataclass(frozen=True)
class Format:
    name: str
    loads: Callable[[bytes], Table]
    dumps: Callable[[Table], bytes]
    suffixes: tuple[str, ...]
    full: bool  # carries the whole configuration (settings, certificates), not just the table
    description: str


def formats() -> dict[str, Format]:
    """The registry, by name (built on call: it imports every format)."""
    from destconfig.formats import esa, json, toml

    return {
        fmt.name: fmt
        for fmt in (
            Format("esa", esa.loads, esa.dumps, (), False, "the appliance's table file"),
            Format("toml", toml.loads, toml.dumps, (".toml",), True, "TOML, as config.toml"),
            Format("json", json.loads, json.dumps, (".json",), True, "JSON, as config.toml"),
        )
    }


def for_name(file_name: str) -> Format:
    """The format a file name asks for: ``.toml`` and ``.json`` by suffix, else ``esa``."""
    lower = file_name.lower()
    registry = formats()
    for fmt in registry.values():
        if any(lower.endswith(suffix) for suffix in fmt.suffixes):
            return fmt
    return registry["esa"]


_TOML_TABLES = frozenset({"[settings]", "[default]", "[entries]"})  # config.toml's tables


def for_text(data: bytes) -> Format:
    """The format a document's own text shows (standard input has no name to go by).

    JSON starts with ``{``. TOML holds a key before any section (the appliance's
    file has none), or its first table is one of ``config.toml``'s, lower case. The
    rest is the appliance's table file, which then words any problem.
    """
    registry = formats()
    for raw in data[:65536].removeprefix(b"\xef\xbb\xbf").splitlines():
        line = raw.strip()
        if not line or line.startswith((b"#", b";")):
            continue
        if line.startswith(b"{"):
            return registry["json"]
        if line.startswith(b"["):
            return (
                registry["toml"]
                if line.decode("utf-8", "replace") in _TOML_TABLES
                else (registry["esa"])
            )
        return registry["toml"] if b"=" in line else registry["esa"]
    return registry["esa"]
