"""Where a cluster machine's home keeps its membership (no git, cheap to import: every
changing one-shot command asks whether its home is a cluster's machine)."""

from __future__ import annotations

from pathlib import Path

MEMBER_DIR = "cluster"
MEMBER_FILE = "member.toml"
MIRROR_DIR = "repo.git"


def is_member(home: Path) -> bool:
    """Whether *home* is a machine of a cluster (it has a membership file)."""
    return (home / MEMBER_DIR / MEMBER_FILE).exists()
