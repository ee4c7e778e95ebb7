"""``destconfig audit`` on one machine: a table of five domains and a pattern, the servers they
reach, all on loopback (a DNS server with a signed zone, an HTTPS server of MTA-STS
policies, three SMTP servers), then the audit itself.

    .venv/bin/python examples/audit-demo.py [AUDIT OPTIONS...]
    .venv/bin/python examples/audit-demo.py --serve

The first form commits the table to a temporary home, runs ``destconfig audit`` on it
with the options that point it at the servers (and any given, e.g. ``--format json``),
shows the command and its output, and exits with its status. ``--serve`` keeps the
servers and the home until Ctrl-C, and shows the command to run from another terminal.
Needs the test extras (``pip install -e '.[test]'``: aiosmtpd, trustme).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from destconfig.model import Entry, Tls  # noqa: E402
from destconfig.store import Store  # noqa: E402
from tests.audit_servers import demo  # noqa: E402
from tests.tlsservers import quiet_aiosmtpd  # noqa: E402


def main(argv: list[str]) -> int:
    serve = argv == ["--serve"]
    with tempfile.TemporaryDirectory() as work, quiet_aiosmtpd(), demo(Path(work), 5) as world:
        home = Path(work) / "home"
        store = Store(home)
        store.prepare()
        # and a pattern, which no probe can reach
        table = world.table.with_entry(".demo.test", Entry(tls=Tls.REQUIRED))
        store.commit(table, comment="", when=datetime.now(UTC), keep_rollback=False)
        command = ["destconfig", "--home", str(home), "audit", *world.options]
        if not serve:
            command += argv
        sys.stdout.write("$ " + shlex.join(command) + "\n")
        sys.stdout.flush()
        if serve:
            sys.stdout.write("(serving until Ctrl-C)\n")
            sys.stdout.flush()
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        done = subprocess.run([sys.executable, "-m", "destconfig", *command[1:]], check=False)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
