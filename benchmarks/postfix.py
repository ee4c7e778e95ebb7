"""The Postfix export at scale: how long ``destconfig export DIR --format postfix`` takes
for a generated table, and how long Postfix's own ``postmap`` takes to build its maps
from the files written.

    .venv/bin/python benchmarks/postfix.py [--sizes 1000,100000] [--repeat 3]

Each export runs as its own process on a home holding the committed table (so the time
includes starting, loading config.toml and writing the four files), after one warm-up
run. ``postmap`` is the one on PATH, else the one the test suite unpacks from Debian's
package (``~/.cache/destconfig-tests/postfix``); without either, its figures are left
out. Figures are medians; the report goes to standard output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tables import generate  # noqa: E402

from destconfig.formats import esa, postfix  # noqa: E402
from destconfig.model import Table  # noqa: E402
from destconfig.store import Store  # noqa: E402

DESTCONFIG = [sys.executable, "-m", "destconfig"]
UNPACKED = (
    Path(os.environ.get("DESTCONFIG_TEST_CACHE", Path.home() / ".cache" / "destconfig-tests"))
    / "postfix"
)


def timed(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return seconds


def postmap() -> tuple[list[str], dict[str, str]] | None:
    """The postmap command and its environment, or None."""
    found = shutil.which("postmap") or shutil.which("postmap", path="/usr/sbin")
    if found is not None:
        return [found], dict(os.environ)
    program = UNPACKED / "usr" / "sbin" / "postmap"
    if not program.exists():
        return None
    library = UNPACKED / "usr" / "lib" / "postfix"
    return [str(program)], {**os.environ, "LD_LIBRARY_PATH": str(library)}


def with_examples_settings(size: int) -> Table:
    """The generated table's destinations with the settings of the examples' 31 entries,
    in turn: a table whose entries repeat a few sets of values, as real tables do."""
    examples = esa.loads((HERE.parent / "examples" / "destinations.cfg").read_bytes())
    values = list(examples.entries.values())
    generated = generate(size)
    entries = {key: values[n % len(values)] for n, key in enumerate(generated.entries)}
    return Table.model_construct(
        bounce_profiles=examples.bounce_profiles, default=examples.default, entries=entries
    )


def distinct(table: Table) -> int:
    """How many distinct sets of values the table's entries have."""
    return len({tuple(entry.__dict__.values()) for entry in table.entries.values()})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    mapper = postmap()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for size, mix in [(size, mix) for size in sizes for mix in ("generated", "examples")]:
            home = work / f"home-{size}-{mix}"
            table = generate(size) if mix == "generated" else with_examples_settings(size)
            Store(home).commit(table, comment="benchmark", when=_now(), keep_rollback=False)
            target = work / f"postfix-{size}-{mix}"
            command = [*DESTCONFIG, "--home", str(home), "export", str(target)]
            command += ["--format", "postfix"]
            timed(command)  # warm-up (and the files postmap reads)
            exports = [timed(command) for _ in range(args.repeat)]
            start = time.perf_counter()
            rendered = postfix.render(table, str(target))
            render = time.perf_counter() - start
            lines = {name: data.count(b"\n") for name, data in rendered.files.items()}
            maps = "-"
            if mapper is not None:
                program, env = mapper
                main_cf = work / f"conf-{size}-{mix}"
                main_cf.mkdir()
                (main_cf / "main.cf").write_text(
                    "compatibility_level = 3.6\nmail_owner = mail\nsetgid_group = users\n"
                )
                env = {**env, "MAIL_CONFIG": str(main_cf)}
                maps_seconds = [
                    timed([*program, f"hash:{target}/tls_policy", f"hash:{target}/transport"], env)
                    for _ in range(args.repeat)
                ]
                maps = f"{statistics.median(maps_seconds):.2f} s"
            rows.append(
                (
                    f"{size:,}",
                    mix,
                    f"{distinct(table):,}",
                    f"{statistics.median(exports):.2f} s",
                    f"{render:.2f} s",
                    maps,
                    f"{lines['tls_policy']:,} / {lines['transport']:,} / {lines['master.cf']:,}",
                    f"{len(rendered.losses):,}",
                )
            )
    headers = (
        "entries",
        "settings",
        "distinct",
        "export (process)",
        "render alone",
        "postmap both maps",
        "lines: policy / transport / master.cf",
        "losses",
    )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    sys.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "\n")
    for row in rows:
        sys.stdout.write("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + "\n")
    if mapper is None:
        sys.stdout.write("postmap: not installed, and not unpacked by the test suite\n")
    return 0


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


if __name__ == "__main__":
    raise SystemExit(main())
