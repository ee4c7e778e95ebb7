"""The compiled TOML parser reads what tomllib reads, and refuses what it refuses.

config.toml is read by a compiled parser for speed, and by tomllib only to word
the error of a file the compiled one refuses. If the two disagreed, a file could
be accepted that tomllib calls invalid (and the other way round, refused with no
message). These tests hold the fast one to tomllib, the reference reading of
TOML 1.0. The compiled parser recurses on the native stack, where a deep
nesting would end the process: it reads on a stack deep enough for any text it
is given, and these tests feed it deep text in a child process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.formats import toml as toml_format
from destconfig.formats import tomlparse
from destconfig.formats.problems import FormatError


def tomllib_reading(text: str) -> Any:
    try:
        return repr(tomllib.loads(text))  # repr: nan is not equal to itself
    except tomllib.TOMLDecodeError:
        return "refused"


def compiled_reading(text: str) -> Any:
    document = tomlparse.compiled(text)
    return "refused" if document is None else repr(document)


@pytest.mark.parametrize(
    "text",
    [
        "a = 1\na = 2",
        # TOML 1.1 forms that TOML 1.0 (and so tomllib) refuses
        "a = {b = 1,}",
        "a = {\nb = 1}",
        'a = "\\x41"',
        'a = "\\e"',
        "a = 00:00",
        # forms both accept
        "a = 1979-05-27",
        "a = 0x10",
        "a = 1_0",
        "a = nan",
        "a = 9223372036854775808",
        "a = '''x'''",
        '"a.example.com" = { tls = "NO", max_host_concurrency = 10 }',
        # forms both refuse
        "a = 01",
        'x = "a\x7fb"',
        "a.b = 1\n[a]\nc=2",
        '"a" = {}\n"a" = {}',
        "a = { b = 1, b = 2 }",
        "a = 1 # \x01",
        "[[a]]\n[a]",
        # dates and times Python cannot hold (toml-rs raises a plain ValueError for these)
        "a = 1979-05-27T07:32:60",
        "a = 0000-01-01",
        "a = 24:00:00",
        # a byte order mark left after decoding removed the first
        "\ufeffa = 1",
    ],
)
def test_the_compiled_parser_reads_as_tomllib(text: str) -> None:
    assert compiled_reading(text) == tomllib_reading(text)


# fmt: off
FRAGMENTS = [
    "a", "b", '"a.example.com"', "'x'", " = ", "=", " ", "\n", "\r\n", "{", "}", "[", "]",
    ",", ".", "1", "01", "1_0", "-", "+", "1.5", "e3", "true", "false", "nan", "inf",
    '"', "'''", '"""', "\\", "\\n", "\\x41", "\\u00e9", "#", "\t", "1979-05-27", "T",
    "00:00:00", "Z", "é", "\x7f", "\x00", "[entries]", "[[t]]",
]
# fmt: on


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16).map("".join))
def test_any_text_of_toml_fragments_reads_as_tomllib(text: str) -> None:
    assert compiled_reading(text) == tomllib_reading(text)


@pytest.mark.parametrize(
    "text",
    [
        "a = 1979-05-27T07:32:60\n",
        "a = 0000-01-01\n",
        "\ufeffa = 1\n",
        'a = 1\n[entries]\n"x.example" = { t = 1979-05-27T07:32:60 }\n',
    ],
)
def test_a_text_both_parsers_refuse_is_a_format_error_with_its_line(text: str) -> None:
    with pytest.raises(FormatError) as raised:
        toml_format.loads(("\ufeff" + text).encode())
    assert [problem.line for problem in raised.value.problems] == [text.count("\n")]


# --- nesting ------------------------------------------------------------------------------
# toml-rs recurses on the native stack: a text nested deeper than the stack holds would
# end the process, so these run in a child process and check that it ends well.

_DEEP = 20000  # far deeper than an 8 MiB stack holds at about 2 KiB a level

_READS = """
import sys
from destconfig.formats import toml
from destconfig.formats.problems import FormatError
try:
    toml.loads(sys.stdin.buffer.read())
    print("read")
except FormatError as error:
    print("refused:", [problem.reason for problem in error.problems])
"""


def read_in_a_child(data: bytes) -> str:
    run = subprocess.run(
        [sys.executable, "-c", _READS], input=data, capture_output=True, timeout=120
    )
    assert run.returncode == 0, (run.returncode, run.stderr.decode()[-2000:])
    return run.stdout.decode().strip()


def _nested(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return "{ a = " * depth + "1" + " }" * depth


@pytest.mark.parametrize("kind", ["array", "inline table"])
@pytest.mark.parametrize("where", ["head", "entries"])
def test_a_deeply_nested_document_is_read_without_ending_the_process(kind: str, where: str) -> None:
    deep = f"x = {_nested(kind, _DEEP)}"
    places = {"head": f"{deep}\n[entries]\n", "entries": f'[entries]\n"a.example" = {{ {deep} }}\n'}
    data = places[where]
    assert read_in_a_child(data.encode()).startswith("refused:")  # x is no setting


@pytest.mark.parametrize(
    "data",
    [
        # text toml-rs refuses, where it still recurses before it gives up
        b"]" * _DEEP + b"\na=" + b"[" * _DEEP,
        b"}" * _DEEP + b"\na=" + b"{a=" * _DEEP,
        b"a=" + b"[}" * _DEEP,
        b"#\r" + b"a=" + b"[" * _DEEP,
        b"x = \"'''\na=" + b"[" * _DEEP + b"\n'''",
        b"a = " + b"[" * _DEEP + b"]" * _DEEP + b"\n@",
        # quotes and escapes in strings that once hid the nesting after them
        b"a = '''x''\\\\'y'''\nb = " + b"[" * _DEEP + b"\n# '''",
        b'a = """x""\\""y"""\nb = ' + b"[" * _DEEP + b'\n# """',
    ],
)
def test_text_that_nests_deeply_and_is_refused_ends_with_a_message(data: bytes) -> None:
    assert read_in_a_child(data).startswith("refused:")


def test_text_deeper_than_any_allowed_stack_is_left_to_tomllib() -> None:
    """More "[" than the largest stack holds: tomllib reads it, and its recursion
    error is the document's problem."""
    levels = tomlparse.MOST_LEVELS
    data = b"a = " + b"[" * (levels + 1) + b"]" * (levels + 1)
    assert tomlparse.compiled(data.decode()) is None
    with pytest.raises(FormatError) as raised:
        toml_format.loads(data)
    assert [(p.line, p.reason) for p in raised.value.problems] == [
        (None, "the document is nested too deeply")
    ]


def test_work_on_the_deep_stack_hands_back_its_result_and_its_errors() -> None:
    assert tomlparse.on_deep_stack(lambda: 42, 10) == 42

    def fails() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        tomlparse.on_deep_stack(fails, 10)


def test_when_no_thread_can_be_made_tomllib_reads_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert tomlparse.compiled("a = [1]") is None
    assert tomlparse.parse("a = [1]") == {"a": [1]}
    with pytest.raises(FormatError, match="nested too deeply"):
        tomlparse.parse("a = " + "[" * 5000 + "]" * 5000)


_INTERRUPTED = """
import sys
import time
from destconfig.formats import toml
from destconfig.model import Entry, Table
table = Table(entries={f"host{n}.example": Entry(max_messages_per_connection=1 + n % 999)
                       for n in range(40000)})
data = toml.dumps(table)
print("ready", flush=True)
try:
    toml.loads(data)
    print("read", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
time.sleep(60)  # alive when the signal comes, so that an interrupt cannot go unseen
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
def test_ctrl_c_while_a_table_is_read_ends_the_process_cleanly(delay: float) -> None:
    """The reading thread is waited out, never left in compiled code at exit."""
    child = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    # Interrupted in the read (130) or after it (killed by SIGINT, as Python ends on an
    # uncaught Ctrl-C); never swallowed (0 after the minute's sleep, or a timeout),
    # aborted or by a segmentation fault.
    ended = {130: b"interrupted\n", -signal.SIGINT: b"read\n"}
    assert child.returncode in ended, (child.returncode, err.decode()[-2000:])
    assert out.endswith(ended[child.returncode])
