"""Benchmarks of destconfig: start-up, and each operation on tables of many entries.

Run by hand from the project's root::

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000,100000] [--repeat N]

It prints a plain-text report: the machine, start-up times beside bare Python and
``import pydantic``, which modules the piped path loads, for each table size the
median wall time and peak RSS of each operation, how time grows with 10x entries,
Postfix's ``postmap`` on a TLS policy of 100,000 lines as a reference for import,
and the targets met or missed. ``benchmarks/README.md`` says what each figure means.

Every operation is measured in a fresh process, so that each peak RSS is that
operation's own: the script runs itself again in a hidden mode (``--one KIND SIZE
WORK``) that does the operation's setup, times the operation alone and writes one
JSON line with the time and ``ru_maxrss``. Commands (``destconfig``, ``python``,
``postmap``) are timed from the outside and their peak RSS read with ``os.wait4``.
A child's ``ru_maxrss`` starts from its parent's peak, so this parent never holds a
table (tables are prepared by children too) and the report prints its peak: the floor.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from destconfig.model import Table

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # run with the project's venv: .venv/bin/python
DESTCONFIG = str(BIN / "destconfig")
PYTHON = sys.executable
EXAMPLES_TABLE = ROOT / "examples" / "destinations.toml"

DEFAULT_SIZES = (1_000, 10_000, 100_000)
LOOKUPS = 100_000  # recipients resolved per measurement
POSTMAP_LINES = 100_000
QUIT = b"quit\n"
LIST_SESSION = b"destconfig\nlist\n\nquit\n"  # the menu, LIST, back to ESA>, quit
WATCHED_MODULES = ("prompt_toolkit", "rich")
# Children run as on an ordinary installation, which has the bytecode of every module
# cached: some environments set PYTHONDONTWRITEBYTECODE, which would leave the editable
# install's modules to be compiled afresh at every start.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

# Operations measured in a fresh process of this script, in report order.
KINDS = ("generate", "load", "commit", "import", "export", "list", "detail", "resolve")
LABELS = {
    "start": "start-up: piped quit",
    "generate": "(generate: setup, reference)",
    "load": "Store.load (config.toml)",
    "commit": "Store.commit",
    "import": "esa import (esa.loads)",
    "export": "esa export (esa.dumps)",
    "list": "LIST (render_list)",
    "detail": "DETAIL ALL (render_all)",
    "resolve": f"resolve ({LOOKUPS:,} lookups)",
}
SCALED = ("start", "load", "commit", "import", "export", "list", "detail", "resolve")

KIB_PER_MIB = 1024


# Measurements from the outside: a command, its wall time and peak RSS.


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_kib: int  # ru_maxrss, KiB on Linux


class CommandFailed(RuntimeError):
    pass


def run_command(argv: Sequence[str], stdin: bytes = b"") -> Sample:
    """Run *argv* with *stdin* piped from a file and output discarded; time it."""
    with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as errors:
        given.write(stdin)
        given.seek(0)
        start = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=given, stdout=subprocess.DEVNULL, stderr=errors, env=CHILD_ENV
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise CommandFailed(f"{' '.join(argv)} exited {process.returncode}: {message}")
    return Sample(elapsed, usage.ru_maxrss)


def run_one(kind: str, size: int, work: Path) -> dict[str, float]:
    """One operation in a fresh process of this script (the hidden ``--one`` mode)."""
    argv = [PYTHON, str(Path(__file__).resolve()), "--one", kind, str(size), str(work)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=CHILD_ENV)
    if done.returncode != 0:
        raise CommandFailed(f"--one {kind} {size} exited {done.returncode}:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def progress(text: str) -> None:
    sys.stderr.write(f"  ... {text}\n")
    sys.stderr.flush()


# The hidden mode: one operation, its own setup, one JSON line.


def one(kind: str, size: int, work: Path) -> dict[str, float]:
    """Set up, time *kind* alone, and report its time and this process's peak RSS."""
    from tables import generate

    from destconfig.formats import esa
    from destconfig.gcpause import keep
    from destconfig.model import Table
    from destconfig.render.detail import render_all
    from destconfig.render.listing import render_list
    from destconfig.resolve import Match, resolve
    from destconfig.store import Store

    if kind in ("prepare", "prepare+check"):
        prepare_table(size, work, check_tables=kind == "prepare+check")
        return {}
    if kind == "policy":
        write_policy(size, work)
        return {}
    directory = work / str(size)
    home = directory / f"commit-{os.getpid()}"

    def session_table() -> Table:
        """The table as a session holds it: read from the committed config.toml, kept."""
        table = Store(directory / "home").load()
        keep()  # as the shell does with its committed table
        return table

    operation: Callable[[], object]
    if kind == "generate":
        operation = partial(generate, size)
    elif kind == "load":
        operation = Store(directory / "home").load
    elif kind == "import":
        operation = partial(esa.loads, (directory / "table.cfg").read_bytes())
    elif kind == "export":
        operation = partial(esa.dumps, session_table())
    elif kind == "list":
        operation = partial(render_list, session_table())
    elif kind == "detail":
        operation = partial(render_all, session_table())
    elif kind == "commit":
        table, store, when = session_table(), Store(home), datetime.now(UTC)
        store.load()
        # The first commit writes config.toml; the timed one replaces it as a session
        # does: check the file is still the one loaded, keep it for rollback, write anew.
        store.commit(table, comment="benchmark", when=when, keep_rollback=True)
        operation = partial(store.commit, table, comment="benchmark", when=when, keep_rollback=True)
    elif kind == "resolve":
        table = session_table()
        recipients = recipient_mix(table, LOOKUPS)

        def operation() -> object:
            return [resolve(table, recipient) for recipient in recipients]
    else:
        raise SystemExit(f"unknown kind {kind!r}")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = operation()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    measured: dict[str, float] = {"seconds": seconds, "rss_kib": peak, "rss_before_kib": before}
    if isinstance(result, Table) and len(result.entries) != size:
        raise SystemExit(f"{kind}: {len(result.entries)} entries, expected {size}")
    if kind == "resolve":
        assert isinstance(result, list)
        matches = Counter(resolution.match for resolution in result)
        for match in Match:
            measured[f"share_{match.value}"] = matches[match] / len(result)
        measured["lookups"] = len(result)
    if kind == "commit":
        shutil.rmtree(home)
    return measured


def recipient_mix(table: Table, count: int, seed: int = 7) -> list[str]:
    """Recipients as mail brings them: addresses at entries, under patterns, IP literals
    (at entries and not), and domains no entry names (some under an exact entry)."""
    rng = random.Random(seed)
    exact = [key for key in table.entries if key[0] not in ".["]
    patterns = [key for key in table.entries if key.startswith(".")]
    ipv4 = [key for key in table.entries if key.startswith("[") and ":" not in key]
    ipv6 = [key for key in table.entries if key.startswith("[") and ":" in key]
    users = ("alice", "bob", "j.smith", "Info", "noreply", "billing", "x.y+tag")
    hosts = ("mx1", "mail", "smtp.eu", "Inbound", "a.b.c")
    recipients: list[str] = []
    for n in range(count):
        user = rng.choice(users)
        kind = rng.random()
        if kind < 0.40:
            domain = rng.choice(exact)
            recipients.append(f"{user}@{domain.upper() if n % 10 == 0 else domain}")
        elif kind < 0.70:
            recipients.append(f"{user}@{rng.choice(hosts)}{rng.choice(patterns)}")
        elif kind < 0.78:
            recipients.append(f"{user}@{rng.choice(ipv4)}")
        elif kind < 0.80:
            recipients.append(f"{user}@[IPv6:{rng.choice(ipv6)[1:]}")
        elif kind < 0.85:
            recipients.append(f"{user}@[203.0.113.{n % 256}]")
        elif kind < 0.90:
            recipients.append(f"{user}@relay.{rng.choice(exact)}")  # under an exact entry only
        else:
            recipients.append(f"{user}@shop{n}.unknown-retailer.com")
    return recipients


# Preparation: homes and files the measurements read.


def prepare_table(size: int, work: Path, check_tables: bool) -> None:
    """Commit a generated table to ``WORK/SIZE/home`` and export it to ``table.cfg``.

    Run in a child process (``--one prepare SIZE WORK``), like everything that holds a
    table: a child's ``ru_maxrss`` starts from its parent's, so the parent stays small.
    """
    from tables import check, generate

    from destconfig.formats import esa
    from destconfig.store import Store

    table = generate(size)
    if check_tables:
        check(table)
    directory = work / str(size)
    directory.mkdir()
    store = Store(directory / "home")
    store.load()
    store.commit(table, comment="benchmark", when=datetime.now(UTC), keep_rollback=False)
    (directory / "table.cfg").write_bytes(esa.dumps(table))


def write_policy(size: int, work: Path) -> None:
    """A Postfix TLS policy, ``destination encrypt|verify|may``, for a generated table."""
    from tables import generate

    from destconfig.model import Tls

    policy: dict[Tls | None, str] = {
        Tls.REQUIRED: "encrypt",
        Tls.REQUIRED_VERIFY: "verify",
        Tls.REQUIRED_VERIFY_HOSTED: "verify",
    }
    entries = generate(size).entries
    lines = (f"{key} {policy.get(entry.tls, 'may')}\n" for key, entry in entries.items())
    directory = work / "postmap"
    directory.mkdir()
    (directory / "tls_policy").write_text("".join(lines))


def prepare(work: Path, sizes: Sequence[int], check_tables: bool) -> None:
    (work / "empty-home").mkdir()
    examples = work / "examples-home"
    run_command([DESTCONFIG, "--home", str(examples), "import", str(EXAMPLES_TABLE)])
    for size in sizes:
        progress(f"preparing a table of {size:,} entries")
        run_one("prepare+check" if check_tables else "prepare", size, work)


# Start-up.


@dataclass(frozen=True)
class Timed:
    label: str
    argv: list[str]
    stdin: bytes = b""


def startup_commands(work: Path) -> list[Timed]:
    empty, examples = str(work / "empty-home"), str(work / "examples-home")
    return [
        Timed("python -c pass", [PYTHON, "-c", "pass"]),
        Timed('python -c "import pydantic"', [PYTHON, "-c", "import pydantic"]),
        Timed("piped quit (empty home)", [DESTCONFIG, "--home", empty], QUIT),
        Timed("piped LIST (examples table)", [DESTCONFIG, "--home", examples], LIST_SESSION),
        Timed("destconfig list (one-shot, examples)", [DESTCONFIG, "--home", examples, "list"]),
    ]


def measure_startup(work: Path, rounds: int) -> dict[str, list[Sample]]:
    commands = startup_commands(work)
    for command in commands:  # warm the page cache and the bytecode caches
        run_command(command.argv, command.stdin)
    samples: dict[str, list[Sample]] = {command.label: [] for command in commands}
    for _ in range(rounds):  # interleaved, so that drift touches every command alike
        for command in commands:
            samples[command.label].append(run_command(command.argv, command.stdin))
    return samples


@dataclass(frozen=True)
class ImportReport:
    label: str
    modules: int
    watched: dict[str, bool]
    slowest: list[tuple[str, int]]  # top-level imports and their cumulative microseconds


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def import_report(label: str, home: Path, stdin: bytes) -> ImportReport:
    argv = [PYTHON, "-X", "importtime", "-m", "destconfig", "--home", str(home)]
    done = subprocess.run(argv, input=stdin, capture_output=True, check=True, env=CHILD_ENV)
    names: list[str] = []
    top: list[tuple[str, int]] = []
    for line in done.stderr.decode().splitlines():
        found = _IMPORT_LINE.match(line)
        if found is None:
            continue
        names.append(found.group(4))
        if len(found.group(3)) == 1:
            top.append((found.group(4), int(found.group(2))))
    watched = {
        module: any(name == module or name.startswith(module + ".") for name in names)
        for module in WATCHED_MODULES
    }
    top.sort(key=lambda item: -item[1])
    return ImportReport(label, len(names), watched, top[:6])


# postmap: the reference for import.


def postmap_reference(work: Path, rounds: int) -> Sample | str:
    found = shutil.which("postmap") or shutil.which("postmap", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        return "postmap not installed"
    run_one("policy", POSTMAP_LINES, work)
    source = work / "postmap" / "tls_policy"
    database = source.with_name("tls_policy.db")
    samples: list[Sample] = []
    for _ in range(rounds + 1):
        database.unlink(missing_ok=True)
        samples.append(run_command([found, f"hash:{source}"]))
    return Sample(
        statistics.median(s.seconds for s in samples[1:]),
        int(statistics.median(s.rss_kib for s in samples[1:])),
    )


# The report.


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Rows under headers in fixed-width columns; columns in *right* align right."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)]) + "\n"


def mib(kib: float) -> str:
    return f"{kib / KIB_PER_MIB:.0f}"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return (
        f"Machine: {model}, {cores} cores ({usable} usable)\n"
        f"Python:  {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}\n"
        f"Date:    {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}\n"
    )


@dataclass
class Results:
    startup: dict[str, list[Sample]]
    imports: list[ImportReport]
    sizes: dict[int, dict[str, list[dict[str, float]]]]
    postmap: Sample | str
    parent_rss_kib: int  # every child's ru_maxrss starts from this (see run_command)


def median_of(runs: list[dict[str, float]], field: str) -> float:
    return statistics.median(run[field] for run in runs)


def report(results: Results, repeat: int, rounds: int) -> str:
    out: list[str] = [machine(), "\n"]

    out.append(f"Start-up (median of {rounds} runs, wall time)\n\n")
    pydantic = statistics.median(s.seconds for s in results.startup['python -c "import pydantic"'])
    bare = statistics.median(s.seconds for s in results.startup["python -c pass"])
    rows = []
    for label, samples in results.startup.items():
        median = statistics.median(s.seconds for s in samples)
        rss = statistics.median(s.rss_kib for s in samples)
        rows.append(
            [
                label,
                f"{median * 1000:.0f}",
                f"{median / pydantic:.2f}",
                f"{median / bare:.2f}",
                mib(rss),
            ]
        )
    headers = ["command", "ms", "x pydantic", "x python", "peak RSS MiB"]
    out.append(columns(headers, rows, {1, 2, 3, 4}))
    out.append("\nModules loaded (python -X importtime -m destconfig, answers piped)\n\n")
    rows = [
        [
            report_.label,
            str(report_.modules),
            *("yes" if report_.watched[m] else "no" for m in WATCHED_MODULES),
            ", ".join(f"{name} {us / 1000:.0f}" for name, us in report_.slowest[:4]),
        ]
        for report_ in results.imports
    ]
    headers = ["session", "modules", *WATCHED_MODULES, "slowest top-level imports (ms)"]
    out.append(columns(headers, rows, {1}))

    out.append(f"\nOperations (median of {repeat} runs, each in a fresh process)\n\n")
    rows = []
    for size, kinds in results.sizes.items():
        for kind in ("start", *KINDS):
            if kind not in kinds:
                continue
            runs = kinds[kind]
            seconds = median_of(runs, "seconds")
            note = ""
            if kind == "resolve":
                note = f"{median_of(runs, 'lookups') / seconds:,.0f} lookups/s"
            rows.append(
                [
                    f"{size:,}",
                    LABELS[kind],
                    seconds_text(seconds),
                    f"{seconds / size * 1e6:.1f}" if kind not in ("start", "resolve") else "",
                    mib(median_of(runs, "rss_kib")),
                    mib(median_of(runs, "rss_before_kib")) if "rss_before_kib" in runs[0] else "",
                    note,
                ]
            )
    headers = ["entries", "operation", "seconds", "us/entry", "peak RSS MiB", "before op", "rate"]
    out.append(columns(headers, rows, {0, 2, 3, 4, 5}))
    out.append(
        f"(peak RSS is ru_maxrss; a child's starts from its parent's, "
        f"{mib(results.parent_rss_kib)} MiB here)\n"
    )
    for size, kinds in results.sizes.items():
        if "resolve" in kinds:
            runs = kinds["resolve"]
            shares = ", ".join(
                f"{name} {median_of(runs, f'share_{name}') * 100:.0f}%"
                for name in ("exact", "pattern", "default")
            )
            out.append(f"resolve mix at {size:,} entries: {shares}\n")

    sizes = sorted(results.sizes)
    steps = [(small, big) for small, big in itertools.pairwise(sizes)]
    if steps:
        out.append("\nGrowth of time with entries (ratio of medians)\n\n")
        rows = []
        for kind in SCALED:
            cells = [LABELS[kind]]
            for small, big in steps:
                low, high = results.sizes[small].get(kind), results.sizes[big].get(kind)
                if kind == "resolve" or low is None or high is None:
                    cells.append("")  # lookups are a fixed number, not per entry
                    continue
                ratio = median_of(high, "seconds") / median_of(low, "seconds")
                cells.append(f"{ratio:.1f}x for {big // small}x")
            rows.append(cells)
        headers = ["operation", *(f"{small:,} -> {big:,}" for small, big in steps)]
        out.append(columns(headers, rows, set(range(1, len(headers)))))
        out.append("(resolve: a fixed number of lookups; its rates above show its growth)\n")

    out.append(f"\npostmap (hash: table of a {POSTMAP_LINES:,}-line TLS policy, median)\n\n")
    if isinstance(results.postmap, str):
        out.append(results.postmap + "\n")
    else:
        reference = results.postmap
        line = f"postmap: {reference.seconds:.3f} s, peak RSS {mib(reference.rss_kib)} MiB"
        imported = results.sizes.get(POSTMAP_LINES, {}).get("import")
        if imported:
            ratio = median_of(imported, "seconds") / results.postmap.seconds
            line += f"; esa import of {POSTMAP_LINES:,} entries takes {ratio:.1f}x as long"
        out.append(line + "\n")

    out.append("\n" + targets(results, pydantic))
    return "".join(out)


def targets(results: Results, pydantic: float) -> str:
    """The performance targets: each measured value, the target, met or by how much missed."""
    rows: list[list[str]] = []

    def at_most(name: str, value: float, limit: float, unit: str) -> None:
        status = "met" if value <= limit else f"MISSED {value / limit:.1f}x"
        rows.append([name, f"{value:,.2f} {unit}", f"<= {limit:,} {unit}", status])

    quit_ = statistics.median(s.seconds for s in results.startup["piped quit (empty home)"])
    at_most("piped quit / import pydantic", quit_ / pydantic, 1.5, "x")
    for report_ in results.imports:
        loaded = [m for m in WATCHED_MODULES if report_.watched[m]]
        rows.append(
            [
                f"{report_.label}: modules",
                ", ".join(loaded) or "neither",
                "neither prompt_toolkit nor rich",
                "MISSED" if loaded else "met",
            ]
        )
    big = results.sizes.get(100_000)
    if big:
        limits = {"start": 1.5, "import": 1.5, "export": 1.0, "list": 1.0, "commit": 1.0}
        for kind, limit in limits.items():
            if kind in big:
                at_most(f"{LABELS[kind]}, 100,000", median_of(big[kind], "seconds"), limit, "s")
        if "resolve" in big:
            rate = median_of(big["resolve"], "lookups") / median_of(big["resolve"], "seconds")
            status = "met" if rate >= 200_000 else f"MISSED {200_000 / rate:.1f}x"
            rows.append(["resolve, 100,000", f"{rate:,.0f} /s", ">= 200,000 /s", status])
        worst = max(median_of(runs, "rss_kib") for runs in big.values())
        worst_kind = max(big, key=lambda kind: median_of(big[kind], "rss_kib"))
        at_most(f"peak RSS, 100,000 (worst: {worst_kind})", worst / KIB_PER_MIB, 300, "MiB")
    sizes = sorted(results.sizes)
    for small, large in itertools.pairwise(sizes):
        for kind in SCALED:
            if kind == "resolve" or kind not in results.sizes[small]:
                continue
            factor = large / small
            ratio = median_of(results.sizes[large][kind], "seconds") / median_of(
                results.sizes[small][kind], "seconds"
            )
            if ratio > factor * 1.2:  # "at most ~10x": a fifth more is still about 10x
                rows.append(
                    [
                        f"growth {small:,} -> {large:,}: {LABELS[kind]}",
                        f"{ratio:.1f}x",
                        f"<= ~{factor:.0f}x",
                        f"MISSED {ratio / factor:.1f}x",
                    ]
                )
    headers = ["target", "measured", "target value", "status"]
    note = "(growth rows are listed only where time grows more than ~1.2x the entries)\n"
    return "Targets\n\n" + columns(headers, rows, set()) + note


# Command line.


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="table sizes, comma separated (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each operation (default: %(default)s)"
    )
    parser.add_argument(
        "--startup-repeat",
        type=int,
        default=15,
        help="runs of each start-up command, interleaved (default: %(default)s)",
    )
    parser.add_argument(
        "--check-tables",
        action="store_true",
        help="validate each generated table through the model before measuring",
    )
    parser.add_argument("--one", nargs=3, metavar=("KIND", "SIZE", "WORK"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        kind, size, work = args.one
        sys.stdout.write(json.dumps(one(kind, int(size), Path(work))) + "\n")
        return 0
    sizes = sorted({int(size.replace("_", "")) for size in args.sizes.split(",") if size})
    repeat = max(1, args.repeat)
    rounds = max(1, args.startup_repeat)
    with tempfile.TemporaryDirectory(prefix="destconfig-bench-") as name:
        work = Path(name)
        prepare(work, sizes, args.check_tables)
        progress("start-up")
        startup = measure_startup(work, rounds)
        imports = [
            import_report("piped quit", work / "empty-home", QUIT),
            import_report("piped LIST", work / "examples-home", LIST_SESSION),
        ]
        measured: dict[int, dict[str, list[dict[str, float]]]] = {
            size: {kind: [] for kind in ("start", *KINDS)} for size in sizes
        }
        for size in sizes:
            run_command([DESTCONFIG, "--home", str(work / str(size) / "home")], QUIT)  # warm-up
        # Round by round, every operation once a round: a slow spell of the machine
        # touches every operation alike instead of all the runs of one.
        for round_number in range(1, repeat + 1):
            for size in sizes:
                home = str(work / str(size) / "home")
                for kind in ("start", *KINDS):
                    progress(f"round {round_number}/{repeat}: {size:,} entries: {kind}")
                    if kind == "start":
                        sample = run_command([DESTCONFIG, "--home", home], QUIT)
                        run = {"seconds": sample.seconds, "rss_kib": sample.rss_kib}
                    else:
                        run = run_one(kind, size, work)
                    measured[size][kind].append(run)
        progress("postmap")
        postmap = postmap_reference(work, repeat)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = Results(startup, imports, measured, postmap, parent)
    sys.stdout.write(report(results, repeat, rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
