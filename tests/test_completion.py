"""``destconfig completion bash|zsh``: the scripts, run by the real shells.

bash completes through its ``complete -F`` function, called as bash calls it; zsh
is driven at a real terminal, Tab pressed, and its command line read back (zsh is
Debian's package, unpacked, where the machine has none).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.debpkg import unpacked
from tests.helpers import run_cli

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    done = run_cli(None, "completion", "bash")
    assert (done.status, done.err) == (0, "")
    path = tmp_path_factory.mktemp("completion") / "destconfig.bash"
    path.write_text(done.out, encoding="utf-8")
    return path


def bash_complete(script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What bash offers after *line* (its last word the one completed), one per item."""
    words = line.split(" ")
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
        'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; '
        '_shtab_destconfig destconfig "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "-c", program, "bash", str(script), *words],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    return sorted(item for item in done.stdout.split("\n") if item)


def test_bash_completes_the_commands(bash_script: Path) -> None:
    assert bash_complete(bash_script, "destconfig ex") == ["export"]
    assert bash_complete(bash_script, "destconfig d") == ["default", "delete", "detail", "diff"]
    assert "completion" in bash_complete(bash_script, "destconfig ")


def test_bash_offers_the_tls_words_and_no_numbers(bash_script: Path) -> None:
    assert bash_complete(bash_script, "destconfig new x.example --tls PRE") == [
        "PREFERRED",
        "PREFERRED_VERIFY",
    ]
    offered = bash_complete(bash_script, "destconfig edit x.example --tls ")
    assert offered == sorted(
        [
            "NO",
            "PREFERRED",
            "REQUIRED",
            "PREFERRED_VERIFY",
            "REQUIRED_VERIFY",
            "REQUIRED_VERIFY_HOSTED",
            "default",
        ]
    )


def test_bash_leaves_default_out_of_the_default_entrys_words(bash_script: Path) -> None:
    offered = bash_complete(bash_script, "destconfig default --bounce-verification ")
    assert offered == ["off", "on"]
    assert "default" not in bash_complete(bash_script, "destconfig default --tls ")


def test_bash_offers_the_options_and_formats(bash_script: Path) -> None:
    assert bash_complete(bash_script, "destconfig list --format ") == ["json", "text", "toml"]
    assert bash_complete(bash_script, "destconfig edit x.example --dry") == ["--dry-run"]
    assert bash_complete(bash_script, "destconfig new x.example --ip-sort PREFER_") == [
        "PREFER_V4",
        "PREFER_V6",
    ]


def test_bash_completes_files_and_directories(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "table.toml").write_text("", encoding="utf-8")
    (tmp_path / "homes").mkdir()
    assert bash_complete(bash_script, "destconfig import ta", cwd=tmp_path) == ["table.toml"]
    assert bash_complete(bash_script, "destconfig list --home ho", cwd=tmp_path) == ["homes"]


def test_completion_needs_no_home(tmp_path: Path) -> None:
    home = tmp_path / "never"
    done = run_cli(home, "completion", "zsh")
    assert done.status == 0 and done.out.startswith("#compdef destconfig\n")
    assert not home.exists()


def test_an_unknown_shell_is_a_usage_error() -> None:
    done = run_cli(None, "completion", "fish")
    assert (done.status, done.out) == (2, "")
    assert done.err.startswith("destconfig: completion: argument SHELL: invalid choice: 'fish'")


# --- zsh, at a terminal ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def zsh(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A zsh, and a ZDOTDIR whose .zshrc loads compinit and the destconfig script."""
    found = shutil.which("zsh")
    if found is not None:
        program, modules, functions = found, None, None
    else:
        root = unpacked("zsh", ("zsh", "zsh-common"))
        program = str(root / "bin" / "zsh")
        modules = next((root / "usr" / "lib").glob("*/zsh/*"))
        functions = root / "usr" / "share" / "zsh" / "functions"
    home = tmp_path_factory.mktemp("zsh")
    (home / "completions").mkdir()
    done = run_cli(None, "completion", "zsh")
    (home / "completions" / "_destconfig").write_text(done.out, encoding="utf-8")
    lines = []
    if modules is not None and functions is not None:
        lines += [f"module_path=({modules})", f"fpath=({functions}/**/*(/))"]
    lines += [
        f"fpath=({home / 'completions'} $fpath)",
        "autoload -U compinit && compinit -u -D",
        "PS1='zsh> '",
        # Ctrl-X prints the command line as zsh holds it, whatever the screen shows.
        'show-buffer() { zle -I; print -r -- "BUFFER<<$BUFFER>>" }',
        "zle -N show-buffer && bindkey '^X' show-buffer",
    ]
    (home / ".zshrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return program, home


def zsh_line_after_tab(zsh: tuple[str, Path], typed: str) -> str:
    """The command line zsh shows after *typed* and one Tab."""
    program, home = zsh
    env = dict(
        os.environ,
        ZDOTDIR=str(home),
        PATH=f"{BIN}:{os.environ['PATH']}",
        TERM="dumb",
        HOME=str(home),
    )
    child = pexpect.spawn(
        program, ["-i"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 200)
    )
    try:
        child.expect_exact("zsh> ")
        child.send(typed + "\t")
        child.sendcontrol("x")
        child.expect(r"BUFFER<<(.*?)>>")
        line: str = child.match.group(1)
        return line
    finally:
        child.close(force=True)


def test_zsh_completes_a_command(zsh: tuple[str, Path]) -> None:
    assert zsh_line_after_tab(zsh, "destconfig exp") == "destconfig export "


def test_zsh_completes_a_tls_word(zsh: tuple[str, Path]) -> None:
    line = zsh_line_after_tab(zsh, "destconfig new x.example --tls REQUIRED_VERIFY_H")
    assert line == "destconfig new x.example --tls REQUIRED_VERIFY_HOSTED "
