"""Command line: argv -> the shell, replay or a one-shot command, in an Environment.

``main(argv, env)`` is the whole program; everything it reads and writes goes
through *env* (by default the process's streams), so tests run it in memory. The
exit statuses are :class:`~destconfig.exitstatus.ExitStatus`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from destconfig.store import Store

from destconfig import __version__, messages
from destconfig.console import TextSink, escape_lines, program_error
from destconfig.dialogue.release import NAMES as RELEASE_NAMES
from destconfig.env import Environment, default_home
from destconfig.exitstatus import ExitStatus
from destconfig.gcpause import keep
from destconfig.shell.options import DEFAULT_HOSTNAME, ShellOptions
from destconfig.tlsverify.options import TLS_TIMEOUT, check_ca_file, timeout_seconds


def _hostname(value: str) -> str:
    if not value or not value.isprintable() or any(ch.isspace() for ch in value):
        raise argparse.ArgumentTypeError("a host name is one word of printable characters")
    return value


_VALUED = frozenset({"--home", "--hostname", "--ca-file", "--tls-timeout", "--level", "--release"})


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
    """argparse, writing to the environment's streams instead of the process's, with
    what it prints escaped: its errors quote the arguments as typed.

    Help and the version go to *out*, usage errors to *err*; a usage error, help or
    the version still ends parsing with :class:`SystemExit` (:func:`main` returns its
    status).
    """

    def __init__(
        self, *args: Any, out: TextSink, err: TextSink, highlight: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._out = out
        self._err = err
        self._highlight = highlight  # usage errors' prefix in colour (stderr is a terminal)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse names the process's stderr only in error() and exit(), which pass
        # *err* here instead; all else it prints (help, the version) is for *out*.
        super()._print_message(escape_lines(message), self._err if file is self._err else self._out)

    def error(self, message: str) -> NoReturn:
        """A usage error: the problem on one line, then where the help is (not the usage
        block, which buries the problem under every option)."""
        command = self.prog.removeprefix("destconfig").strip()
        where = f"{command}: " if command else ""
        program_error(
            self._err,
            f"{where}{message}\ntry '{self.prog} --help' for more information",
            highlight=self._highlight,
        )
        raise SystemExit(ExitStatus.USAGE)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, self._err)
        raise SystemExit(status)


def build_parser(env: Environment, *, with_commands: bool = True) -> argparse.ArgumentParser:
    """The command line's parser, writing help and usage errors to *env*'s streams."""
    streams: dict[str, Any] = {"out": env.stdout, "err": env.stderr, "highlight": env.stderr_color}
    parser = _Parser(
        **streams,
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
        "--level",
        metavar="LEVEL",
        help="in a cluster home, for a command: the level to change or read (cluster, "
        "group:NAME, machine:NAME)",
    )
    parser.add_argument(
        "--release",
        choices=RELEASE_NAMES,
        help="the appliance release whose dialogue the shell speaks (default: the home's "
        "setting, which destconfig setup --release keeps; else seed)",
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
        # argparse makes each command's parser by calling this with its keywords.
        parser_class=cast("type[_Parser]", functools.partial(_Parser, **streams)),
    )
    # Options that may also follow the command (destconfig list --home DIR).
    common = _Parser(add_help=False, **streams)
    common.add_argument(
        "--home", type=Path, default=argparse.SUPPRESS, help="directory of the configuration"
    )
    common.add_argument(
        "--level",
        default=argparse.SUPPRESS,
        metavar="LEVEL",
        help="in a cluster home: the level to change or read (cluster, group:NAME, machine:NAME)",
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

    add_all(cast("argparse._SubParsersAction[argparse.ArgumentParser]", commands), common)
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the program on *argv* (default: the process's arguments) in *env* (default:
    the process's streams, :meth:`Environment.from_process`); the exit status."""
    if env is None:
        env = Environment.from_process()
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(words, env)
    except BrokenPipeError:
        _silence_stdout(env)
        return ExitStatus.FAILED
    except KeyboardInterrupt:  # the shell and `cluster apply` handle their own
        with contextlib.suppress(OSError):
            program_error(env.stderr, messages.INTERRUPTED)
            env.stderr.flush()
        return ExitStatus.INTERRUPTED


def _parse(parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace:
    """The parsed command line; words it does not know are the command's usage error
    (argparse would report them against the program's parser, pointing at its help)."""
    args, extras = parser.parse_known_args(words)
    if extras:
        command = getattr(args, "command", None)
        named = _command_parsers(parser).get(command, parser) if command else parser
        named.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _command_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return cast("dict[str, argparse.ArgumentParser]", action.choices)
    return {}


def _main(words: list[str], env: Environment) -> int:
    parser = build_parser(env, with_commands=_names_a_command(words))
    try:
        args = _parse(parser, words)
    except SystemExit as stop:  # help, the version or a usage error, written by now
        for stream in (env.stdout, env.stderr):
            with contextlib.suppress(OSError):  # as argparse ignores a stream it cannot write
                stream.flush()
        return stop.code if isinstance(stop.code, int) else ExitStatus.USAGE
    command = getattr(args, "command", None)
    if command == "replay":
        from destconfig.replay import replay_files

        status = replay_files(args.files, env.stdout, values=dict(args.set), ca_file=args.ca_file)
        env.stdout.flush()
        return status
    if command == "completion":
        from destconfig.commands.completion import script

        env.stdout.write(script(parser, args.shell))
        env.stdout.flush()
        return ExitStatus.OK
    home: Path = args.home or env.home or default_home()
    if command is None:
        options = ShellOptions(
            hostname=args.hostname,
            echo=not args.no_echo,
            ca_file=args.ca_file,
            tls_timeout=args.tls_timeout,
            release=args.release,
        )
        return run_shell(home, options, env)
    return run_command(args, env, home)


def run_command(args: argparse.Namespace, env: Environment, home: Path) -> int:
    """A one-shot command on *home*; its errors go to standard error."""
    from destconfig.commands.context import CommandError, Context
    from destconfig.store import BusyError, LockError, StoreError

    ctx = Context.of(env, home)
    level = getattr(args, "level", None)
    if level is not None:
        from destconfig.commands.levels import level_reader

        ctx.reader = level_reader(ctx, level)
    try:
        try:
            ctx.store.prepare()
        except OSError as error:
            raise CommandError(
                f"cannot use the home {home}: {error.strerror}", ExitStatus.USAGE
            ) from None
        except StoreError as error:
            raise CommandError(str(error), ExitStatus.USAGE) from None
        status: int = args.run(args, ctx)
    except CommandError as error:
        ctx.error(error.message)
        status = error.status
    except (BusyError, LockError) as error:
        ctx.error(str(error))
        status = ExitStatus.REFUSED
    try:
        env.stdout.flush()
    except BrokenPipeError:
        # The reader went away (| head): what it wanted, it has; say nothing more.
        _silence_stdout(env)
        return status
    env.stderr.flush()
    return status


def _silence_stdout(env: Environment) -> None:
    """Point standard output's file descriptor at /dev/null so the last flush cannot fail."""
    try:
        descriptor = env.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # in memory: no flush can fail
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def _home_release(store: Store, env: Environment) -> str | None:
    """The release the home keeps; a settings file that cannot be read is a warning, and
    the seed's dialogue is spoken (as a commit only warns that it cannot prune)."""
    from destconfig.store import StoreError

    try:
        return store.release()
    except StoreError as error:
        program_error(env.stderr, f"warning: {error}; the seed release's dialogue is spoken")
        return None


def run_shell(home: Path, options: ShellOptions, env: Environment) -> int:
    """The interactive shell on *home*, once the home and the CA file are found usable."""
    from destconfig.cluster.home import is_member
    from destconfig.shell import host
    from destconfig.shell.session import Session
    from destconfig.store import Store, StoreError

    if options.ca_file is not None:
        problem = check_ca_file(options.ca_file)
        if problem is not None:
            program_error(env.stderr, f"--ca-file {problem}")
            return ExitStatus.USAGE
    store = Store(home)
    try:
        store.prepare()
        committed = store.load_committed()
        if options.release is None:
            options = options._replace(release=_home_release(store, env))
        keep()  # the committed table lives as long as the session
    except StoreError as error:
        program_error(env.stderr, str(error))
        return ExitStatus.USAGE
    except OSError as error:
        program_error(env.stderr, f"cannot use the home {home}: {error.strerror}")
        return ExitStatus.USAGE
    session = None
    if is_member(home):  # a cluster's machine: the shell works on the cluster's levels
        from destconfig.shell.cluster import cluster_session

        session = cluster_session(env, options, store)
        if session is None:
            return ExitStatus.USAGE
    try:
        return host.run(session or Session(env, options, store=store, committed=committed))
    finally:
        env.stdout.flush()
