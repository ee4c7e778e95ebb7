"""Every transcript in transcripts/ replays byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from destconfig.replay import replay_file

TRANSCRIPTS = sorted((Path(__file__).parent.parent / "transcripts").glob("*.txt"))


def test_there_are_transcripts() -> None:
    assert any(path.name == "seed-tls-required.txt" for path in TRANSCRIPTS)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda path: path.name)
def test_transcript_replays(path: Path) -> None:
    difference = replay_file(path)
    assert difference is None, difference.describe() if difference else ""
