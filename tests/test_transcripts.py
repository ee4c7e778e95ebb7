"""Every transcript in transcripts/ replays byte for byte.

A transcript's name gives the release whose dialogue it records
(``release13-*.txt``: ``--release 13``; any other: the seed's), as
:func:`destconfig.replay.release_of` reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from destconfig.replay import release_of, replay_file

TRANSCRIPTS = sorted((Path(__file__).parent.parent / "transcripts").glob("*.txt"))


def test_there_are_transcripts() -> None:
    assert any(path.name == "seed-tls-required.txt" for path in TRANSCRIPTS)


def test_there_are_transcripts_of_release_13() -> None:
    assert [path.name for path in TRANSCRIPTS if release_of(path) == "13"] == [
        path.name for path in TRANSCRIPTS if path.name.startswith("release13-")
    ]
    assert any(release_of(path) == "13" for path in TRANSCRIPTS)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda path: path.name)
def test_transcript_replays(path: Path) -> None:
    difference = replay_file(path)
    assert difference is None, difference.describe() if difference else ""
