"""Transcript replay (spec §10): passes, first differences, TIMESTAMP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from destconfig import replay
from destconfig.replay import (
    FIXED_TIME,
    Difference,
    first_difference,
    lines_match,
    replay_file,
    replay_files,
    replay_text,
)

TRANSCRIPTS = Path(__file__).parent.parent / "transcripts"
SEED = (TRANSCRIPTS / "seed-tls-required.txt").read_text(encoding="utf-8")

MENU = (
    "Choose the operation you want to perform:\n"
    "- SETUP - Change global settings.\n"
    "- NEW - Create a new entry.\n"
    "- EDIT - Modify an entry.\n"
    "- DELETE - Remove an entry.\n"
    "- DEFAULT - Change the default.\n"
    "- LIST - Display a summary list of all entries.\n"
    "- DETAIL - Display details for one destination or all entries.\n"
    "- CLEAR - Remove all entries.\n"
    "- IMPORT - Import tables from a file.\n"
    "- EXPORT - Export tables to a file.\n"
)

UNKNOWN = "ESA> frobnicate\n\nUnknown command or missing feature key: frobnicate\n\nESA> \n"

NEW_PLAIN_ENTRY = (
    "ESA> destconfig\n"
    "\n" + MENU + "[]> new\n"
    "\n"
    "Enter the domain you wish to configure.\n"
    "[]> example.com\n"
    "\n"
    "Do you wish to configure a concurrency limit for example.com? [Y]> N\n"
    "\n"
    "Do you wish to apply a messages-per-connection limit to this domain? [N]> N\n"
    "\n"
    "Do you wish to apply a recipient limit to this domain? [N]> N\n"
    "\n"
    "Do you wish to apply a specific TLS setting for this domain? [N]> N\n"
    "\n"
    "Do you wish to apply a specific bounce verification\n"
    "address tagging setting for this domain? [N]> N\n"
    "\n"
    "Do you wish to apply a specific bounce profile to this domain? [N]> N\n"
    "\n"
    "Do you wish to apply a specific IP sort preference to this domain? [N]> N\n"
    "\n"
    "There is currently 1 entry configured.\n"
    "\n" + MENU + "[]> \n"
    "\n"
)

COMMIT = NEW_PLAIN_ENTRY + (
    "ESA> commit\n"
    "\n"
    "Please enter some comments describing your changes:\n"
    "[]> first entry\n"
    "\n"
    "Do you want to save the current configuration for rollback? [Y]> \n"
    "\n"
    "Changes committed: Fri Nov 27 21:06:44 2026 UTC\n"
    "\n"
    "ESA> commit\n"
    "\n"
    "There are no changes to commit.\n"
    "\n"
    "ESA> \n"
)

CLEAR = NEW_PLAIN_ENTRY + (
    "ESA> clearchanges\n"
    "\n"
    "Are you sure you want to clear all changes since the last commit? [Y]> y\n"
    "\n"
    "Changes cleared: Fri Nov 27 21:06:44 2026 UTC\n"
    "\n"
    "ESA> \n"
)

TIME = "Fri Nov 27 21:06:44 2026 UTC"


def line_number(text: str, line: str) -> int:
    """The 1-based number of the only line of *text* equal to *line*."""
    numbers = [number for number, found in enumerate(text.split("\n"), 1) if found == line]
    assert len(numbers) == 1, numbers
    return numbers[0]


# --- passing transcripts ------------------------------------------------------------------


def test_fixed_time_is_the_spec_example() -> None:
    assert FIXED_TIME.strftime("%a %b %d %H:%M:%S %Y %Z") == TIME


def test_the_seed_transcript_passes() -> None:
    assert replay_text(SEED) is None


def test_the_unknown_command_example_passes() -> None:
    assert replay_text(UNKNOWN) is None


def test_a_transcript_that_ends_after_quit_passes() -> None:
    assert replay_text("ESA> quit\n") is None
    assert replay_text("ESA> \n\nESA>   EXIT  \n") is None


def test_commit_and_clear_transcripts_pass() -> None:
    assert replay_text(COMMIT) is None
    assert replay_text(CLEAR) is None


def test_answers_with_surrounding_spaces_are_typed_as_written() -> None:
    text = UNKNOWN.replace("ESA> frobnicate\n", "ESA>   frobnicate  \n")
    assert replay_text(text) is None


# --- first differences --------------------------------------------------------------------


def test_a_changed_line_is_reported() -> None:
    original = "example.com Default  On      Default      Default   Default"
    changed = "example.com Default  Off     Default      Default   Default"
    number = line_number(SEED, original)
    difference = replay_text(SEED.replace(original, changed))
    assert difference == Difference(number, changed, original)


def test_a_changed_line_in_the_last_block_is_reported() -> None:
    changed = UNKNOWN.replace("frobnicate\n\nESA>", "frobnicate.\n\nESA>")
    assert replay_text(changed) == Difference(
        3,
        "Unknown command or missing feature key: frobnicate.",
        "Unknown command or missing feature key: frobnicate",
    )


def test_an_extra_trailing_space_is_reported() -> None:
    original = "There is currently 1 entry configured."
    number = line_number(SEED, original)
    difference = replay_text(SEED.replace(original, original + " "))
    assert difference == Difference(number, original + " ", original)


def test_a_trailing_space_on_the_last_output_line_is_reported() -> None:
    text = "ESA> frobnicate\n\nUnknown command or missing feature key: frobnicate \n\nESA> \n"
    assert replay_text(text) == Difference(
        3,
        "Unknown command or missing feature key: frobnicate ",
        "Unknown command or missing feature key: frobnicate",
    )


def test_missing_output_at_the_end_is_reported() -> None:
    assert replay_text("ESA> quit\n\nGoodbye.\n") == Difference(3, "Goodbye.", None)


def test_a_transcript_missing_its_final_newline_is_reported() -> None:
    # The shell ends the open prompt line at end of input; the transcript did not.
    difference = replay_text(UNKNOWN[:-1])
    assert difference is not None
    assert difference.line == 6
    assert difference.expected is None
    assert difference.actual == ""


def test_extra_output_is_reported() -> None:
    assert replay_text("ESA> frobnicate\n") == Difference(
        3, None, "Unknown command or missing feature key: frobnicate"
    )


def test_extra_output_after_the_transcript_ends_at_a_prompt() -> None:
    # The transcript stops in the middle of the menu.
    text = "ESA> destconfig\n\nChoose the operation you want to perform:\n"
    difference = replay_text(text)
    assert difference == Difference(4, "", "- SETUP - Change global settings.")


def test_an_answer_line_whose_prompt_differs_is_reported() -> None:
    original = "[]> new"
    number = line_number(SEED, original)
    difference = replay_text(SEED.replace(original, "[1]> new"))
    assert difference == Difference(number, "[1]> new", "[]> ")


def test_an_answer_line_with_a_wrong_default_is_reported() -> None:
    original = "Do you wish to configure a concurrency limit for example.com? [Y]> N"
    changed = "Do you wish to configure a concurrency limit for example.com? [N]> N"
    number = line_number(SEED, original)
    assert replay_text(SEED.replace(original, changed)) == Difference(
        number, changed, "Do you wish to configure a concurrency limit for example.com? [Y]> "
    )


def test_a_different_answer_is_reported_where_the_output_parts() -> None:
    # The typed answer is taken from the transcript, so its echo matches; the
    # question that follows names the other domain.
    changed = SEED.replace("[]> example.com\n", "[]> example.org\n")
    question = "Do you wish to configure a concurrency limit for example.com? [Y]> N"
    number = line_number(SEED, question)
    assert replay_text(changed) == Difference(
        number, question, "Do you wish to configure a concurrency limit for example.org? [Y]> "
    )


def test_the_report_names_the_line_and_both_texts() -> None:
    text = Difference(12, "expected text", "actual text").describe()
    assert "12" in text
    assert "'expected text'" in text
    assert "'actual text'" in text
    missing = Difference(3, "Goodbye.", None).describe()
    assert "'Goodbye.'" in missing
    assert "(nothing)" in missing


# --- TIMESTAMP ----------------------------------------------------------------------------


def test_timestamp_matches_in_changes_committed() -> None:
    text = COMMIT.replace(f"Changes committed: {TIME}", "Changes committed: TIMESTAMP")
    assert text != COMMIT
    assert replay_text(text) is None


def test_timestamp_matches_in_changes_cleared() -> None:
    text = CLEAR.replace(f"Changes cleared: {TIME}", "Changes cleared: TIMESTAMP")
    assert text != CLEAR
    assert replay_text(text) is None


def test_a_wrong_literal_time_is_a_difference() -> None:
    wrong = "Changes committed: Sat Nov 28 21:06:44 2026 UTC"
    number = line_number(COMMIT, f"Changes committed: {TIME}")
    assert replay_text(COMMIT.replace(f"Changes committed: {TIME}", wrong)) == Difference(
        number, wrong, f"Changes committed: {TIME}"
    )


def test_timestamp_does_not_cross_between_committed_and_cleared() -> None:
    text = COMMIT.replace(f"Changes committed: {TIME}", "Changes cleared: TIMESTAMP")
    number = line_number(COMMIT, f"Changes committed: {TIME}")
    assert replay_text(text) == Difference(
        number, "Changes cleared: TIMESTAMP", f"Changes committed: {TIME}"
    )


def test_lines_match_timestamp_rules() -> None:
    assert lines_match("Changes committed: TIMESTAMP", f"Changes committed: {TIME}")
    assert lines_match("Changes cleared: TIMESTAMP", f"Changes cleared: {TIME}")
    other_time = "Changes committed: Mon Jan 05 09:00:00 2026 CET"
    assert lines_match("Changes committed: TIMESTAMP", other_time)
    assert lines_match("Changes committed: TIMESTAMP", "Changes committed: TIMESTAMP")
    assert not lines_match("Changes committed: TIMESTAMP", "Changes committed: yesterday")
    assert not lines_match("Changes committed: TIMESTAMP", "Changes committed: ")
    assert not lines_match("Changes committed: TIMESTAMP", f"Changes committed: {TIME} ")
    assert not lines_match("Changes committed: TIMESTAMP ", f"Changes committed: {TIME}")
    assert not lines_match("Changes committed: TIMESTAMP", f"Changes cleared: {TIME}")
    assert not lines_match("Changes committed:  TIMESTAMP", f"Changes committed: {TIME}")
    assert not lines_match(" Changes committed: TIMESTAMP", f" Changes committed: {TIME}")


def test_timestamp_does_not_match_elsewhere() -> None:
    assert not lines_match("Last change: TIMESTAMP", f"Last change: {TIME}")
    assert not lines_match("TIMESTAMP", TIME)
    assert not lines_match(
        "Unknown command or missing feature key: TIMESTAMP",
        f"Unknown command or missing feature key: {TIME}",
    )
    assert first_difference("a\nTIMESTAMP\n", f"a\n{TIME}\n") == Difference(2, "TIMESTAMP", TIME)


def test_timestamp_elsewhere_in_a_replay_is_a_difference() -> None:
    text = UNKNOWN.replace(
        "Unknown command or missing feature key: frobnicate", "Changes committed: TIMESTAMP"
    )
    assert replay_text(text) == Difference(
        3, "Changes committed: TIMESTAMP", "Unknown command or missing feature key: frobnicate"
    )


# --- first_difference ---------------------------------------------------------------------


def test_first_difference_whole_texts() -> None:
    assert first_difference("a\nb\n", "a\nb\n") is None
    assert first_difference("a\nb\n", "a\nc\n") == Difference(2, "b", "c")
    assert first_difference("a\nb\n", "a\n") == Difference(2, "b", "")
    assert first_difference("a\n", "a\nb\n") == Difference(2, "", "b")
    assert first_difference("a\nb", "a\nb\nc") == Difference(3, None, "c")
    assert first_difference("a\nb\nc", "a\nb") == Difference(3, "c", None)


def test_first_difference_partial_allows_an_unfinished_last_line() -> None:
    assert first_difference("ESA> help\nmore\n", "ESA> ", partial=True) is None
    assert first_difference("ESA> help\n", "ESA> h", partial=True) is None
    assert first_difference("ESA> help\n", "ESB> ", partial=True) == Difference(
        1, "ESA> help", "ESB> "
    )


# --- files ----------------------------------------------------------------------------------


def test_replay_file_and_files(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(UNKNOWN, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text("ESA> quit\n\nGoodbye.\n", encoding="utf-8")
    assert replay_file(good) is None
    assert replay_file(bad) == Difference(3, "Goodbye.", None)
    out = io.StringIO()
    assert replay_files([good], out) == 0
    assert out.getvalue() == f"PASS {good}\n"
    out = io.StringIO()
    assert replay_files([good, bad], out) == 1
    lines = out.getvalue().split("\n")
    assert lines[0] == f"PASS {good}"
    assert lines[1].startswith(f"FAIL {bad}")


def test_replay_file_compares_a_crlf_transcript_byte_for_byte(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(UNKNOWN.replace("\n", "\r\n").encode())
    difference = replay_file(crlf)
    assert difference is not None
    assert difference.line == 1


# --- long transcripts ---------------------------------------------------------------------

# One round: an unknown command, then into the menu and straight out (three answers).
ROUND = (
    "ESA> frobnicate\n"
    "\n"
    "Unknown command or missing feature key: frobnicate\n"
    "\n"
    "ESA> destconfig\n"
    "\n" + MENU + "[]> \n"
    "\n"
)


def long_transcript(rounds: int) -> str:
    return ROUND * rounds + "ESA> \n"


def test_one_round_is_a_valid_transcript() -> None:
    assert replay_text(long_transcript(1)) is None


def test_a_difference_late_in_a_long_transcript_is_reported() -> None:
    text = long_transcript(2000)
    lines = text.count("\n")
    last = "Unknown command or missing feature key: frobnicate"
    cut = text.rindex(last)
    changed = text[:cut] + last + "!" + text[cut + len(last) :]
    number = text[:cut].count("\n") + 1
    assert number > lines - len(ROUND.split("\n"))
    assert replay_text(changed) == Difference(number, last + "!", last)
    # A prompt that differs late: the output stops short inside that line.
    cut = text.rindex("[]> ")
    changed = text[:cut] + "[1]> " + text[cut + len("[]> ") :]
    number = text[:cut].count("\n") + 1
    assert replay_text(changed) == Difference(number, "[1]> ", "[]> ")


def test_each_line_is_compared_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each prompt compares only the output written since the previous one."""
    calls = 0
    compare = replay.lines_match

    def counting(expected: str, actual: str) -> bool:
        nonlocal calls
        calls += 1
        return compare(expected, actual)

    monkeypatch.setattr(replay, "lines_match", counting)
    text = long_transcript(1000)
    assert replay_text(text) is None
    lines = text.count("\n") + 1
    assert calls == lines
