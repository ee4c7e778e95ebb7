"""The audit's worked example runs on one machine and finds what the README says it finds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _demo(*argv: str) -> subprocess.CompletedProcess[str]:
    script = ROOT / "examples" / "audit-demo.py"
    return subprocess.run(
        [sys.executable, str(script), *argv], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_the_demo_finds_each_kind() -> None:
    done = _demo("--format", "json")
    assert done.returncode == 1, done.stderr
    command, _, document = done.stdout.partition("\n")
    assert command.startswith("$ destconfig --home ")
    found = json.loads(document)
    assert {entry["destination"]: entry["finding"] for entry in found["entries"]} == {
        ".demo.test": "cannot-tell",
        "d0000.verified.test": "matches",
        "d0001.plain.test": "will-queue",
        "d0002.lax.test": "weaker-than-published",
        "d0003.signed.test": "matches",
        "d0004.testing.test": "matches",
    }
    assert found["summary"] == {
        "will-queue": 1,
        "weaker-than-published": 1,
        "matches": 3,
        "cannot-tell": 1,
    }
