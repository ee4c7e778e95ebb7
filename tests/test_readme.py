"""The README as a newcomer follows it: its commands run as written and print what it shows.

The blocks are taken from the README itself, so that a change to the program that
changes what the README shows fails here until the README says it too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # the virtual environment's, as after activating it

INSTALL_AND_START = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/destconfig"
INSTALL_AND_TEST = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest"
)
NOTE = "destconfig: end of input: the uncommitted changes were discarded.\n"


def blocks(kind: str = "") -> list[str]:
    """The README's fenced blocks of *kind* (``sh``, or ``""`` for plain), in order."""
    return re.findall(rf"^```{kind}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def block_after(text: str, kind: str = "") -> str:
    """The first block of *kind* after *text* in the README."""
    rest = README[README.index(text) :]
    found = re.search(rf"^```{kind}\n(.*?)^```$", rest, flags=re.MULTILINE | re.DOTALL)
    assert found is not None, text
    return found.group(1)


def on_path(command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """*command* run by sh with destconfig on the PATH, as the README has it set up."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DESTCONFIG", None)
    env.pop("DESTCONFIG_HOME", None)
    return subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_readme_says_what_the_tool_is_for_then_gives_the_two_commands() -> None:
    first = README.split("\n## ", 1)[0]
    assert "destination controls" in first and "administrators" in first
    assert blocks("sh")[:2] == [INSTALL_AND_START + "\n", INSTALL_AND_TEST + "\n"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip("\n").endswith(INSTALL_AND_TEST)


def test_the_first_session_prints_the_list_and_detail_shown(tmp_path: Path) -> None:
    session = block_after("### A first session", "sh").rstrip("\n")
    assert session.startswith("printf '") and session.endswith(" | destconfig --home /tmp/demo")
    home = tmp_path / "demo"
    done = on_path(session.replace("/tmp/demo", str(home)))
    assert (done.returncode, done.stderr) == (0, "")
    shown_list = block_after("LIST, as the\nshell prints it:")
    shown_detail = block_after("and DETAIL of `example.com`")
    assert f"[]> list\n\n{shown_list}\n" in done.stdout
    assert f"[]> example.com\n\n{shown_detail}\n" in done.stdout
    assert "\nChanges committed: " in done.stdout
    listed = on_path(f"destconfig --home {home} list")
    assert (listed.returncode, listed.stdout) == (0, shown_list)


def test_the_session_without_commit_ends_as_the_readme_says(tmp_path: Path) -> None:
    session = block_after("### A first session", "sh").rstrip("\n")
    assert "\\ncommit\\nfirst entry\\nY\\n' |" in session
    uncommitted = session.replace("\\ncommit\\nfirst entry\\nY\\n' |", "\\n' |")
    done = on_path(uncommitted.replace("/tmp/demo", str(tmp_path / "demo")))
    assert (done.returncode, done.stderr) == (1, NOTE)
    assert NOTE.removesuffix("\n").removeprefix("destconfig: ") in README.replace("\n", " ")
    assert not (tmp_path / "demo" / "config.toml").exists()


def test_the_one_shot_commands_give_the_same_detail(tmp_path: Path) -> None:
    commands = block_after("The same change as one-shot commands", "sh")
    done = on_path(commands.replace("/tmp/demo2", str(tmp_path / "demo2")))
    assert (done.returncode, done.stderr) == (0, "")
    committed, detail = done.stdout.split("\n", 1)
    assert committed.startswith("Changes committed: ")
    assert detail == block_after("and DETAIL of `example.com`")


def test_the_example_script_runs_as_the_readme_says() -> None:
    command = block_after("`examples/` holds a realistic table", "sh").rstrip("\n")
    assert command == "sh examples/import-and-list.sh"
    done = on_path(command)
    assert (done.returncode, done.stderr) == (0, "")
    assert "\n[]> destinations.cfg\n\nThere are currently 31 entries configured.\n" in done.stdout


def test_the_example_script_says_how_to_find_destconfig(tmp_path: Path) -> None:
    """Copied away from the project (no .venv beside it) and without destconfig on PATH."""
    copy = tmp_path / "import-and-list.sh"
    copy.write_bytes((ROOT / "examples" / "import-and-list.sh").read_bytes())
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(["sh", str(copy)], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (127, "")
    assert done.stderr == (
        "import-and-list.sh: destconfig is not on the PATH: run '. .venv/bin/activate' or set "
        "DESTCONFIG to the command\n"
    )


def test_the_rollbackconfig_sample_is_a_replayed_transcripts() -> None:
    """The README's session is part of a transcript the suite replays byte for byte."""
    shown = block_after("`rollbackconfig` returns to an earlier committed configuration")
    transcript = (ROOT / "transcripts" / "rollbackconfig.txt").read_text(encoding="utf-8")
    assert shown.startswith("ESA> rollbackconfig\n")
    assert shown in transcript


def test_the_cluster_example_runs_as_written(tmp_path: Path) -> None:
    block = block_after("### Clusters: many hosts, one table (on git)", "sh")
    assert block.startswith("mkdir /tmp/cluster-demo && cd /tmp/cluster-demo\n")
    script = block.replace("/tmp/cluster-demo", str(tmp_path / "cluster-demo"))
    done = on_path("set -e\n" + script)
    assert done.returncode == 0, done.stderr
    status = done.stdout[done.stdout.index("Cluster prod at commit ") :]
    shown = block_after("The last command prints")
    assert re.sub(r"\b[0-9a-f]{12}\b", "1a2b3c4d5e6f", status) == shown


def test_the_clustermode_sample_is_what_the_shell_prints(tmp_path: Path) -> None:
    shown = block_after("`clustermode` changes the mode:")
    home = tmp_path / "edge1"
    made = on_path(
        f"destconfig --home {home} cluster create prod --repo {tmp_path / 'prod.git'} "
        "--machine edge1 --group edge"
    )
    assert made.returncode == 0, made.stderr
    answers = "clustermode group edge\\nclustermode\\n1\\n"
    done = on_path(f"printf '{answers}' | destconfig --home {home}")
    assert done.returncode == 0, done.stderr
    # The sample ends at the prompt, where the piped input ended.
    assert done.stdout.rstrip("\n") == shown.rstrip("\n") + " "
