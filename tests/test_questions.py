"""Questions (spec §5): how each kind is shown and read, and the one re-asking loop."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from destconfig.console import Console
from destconfig.dialogue.questions import (
    Abandon,
    Choice,
    DestinationWords,
    Dialogue,
    Invalid,
    Number,
    Text,
    YesNo,
    parse_number,
)
from destconfig.dialogue.reader import PromptKind, StreamReader


def dialogue(answers: list[str], *, echo: bool = True) -> tuple[Dialogue, io.StringIO]:
    """A dialogue reading *answers* one per question, writing to a string."""
    stream = io.StringIO()
    console = Console(stream)
    pending = iter(answers)
    reader = StreamReader(lambda: next(pending, None), console, echo=echo)
    return Dialogue(reader, console), stream


def message(call: object, *args: object) -> str:
    """The message of the Invalid that *call* raises."""
    with pytest.raises(Invalid) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.message


# --- YesNo --------------------------------------------------------------------------------

RECIPIENT_GATE = "Do you wish to apply a recipient limit to this domain?"
BOUNCE_GATE = (
    "Do you wish to apply a specific bounce verification\naddress tagging setting for this domain?"
)


def test_yes_no_prompt_with_default_no() -> None:
    question = YesNo(RECIPIENT_GATE, False)
    assert question.head == ""
    assert question.prompt == "Do you wish to apply a recipient limit to this domain? [N]> "


def test_yes_no_prompt_with_default_yes() -> None:
    question = YesNo("Do you wish to configure a concurrency limit for example.com?", True)
    assert question.head == ""
    assert question.prompt == "Do you wish to configure a concurrency limit for example.com? [Y]> "


def test_two_line_yes_no() -> None:
    question = YesNo(BOUNCE_GATE, False)
    assert question.head == "Do you wish to apply a specific bounce verification\n"
    assert question.prompt == "address tagging setting for this domain? [N]> "


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("y", True),
        ("Y", True),
        ("yes", True),
        ("YES", True),
        ("Yes", True),
        ("yEs", True),
        ("  y  ", True),
        ("n", False),
        ("N", False),
        ("no", False),
        ("NO", False),
        ("No", False),
        (" no\t", False),
    ],
)
def test_yes_no_answers(answer: str, value: bool) -> None:
    assert YesNo("Q?", not value).interpret(answer) is value
    assert YesNo("Q?", value).interpret(answer) is value


@pytest.mark.parametrize("default", [True, False])
@pytest.mark.parametrize("answer", ["", " ", "   "])
def test_yes_no_empty_takes_the_default(answer: str, default: bool) -> None:
    assert YesNo("Q?", default).interpret(answer) is default


@pytest.mark.parametrize(
    "answer", ["ye", "yess", "nope", "1", "0", "t", "true", "oui", "y y", "\x1b", "\uff59"]
)
def test_yes_no_refuses_other_answers(answer: str) -> None:
    assert message(YesNo("Q?", True).interpret, answer) == "Please answer Y or N."


# --- Number -------------------------------------------------------------------------------


def test_number_head_and_prompt() -> None:
    question = Number('Enter the max concurrency limit for "example.com".', 1, 1000, 500)
    assert question.head == 'Enter the max concurrency limit for "example.com".\n'
    assert question.prompt == "[500]> "


def test_number_without_default_has_an_empty_prompt() -> None:
    question = Number("Enter the max number of recipients.", 0, 1_000_000_000, None)
    assert question.prompt == "[]> "
    assert message(question.interpret, "") == "You must enter a value from 0 to 1000000000."
    assert message(question.interpret, "   ") == "You must enter a value from 0 to 1000000000."


def test_number_default_zero_is_shown() -> None:
    assert Number("N", 0, 10, 0).prompt == "[0]> "
    assert Number("N", 0, 10, 0).interpret("") == 0


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("1", 1),
        ("1000", 1000),
        ("500", 500),
        (" 42 ", 42),
        ("\t7\t", 7),
        ("0001", 1),
        ("01000", 1000),
        ("0" * 5000 + "7", 7),
    ],
)
def test_number_answers(answer: str, value: int) -> None:
    assert Number("N", 1, 1000, 500).interpret(answer) == value


def test_number_empty_takes_the_default() -> None:
    assert Number("N", 1, 1000, 500).interpret("") == 500
    assert Number("N", 1, 60, 60).interpret("  ") == 60


@pytest.mark.parametrize(
    "answer",
    [
        "0",
        "1001",
        "-1",
        "+5",
        "5.0",
        "1e3",
        "1_000",
        "1,000",
        "0x10",
        "5 0",
        "five",
        "9" * 40,
        "1" + "0" * 5000,  # longer than int() converts by default: still the range message
        "\uff15",  # FULLWIDTH DIGIT FIVE
        "\u0663",  # ARABIC-INDIC DIGIT THREE
        "\u0967\u0968",  # DEVANAGARI 12
        "\u00b2",  # SUPERSCRIPT TWO
        "5\x00",
    ],
)
def test_number_refuses(answer: str) -> None:
    assert message(Number("N", 1, 1000, 500).interpret, answer) == (
        "You must enter a value from 1 to 1000."
    )


def test_number_bounds_are_inclusive() -> None:
    assert parse_number("0", 0, 1_000_000_000) == 0
    assert parse_number("1000000000", 0, 1_000_000_000) == 1_000_000_000
    assert message(parse_number, "1000000001", 0, 1_000_000_000) == (
        "You must enter a value from 0 to 1000000000."
    )
    assert parse_number("60", 1, 60) == 60
    assert message(parse_number, "61", 1, 60) == "You must enter a value from 1 to 60."
    assert message(parse_number, "0", 1, 60) == "You must enter a value from 1 to 60."


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_number_accepts_exactly_its_range(value: int) -> None:
    question = Number("N", 1, 1000, None)
    if 1 <= value <= 1000:
        assert question.interpret(str(value)) == value
    else:
        assert message(question.interpret, str(value)) == "You must enter a value from 1 to 1000."


# --- Choice -------------------------------------------------------------------------------

TLS_ITEMS: tuple[tuple[str, str], ...] = (
    ("No", "NO"),
    ("Preferred", "PREFERRED"),
    ("Required", "REQUIRED"),
    ("Preferred - Verify", "PREFERRED_VERIFY"),
    ("Required - Verify", "REQUIRED_VERIFY"),
    ("Required - Verify Hosted Domains", "REQUIRED_VERIFY_HOSTED"),
)
TLS = Choice("Do you want to use TLS support?", TLS_ITEMS, 1)


def test_choice_head_and_prompt() -> None:
    assert TLS.head == (
        "Do you want to use TLS support?\n"
        "1. No\n"
        "2. Preferred\n"
        "3. Required\n"
        "4. Preferred - Verify\n"
        "5. Required - Verify\n"
        "6. Required - Verify Hosted Domains\n"
    )
    assert TLS.prompt == "[1]> "
    assert Choice("Pick:", (("A", 1), ("B", 2)), 2).prompt == "[2]> "


def test_choice_two_line_title() -> None:
    question = Choice(
        "How should the appliance sort IP addresses within an MX preference level\n"
        "for mail destined to example.com?",
        (("Prefer IPv4", 4), ("Prefer IPv6", 6)),
        2,
    )
    assert question.head == (
        "How should the appliance sort IP addresses within an MX preference level\n"
        "for mail destined to example.com?\n"
        "1. Prefer IPv4\n"
        "2. Prefer IPv6\n"
    )
    assert question.prompt == "[2]> "


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("1", "NO"),
        ("3", "REQUIRED"),
        ("6", "REQUIRED_VERIFY_HOSTED"),
        (" 2 ", "PREFERRED"),
        ("03", "REQUIRED"),
        ("Required", "REQUIRED"),
        ("required", "REQUIRED"),
        ("REQUIRED", "REQUIRED"),
        ("  Preferred - Verify  ", "PREFERRED_VERIFY"),
        ("required - verify hosted domains", "REQUIRED_VERIFY_HOSTED"),
        ("no", "NO"),
    ],
)
def test_choice_answers(answer: str, value: str) -> None:
    assert TLS.interpret(answer) == value


@pytest.mark.parametrize("answer", ["", "   "])
def test_choice_empty_takes_the_default(answer: str) -> None:
    assert TLS.interpret(answer) == "NO"
    assert Choice("T", TLS_ITEMS, 5).interpret(answer) == "REQUIRED_VERIFY"


@pytest.mark.parametrize(
    "answer", ["0", "7", "-1", "Require", "Preferred-Verify", "Required  - Verify", "\uff13", "x"]
)
def test_choice_refuses(answer: str) -> None:
    assert message(TLS.interpret, answer) == "You must enter a value from 1 to 6."


def test_choice_message_names_its_size() -> None:
    two = Choice("T", (("A", 1), ("B", 2)), 1)
    assert message(two.interpret, "3") == "You must enter a value from 1 to 2."


def test_choice_exact_text_wins_over_a_case_insensitive_match() -> None:
    question = Choice("Certificates:", (("demo", "lower"), ("Demo", "upper")), 1)
    assert question.interpret("Demo") == "upper"
    assert question.interpret("demo") == "lower"
    assert question.interpret("DEMO") == "lower"


def test_choice_completions_are_its_labels() -> None:
    assert tuple(TLS.completions) == tuple(label for label, _ in TLS_ITEMS)


# --- Text ---------------------------------------------------------------------------------


def test_text_head_and_prompt() -> None:
    question = Text("Enter the domain you wish to configure.", str.strip)
    assert question.head == "Enter the domain you wish to configure.\n"
    assert question.prompt == "[]> "


@pytest.mark.parametrize("answer", ["", " ", "\t"])
def test_text_empty_abandons(answer: str) -> None:
    with pytest.raises(Abandon):
        Text("Q", str.strip).interpret(answer)


def test_text_empty_allowed() -> None:
    assert Text("Q", str.strip, allow_empty=True).interpret("") == ""
    assert Text("Q", str.strip, allow_empty=True).interpret("  ") == ""


def test_text_parses_and_refuses() -> None:
    def parse(answer: str) -> int:
        if answer.strip() != "ok":
            raise Invalid("Not ok.")
        return 1

    question = Text("Q", parse)
    assert question.interpret(" ok ") == 1
    assert message(question.interpret, "bad") == "Not ok."


def test_text_completions_are_its_words() -> None:
    assert tuple(Text("Q", str, words=("NEW", "EDIT")).completions) == ("NEW", "EDIT")


# --- Dialogue.ask -------------------------------------------------------------------------


def test_ask_yes_no_reasks_after_an_invalid_answer() -> None:
    ask, out = dialogue(["maybe", "y"])
    assert ask.ask(YesNo(RECIPIENT_GATE, False)) is True
    assert out.getvalue() == (
        "\nDo you wish to apply a recipient limit to this domain? [N]> maybe\n"
        "Please answer Y or N.\n"
        "\nDo you wish to apply a recipient limit to this domain? [N]> y\n"
    )


def test_ask_two_line_yes_no() -> None:
    ask, out = dialogue([""])
    assert ask.ask(YesNo(BOUNCE_GATE, False)) is False
    assert out.getvalue() == (
        "\nDo you wish to apply a specific bounce verification\n"
        "address tagging setting for this domain? [N]> \n"
    )


def test_ask_number_reasks_until_in_range() -> None:
    ask, out = dialogue(["1001", "abc", " 250 "])
    question = Number('Enter the max concurrency limit for "example.com".', 1, 1000, 500)
    assert ask.ask(question) == 250
    assert out.getvalue() == (
        '\nEnter the max concurrency limit for "example.com".\n'
        "[500]> 1001\n"
        "You must enter a value from 1 to 1000.\n"
        '\nEnter the max concurrency limit for "example.com".\n'
        "[500]> abc\n"
        "You must enter a value from 1 to 1000.\n"
        '\nEnter the max concurrency limit for "example.com".\n'
        "[500]>  250 \n"
    )


def test_ask_required_number_refuses_empty() -> None:
    ask, out = dialogue(["", "0"])
    question = Number(
        'Enter the max number of recipients per 60 minutes for "example.com".',
        0,
        1_000_000_000,
        None,
    )
    assert ask.ask(question) == 0
    assert out.getvalue() == (
        '\nEnter the max number of recipients per 60 minutes for "example.com".\n'
        "[]> \n"
        "You must enter a value from 0 to 1000000000.\n"
        '\nEnter the max number of recipients per 60 minutes for "example.com".\n'
        "[]> 0\n"
    )


def test_ask_choice_reasks_with_the_whole_list() -> None:
    ask, out = dialogue(["7", "required"])
    assert ask.ask(TLS) == "REQUIRED"
    block = (
        "\nDo you want to use TLS support?\n"
        "1. No\n"
        "2. Preferred\n"
        "3. Required\n"
        "4. Preferred - Verify\n"
        "5. Required - Verify\n"
        "6. Required - Verify Hosted Domains\n"
        "[1]> "
    )
    assert out.getvalue() == (
        block + "7\nYou must enter a value from 1 to 6.\n" + block + "required\n"
    )


def test_ask_escapes_the_echo_of_a_refused_answer() -> None:
    ask, out = dialogue(["\x1b[2J", "n"])
    assert ask.ask(YesNo("Q?", True)) is False
    assert out.getvalue() == "\nQ? [Y]> \\x1b[2J\nPlease answer Y or N.\n\nQ? [Y]> n\n"


def test_ask_text_abandon_propagates() -> None:
    ask, out = dialogue([""])
    with pytest.raises(Abandon):
        ask.ask(Text("Enter the domain you wish to edit.", str.strip))
    assert out.getvalue() == "\nEnter the domain you wish to edit.\n[]> \n"


def test_ask_end_of_input_propagates() -> None:
    ask, out = dialogue(["maybe"])
    with pytest.raises(EOFError):
        ask.ask(YesNo("Q?", True))
    assert out.getvalue() == "\nQ? [Y]> maybe\nPlease answer Y or N.\n\nQ? [Y]> \n"


def test_ask_without_echo() -> None:
    ask, out = dialogue(["x", "n"], echo=False)
    assert ask.ask(YesNo("Q?", True)) is False
    assert out.getvalue() == "\nQ? [Y]> Please answer Y or N.\n\nQ? [Y]> "


class RecordingReader:
    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple[str, ...], PromptKind]] = []

    def read(
        self, prompt: str, completions: Iterable[str] = (), *, kind: PromptKind = PromptKind.ANSWER
    ) -> str:
        self.calls.append((prompt, tuple(completions), kind))
        return self.answers.pop(0)


def test_ask_hands_prompt_and_completions_to_the_reader() -> None:
    reader = RecordingReader(["x", "2"])
    out = io.StringIO()
    ask = Dialogue(reader, Console(out))
    assert ask.ask(Choice("Pick:", (("Alpha", "a"), ("Beta", "b")), 1)) == "b"
    assert reader.calls == [
        ("[1]> ", ("Alpha", "Beta"), PromptKind.ANSWER),
        ("[1]> ", ("Alpha", "Beta"), PromptKind.ANSWER),
    ]
    # With no stream reader, no echo: the rejection follows the prompt directly.
    assert out.getvalue() == (
        "\nPick:\n1. Alpha\n2. Beta\n"
        "You must enter a value from 1 to 2.\n"
        "\nPick:\n1. Alpha\n2. Beta\n"
    )
    yes_no = RecordingReader(["y"])
    Dialogue(yes_no, Console(io.StringIO())).ask(YesNo("Q?", False))
    assert yes_no.calls == [("Q? [N]> ", ("Y", "N"), PromptKind.ANSWER)]
    menu = RecordingReader(["x"])
    Dialogue(menu, Console(io.StringIO())).ask(Text("Op?", str, kind=PromptKind.MENU))
    assert menu.calls == [("[]> ", (), PromptKind.MENU)]


def test_destination_words_offer_the_unicode_form_beside_an_idna_key() -> None:
    keys = {"example.com": 1, "xn--bcher-kva.example": 2, ".xn--bcher-kva.example": 3}
    words = DestinationWords(keys.keys(), extra=("DEFAULT", "ALL"))
    expected = [
        "DEFAULT",
        "ALL",
        "example.com",
        "xn--bcher-kva.example",
        "bücher.example",
        ".xn--bcher-kva.example",
        ".bücher.example",
    ]
    assert list(words) == expected
    assert list(words) == expected  # offered again at the next Tab
