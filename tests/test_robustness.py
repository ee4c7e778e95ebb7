"""Any answer stream is handled: no exception, the session ends, the model stays valid."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.model import Table
from destconfig.store import Store
from tests.helpers import run_session

WORDS = [
    "destconfig",
    "commit",
    "clearchanges",
    "help",
    "quit",
    "exit",
    "frob",
    "setup",
    "new",
    "edit",
    "delete",
    "default",
    "list",
    "detail",
    "clear",
    "import",
    "export",
    "all",
    "y",
    "n",
    "Y",
    "N",
    "yes",
    "no",
    "",
    " ",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "0",
    "500",
    "1000",
    "1001",
    "60",
    "61",
    "1000000000",
    "1000000001",
    "-1",
    "9" * 40,
    "example.com",
    ".example.com",
    "EXAMPLE.com",
    "192.0.2.1",
    "[2001:db8::1]",
    "bücher.example",
    "192.0.2.300",
    "a..b",
    "bulk",
    "Bulk-1",
    "1bad",
    "New Profile",
    "Default",
    "\x1b[31m",
    "\t",
    "\x00",
    "\u200b",
    "x" * 300,
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=20)), max_size=80))
def test_random_answers_never_raise(answers: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        text = "".join(answer.replace("\n", " ").replace("\r", " ") + "\n" for answer in answers)
        outcome = run_session(home, text)
        assert outcome.status in (0, 1)
        # Whatever was committed loads back as a valid table.
        assert isinstance(Store(home).load(), Table)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        outcome = run_session(Path(directory), b"destconfig\n" + data)
        assert outcome.status in (0, 1)
