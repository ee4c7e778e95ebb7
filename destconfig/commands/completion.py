"""``completion``: the bash or zsh completion script of the one-shot commands.

The script is generated from the command line's own parser (by shtab), so that
every command, option and choice (``--format``, ``--tls`` words) is offered as
``--help`` lists it and cannot drift from it. What the parser cannot say (that a
positional argument is a file, ``--home`` a directory) is added here, by name.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from destconfig import settings

SHELLS = ("bash", "zsh")

# Arguments whose values are paths, by their destination in the parser.
_FILES = frozenset({"file", "files", "a", "b", "ca_file"})
_DIRECTORIES = frozenset({"home"})


def add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "completion",
        help="print the bash or zsh completion script",
        description="Print the completion script of the commands for SHELL. bash: "
        'eval "$(destconfig completion bash)" in ~/.bashrc; zsh: destconfig completion zsh '
        '> "${fpath[1]}/_destconfig" (a directory of $fpath), then start a new shell.',
    )
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash or zsh")
    # Run by the command line itself, which has the parser the script is made from.


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for *shell* of the command line *parser*."""
    import shtab

    _mark_paths(parser, shtab.FILE, shtab.DIRECTORY)
    return shtab.complete(parser, shell=shell)


def _words(action: argparse.Action, *, of_default: bool) -> tuple[str, ...]:
    """The words a setting's option takes, as a person types them, and ``default``
    except in the default entry's (which has no Default to return to)."""
    setting = settings.BY_NAME.get(action.dest)
    if setting is None or not setting.values.named or not action.option_strings:
        return ()
    return setting.values.named if of_default else (*setting.values.named, "default")


def _mark_paths(
    parser: argparse.ArgumentParser, files: Mapping[str, object], directories: Mapping[str, object]
) -> None:
    """Tell shtab which arguments complete as files or directories, in every command."""
    of_default = parser.prog.endswith(" default")
    for action in parser._actions:
        words = _words(action, of_default=of_default)
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                _mark_paths(command, files, directories)
        elif words:
            # The parser checks values by their type; this one is only written out.
            action.choices = words
        elif action.dest in _FILES:
            action.complete = files  # type: ignore[attr-defined]
        elif action.dest in _DIRECTORIES:
            action.complete = directories  # type: ignore[attr-defined]
