"""``destconfig audit`` at scale: a table of generated destinations audited against
servers on loopback (DNS with a signed zone, HTTPS policy servers, SMTP servers with
and without STARTTLS), as a process of its own.

    .venv/bin/python benchmarks/audit.py [--entries 1000] [--jobs 8,32] [--repeat 1]

The destinations take the five kinds of ``tests/audit_servers.demo`` in turn
(verified with an enforce policy, no STARTTLS, weaker than an enforce policy, DANE
in a signed zone, a testing policy), so each audit does every step: the MX lookup,
the SMTP probe with STARTTLS and the handshake, the ``_mta-sts`` TXT lookup and the
policy fetch over HTTPS where there is one, and the TLSA lookup. The report (the
seconds, the destinations a second, the findings) goes to standard output; medians
when repeated. Needs the test extras (aiosmtpd, trustme).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from destconfig.store import Store  # noqa: E402
from tests.audit_servers import demo  # noqa: E402
from tests.tlsservers import quiet_aiosmtpd  # noqa: E402

DESTCONFIG = [sys.executable, "-m", "destconfig"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--jobs", default="8,32")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work, quiet_aiosmtpd():
        base = Path(work)
        with demo(base, args.entries) as world:
            home = base / "home"
            store = Store(home)
            store.prepare()
            store.commit(world.table, comment="", when=datetime.now(UTC), keep_rollback=False)
            for jobs in [int(each) for each in args.jobs.split(",")]:
                argv = [*DESTCONFIG, "--home", str(home), "audit", "--format", "json"]
                argv += ["--jobs", str(jobs), *world.options]
                times, summary = [], {}
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    done = subprocess.run(argv, capture_output=True, check=False)
                    times.append(time.perf_counter() - started)
                    if done.returncode not in (0, 1):
                        raise SystemExit(f"audit exited {done.returncode}: {done.stderr.decode()}")
                    summary = json.loads(done.stdout)["summary"]
                seconds = statistics.median(times)
                rows.append((jobs, seconds, summary))
    out = sys.stdout
    out.write(f"{args.entries:,} destinations, medians of {args.repeat}\n")
    out.write(f"{'jobs':>5}  {'seconds':>8}  {'per second':>10}  findings\n")
    for jobs, seconds, summary in rows:
        findings = ", ".join(f"{count} {name}" for name, count in summary.items())
        out.write(f"{jobs:>5}  {seconds:>8.2f}  {args.entries / seconds:>10.0f}  {findings}\n")


if __name__ == "__main__":
    main()
