"""Command line: argv -> Environment -> the shell, replay or a one-shot command; exit codes.

Exit status: 0 for a clean session or a command that did what it was asked; 1
when input ended with changes pending, a replay failed, a change or import was
refused, or ``diff`` found differences; 2 for usage errors and a configuration
that cannot be read.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

from destconfig import __version__
from destconfig.console import escape_lines, program_error
from destconfig.env import DEFAULT_HOSTNAME, TLS_TIMEOUT, Environment, default_home
from destconfig.gcpause import keep

EXIT_USAGE = 2


def _hostname(value: str) -> str:
    if not value or not value.isprintable() or any(ch.isspace() for ch in value):
        raise argparse.ArgumentTypeError("a host name is one word of printable characters")
    return value


_VALUED = frozenset({"--home", "--hostname", "--ca-file", "--tls-timeout"})


def timeout_seconds(value: str) -> float:
    """An argparse type: tlsverify's time limit of each network step."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("a number of seconds above 0, 3600 at most")
    return seconds


def _setting(value: str) -> tuple[str, str]:
    name, equals, text = value.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError("NAME=VALUE")
    return name, text


def _names_a_command(argv: Sequence[str]) -> bool:
    """Whether *argv* asks for a command or for help (else: the shell, parsed without
    importing every command: a piped session's start-up time matters in loops)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        elif word in ("-h", "--help") or not word.startswith("-"):
            return True
    return False


class _Parser(argparse.ArgumentParser):
    """argparse, with what it prints escaped: its errors quote the arguments as typed."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        super()._print_message(escape_lines(message), file)


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="destconfig",
        description=(
            "A clone of the AsyncOS destconfig shell: edit the destination controls table "
            "at the ESA> prompt, from a terminal or from answers piped to standard input."
        ),
    )
    parser.add_argument("--version", action="version", version=f"destconfig {__version__}")
    parser.add_argument(
        "--home",
        type=Path,
        help="directory of the committed configuration (default: $DESTCONFIG_HOME, "
        "else the user's data directory)",
    )
    parser.add_argument(
        "--hostname",
        type=_hostname,
        default=DEFAULT_HOSTNAME,
        help="host name shown in the prompt and messages (default: %(default)s)",
    )
    parser.add_argument(
        "--no-echo",
        action="store_true",
        help="with piped input, do not echo the answers after the prompts",
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        help="tlsverify at the prompt: trust the authorities in this PEM file instead of "
        "the system's",
    )
    parser.add_argument(
        "--tls-timeout",
        type=timeout_seconds,
        default=TLS_TIMEOUT,
        metavar="SECONDS",
        help="tlsverify at the prompt: time limit of each network step, three times that for "
        "each host (default: %(default)s)",
    )
    if not with_commands:
        return parser
    commands = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        description="Without a command, the interactive shell starts. Each command has --help.",
    )
    # Options that may also follow the command (destconfig list --home DIR).
    common = _Parser(add_help=False)
    common.add_argument(
        "--home", type=Path, default=argparse.SUPPRESS, help="directory of the configuration"
    )
    replay = commands.add_parser(
        "replay",
        help="replay transcripts and report PASS or the first difference",
        description="Run each transcript's answers through the shell on a fresh temporary "
        "home with a fixed clock and compare the output byte for byte.",
    )
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE")
    replay.add_argument(
        "--set",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="replace ${NAME} in the transcripts by VALUE (values that change from run to "
        "run, such as the port of a local mail server)",
    )
    replay.add_argument(
        "--ca-file", type=Path, help="tlsverify in the transcripts trusts this PEM file"
    )
    from destconfig.commands import add_all

    # The commands' parsers are _Parser (argparse makes them of the parent's class).
    add_all(cast("argparse._SubParsersAction[argparse.ArgumentParser]", commands), common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        _silence_stdout()
        return 1


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(with_commands=_names_a_command(words)).parse_args(words)
    if not hasattr(args, "command"):
        args.command = None
    if args.command == "replay":
        from destconfig.replay import replay_files

        return replay_files(args.files, sys.stdout, values=dict(args.set), ca_file=args.ca_file)
    home = args.home or default_home()
    if args.command is None:
        return run_shell(
            home,
            args.hostname,
            echo=not args.no_echo,
            ca_file=args.ca_file,
            tls_timeout=args.tls_timeout,
        )
    return run_command(args, Environment.from_process(home, args.hostname, echo=False))


def run_command(args: argparse.Namespace, env: Environment) -> int:
    """A one-shot command; its errors go to standard error."""
    from destconfig.commands.context import CommandError, Context
    from destconfig.store import BusyError, LockError, StoreError

    ctx = Context.of(env)
    try:
        try:
            ctx.store.prepare()
        except OSError as error:
            raise CommandError(f"cannot use the home {env.home}: {error.strerror}", 2) from None
        except StoreError as error:
            raise CommandError(str(error), 2) from None
        status: int = args.run(args, ctx)
    except CommandError as error:
        ctx.error(error.message)
        status = error.status
    except (BusyError, LockError) as error:
        ctx.error(str(error))
        status = 1
    try:
        env.stdout.flush()
    except BrokenPipeError:
        # The reader went away (| head): what it wanted, it has; say nothing more.
        _silence_stdout()
        return status
    env.stderr.flush()
    return status


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so the interpreter's last flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run_shell(
    home: Path,
    hostname: str,
    *,
    echo: bool,
    ca_file: Path | None = None,
    tls_timeout: float = TLS_TIMEOUT,
) -> int:
    from destconfig.shell.host import Shell
    from destconfig.store import Store, StoreError

    env = Environment.from_process(home, hostname, echo, ca_file=ca_file, tls_timeout=tls_timeout)
    if ca_file is not None:
        from destconfig.tlsverify.probe import check_ca_file

        problem = check_ca_file(ca_file)
        if problem is not None:
            program_error(env.stderr, f"--ca-file {problem}")
            return EXIT_USAGE
    store = Store(home)
    try:
        store.prepare()
        committed = store.load_committed()
        keep()  # the committed table lives as long as the session
    except StoreError as error:
        program_error(env.stderr, str(error))
        return EXIT_USAGE
    except OSError as error:
        program_error(env.stderr, f"cannot use the home {home}: {error.strerror}")
        return EXIT_USAGE
    try:
        return Shell(env, store=store, committed=committed).run()
    finally:
        env.stdout.flush()
