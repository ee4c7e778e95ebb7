"""Release 13's questions, found as AsyncOS 13.0's CLI test library finds them: by fragments.

The table below is the one the appliance's test library keeps (each operation's
questions, each named by a fragment of its text). A driver that knows nothing
of the dialogue but these fragments answers every question of every operation;
a question it has no fragment for fails the test, so every question release 13
asks is one the library can find.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from destconfig.console import Console
from destconfig.dialogue.reader import StreamReader
from destconfig.env import Environment
from destconfig.model import Dane, Table, Tls
from destconfig.replay import FIXED_TIME
from destconfig.shell import host
from destconfig.shell.menu import MENU_TEXT
from destconfig.shell.options import ShellOptions
from destconfig.shell.session import Session
from destconfig.store import Store

FRAGMENTS: dict[str, tuple[str, ...]] = {
    "NEW": (
        "domain you wish to configure",
        "to configure a concurrency limit",
        "max concurrency limit",
        "apply a recipient limit",
        "measure the recipient limit",
        "max number of recipients",
        "to apply the limits for",
        "limits will be enforced",
        "apply a messages-per-connection limit",
        "max number of messages",
        "to apply a specific TLS setting",
        "use TLS support",
        "wish to configure DANE Support",
        "choose a DANE option",
        "have not entered a certificate",
        "apply a specific bounce verification",
        "bounce verification address tagging",
        "apply a specific bounce profile",
        "bounce profile to apply",
        "name of a profile",
        "apply a specific IP sort preference",
        "sort IP addresses within an MX",
    ),
    "DETAIL": ("domain name to view",),
    "DELETE": ("domain you wish to delete",),
    "DEFAULT": (
        "default maximum concurrency limit",
        "specify a default recipient limit",
        "measure recipient limit",
        "Enter number of recipients",
        "apply the limits for",
        "limits will be enforced",
        "maximum number of messages",
        "use TLS support",
        "use DANE Support",
        "have not entered a certificate",
        "verification address tagging",
        "sort IP addresses within an MX",
    ),
    "SETUP": ("Please choose the certificate", "send an alert when a required TLS"),
    "LIST": (),
    "CLEAR": (),
}
# EDIT: as NEW, with these two in place of NEW's.
_EDIT_IN_PLACE = {
    "domain you wish to configure": "domain you wish to edit",
    "apply a specific bounce verification": "apply a specific bounce verification address",
}
FRAGMENTS["EDIT"] = tuple(_EDIT_IN_PLACE.get(fragment, fragment) for fragment in FRAGMENTS["NEW"])
ERRORS = (
    "was not found in the destination",
    "bounce profile name must start with",
    "Invalid profile name",
)

# The driver's answers, by fragment: Y wherever a gate asks, so that every question is
# asked; a list is answered in turn (a refused answer is asked again).
NEW_ANSWERS: dict[str, str | list[str]] = {
    "domain you wish to configure": "example.com",
    "to configure a concurrency limit": "Y",
    "max concurrency limit": "100",
    "apply a messages-per-connection limit": "Y",
    "max number of messages": "10",
    "apply a recipient limit": "Y",
    "measure the recipient limit": "30",
    "max number of recipients": "1000",
    "to apply the limits for": "2",
    "limits will be enforced": "1",
    "to apply a specific TLS setting": "Y",
    "use TLS support": "3",
    "wish to configure DANE Support": "Y",
    "choose a DANE option": "3",
    "have not entered a certificate": "Y",
    "apply a specific bounce verification": "Y",
    "bounce verification address tagging": "Y",
    "apply a specific bounce profile": "Y",
    "bounce profile to apply": "2",
    "name of a profile": ["1bulk", "bulk"],
    "apply a specific IP sort preference": "Y",
    "sort IP addresses within an MX": "1",
}
EDIT_ANSWERS: dict[str, str | list[str]] = {
    **{_EDIT_IN_PLACE.get(key, key): value for key, value in NEW_ANSWERS.items()},
    "domain you wish to edit": "example.com",
    "use TLS support": "5",
    "choose a DANE option": "2",
    # Cisco's driver answers 2 with profiles known, and expects the name question.
    "bounce profile to apply": "2",
    "name of a profile": "transactional",
}
DEFAULT_ANSWERS: dict[str, str | list[str]] = {
    "default maximum concurrency limit": "200",
    "maximum number of messages": "20",
    "specify a default recipient limit": "Y",
    "measure recipient limit": "60",
    "Enter number of recipients": "500",
    "apply the limits for": "1",
    "limits will be enforced": "2",
    "use TLS support": "2",
    "use DANE Support": "2",
    "have not entered a certificate": "Y",
    "verification address tagging": "Y",
    "sort IP addresses within an MX": "3",
}
ANSWERS: dict[str, Mapping[str, str | list[str]]] = {
    "NEW": NEW_ANSWERS,
    "EDIT": EDIT_ANSWERS,
    "DEFAULT": DEFAULT_ANSWERS,
    "SETUP": {"Please choose the certificate": "1", "send an alert when a required TLS": "Y"},
    "DETAIL": {"domain name to view": "ALL"},
    "DELETE": {"domain you wish to delete": "example.com"},
    "LIST": {},
    "CLEAR": {},
}


class UnknownQuestion(AssertionError):
    """A question the driver has no fragment for."""


def named_by(question: str, fragments: Sequence[str]) -> str | None:
    """The fragment that names *question* (line breaks read as spaces; of two, the longer)."""
    text = question.replace("\n", " ")
    found = [fragment for fragment in fragments if fragment in text]
    return max(found, key=len) if found else None


class FragmentDriver:
    """Answers the shell as the test library does: the host command and each operation
    of *plan* in turn, every other question by its fragment alone.

    It records each question with the fragment that named it, and everything shown.
    """

    def __init__(
        self,
        output: io.StringIO,
        plan: Sequence[str],
        fragments: Mapping[str, Sequence[str]] = FRAGMENTS,
        answers: Mapping[str, Mapping[str, str | list[str]]] = ANSWERS,
    ) -> None:
        self._output = output
        self._seen = 0
        self._plan: Iterator[str] = iter(plan)
        self._fragments = fragments
        self._answers = {  # copies: the lists are answered in turn
            operation: {
                key: list(value) if isinstance(value, list) else value
                for key, value in given.items()
            }
            for operation, given in answers.items()
        }
        self.operation = ""
        self.asked: list[tuple[str, str, str]] = []  # (operation, fragment, question)
        self.completed: list[str] = []

    def __call__(self) -> str | None:
        self._output.seek(self._seen)
        shown = self._output.read()
        self._seen = self._output.tell()
        if shown.endswith("ESA> "):
            return next(self._plan, None)  # None: end of input, the session ends
        if shown.endswith(MENU_TEXT + "\n[]> "):
            if self.operation:
                self.completed.append(self.operation)
            self.operation = next(self._plan)
            return self.operation.lower()
        # A question: what was shown since the last answer, without its empty lines.
        question = "\n".join(line for line in shown.split("\n") if line)
        fragment = named_by(question, self._fragments[self.operation])
        if fragment is None:
            raise UnknownQuestion(f"{self.operation}: no fragment names {question!r}")
        self.asked.append((self.operation, fragment, question))
        answer = self._answers[self.operation][fragment]
        if isinstance(answer, list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer


def drive(
    home: Path,
    plan: Sequence[str],
    *,
    release: str = "13",
    fragments: Mapping[str, Sequence[str]] = FRAGMENTS,
    answers: Mapping[str, Mapping[str, str | list[str]]] = ANSWERS,
) -> tuple[FragmentDriver, Session, str]:
    """Run a session on *home* in *release*, answered by a :class:`FragmentDriver`."""
    output = io.StringIO()
    env = Environment(
        stdin=io.BytesIO(), stdout=output, stderr=io.StringIO(), home=home, clock=lambda: FIXED_TIME
    )
    store = Store(home)
    store.prepare()
    console = Console(output)
    driver = FragmentDriver(output, plan, fragments, answers)
    session = Session(
        env,
        ShellOptions(release=release),
        store=store,
        committed=store.load(),
        console=console,
        reader=StreamReader(driver, console),
    )
    host.run(session)
    return driver, session, output.getvalue()


EVERY_OPERATION = ["NEW", "EDIT", "DEFAULT", "SETUP", "DETAIL", "LIST", "DELETE", "CLEAR"]


def test_the_driver_completes_every_operation_by_fragments(tmp_path: Path) -> None:
    driver, session, shown = drive(tmp_path, ["destconfig", *EVERY_OPERATION, ""])
    assert driver.completed == EVERY_OPERATION
    # NEW, EDIT, DEFAULT, DELETE and CLEAR each completed: each printed the banner.
    banners = [line for line in shown.split("\n") if line.startswith("There ")]
    assert banners == [
        "There is currently 1 entry configured.",
        "There is currently 1 entry configured.",
        "There is currently 1 entry configured.",
        "There are currently 0 entries configured.",
        "There are currently 0 entries configured.",
    ]
    assert "example.com\n    IP Address Preference:" in shown  # DETAIL ALL
    assert "Domain      Limiting TLS" in shown  # LIST
    assert session.table.entries == {}


def test_each_operation_did_what_its_answers_say(tmp_path: Path) -> None:
    # Stop before DELETE and CLEAR, whose answers would take the entry away.
    _, session, _ = drive(tmp_path, ["destconfig", "NEW", "EDIT", "DEFAULT", "SETUP", ""])
    table: Table = session.table
    entry = table.entries["example.com"]
    assert (entry.tls, entry.dane) == (Tls.REQUIRED_VERIFY, Dane.OPPORTUNISTIC)
    assert entry.bounce_profile == "transactional"
    assert table.bounce_profiles == ("bulk", "transactional")
    assert (table.default.tls, table.default.dane) == (Tls.PREFERRED, Dane.OPPORTUNISTIC)
    assert table.settings.tls_alert is True


def test_every_question_of_release_13_contains_its_fragment(tmp_path: Path) -> None:
    driver, _, _ = drive(tmp_path, ["destconfig", *EVERY_OPERATION, ""])
    for operation, fragment, question in driver.asked:
        assert fragment in question.replace("\n", " "), (operation, question)
    # And the table names no question that is never asked: each fragment was used.
    used = {(operation, fragment) for operation, fragment, _ in driver.asked}
    for operation, fragments in FRAGMENTS.items():
        for fragment in fragments:
            assert (operation, fragment) in used, (operation, fragment)


def test_the_errors_contain_their_fragments(tmp_path: Path) -> None:
    answers = {**ANSWERS, "EDIT": {**EDIT_ANSWERS, "domain you wish to edit": "nowhere.example"}}
    _, _, shown = drive(tmp_path, ["destconfig", "NEW", "EDIT", ""], answers=answers)
    lines = shown.split("\n")
    not_found = next(line for line in lines if line.startswith('"nowhere.example"'))
    assert ERRORS[0] in not_found
    invalid = next(line for line in lines if line.startswith("Invalid profile"))
    assert ERRORS[1] in invalid
    assert invalid.startswith(ERRORS[2])


def test_a_question_with_no_fragment_fails_the_driver(tmp_path: Path) -> None:
    without_dane = {**FRAGMENTS, "NEW": tuple(f for f in FRAGMENTS["NEW"] if "DANE" not in f)}
    with pytest.raises(UnknownQuestion, match="DANE Support for this domain"):
        drive(tmp_path, ["destconfig", "NEW", ""], fragments=without_dane)


def test_the_seed_release_fails_release_13s_driver(tmp_path: Path) -> None:
    # The seed release keeps Default, the known profiles, then New Profile: answering 2
    # with a profile known chooses that profile, and the name question never comes.
    driver, session, _ = drive(tmp_path, ["destconfig", "NEW", "EDIT", ""], release="seed")
    asked = [fragment for operation, fragment, _ in driver.asked if operation == "EDIT"]
    assert "wish to configure DANE Support" not in asked
    assert "have not entered a certificate" not in asked
    assert "name of a profile" not in asked
    assert session.table.entries["example.com"].bounce_profile == "bulk"


def test_named_by_reads_line_breaks_as_spaces_and_prefers_the_longer() -> None:
    gate = (
        "Do you wish to apply a specific bounce verification\n"
        "address tagging setting for this domain? [N]> "
    )
    assert named_by(gate, FRAGMENTS["NEW"]) == "apply a specific bounce verification"
    assert named_by(gate, FRAGMENTS["EDIT"]) == "apply a specific bounce verification address"
    assert named_by("Perform bounce verification address tagging? [N]> ", FRAGMENTS["NEW"]) == (
        "bounce verification address tagging"
    )
    assert named_by("Something else? [N]> ", FRAGMENTS["NEW"]) is None
