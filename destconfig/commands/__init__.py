"""One-shot commands: the shell's operations, non-interactively, for scripts.

Each module adds its subcommands to the parser and gives each a ``run(args,
ctx) -> int``. They use the same model, store, formats and renderers as the
shell; only where answers come from differs (options instead of questions).
"""

from __future__ import annotations

import argparse

from destconfig.commands import (
    audit,
    changes,
    cluster,
    completion,
    diff,
    files,
    resolve,
    rollback,
    show,
    tlsverify,
)

MODULES = (
    show,
    changes,
    files,
    rollback,
    diff,
    resolve,
    tlsverify,
    audit,
    cluster,
    completion,
)  # --help order


def add_all(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    for module in MODULES:
        module.add(commands, common)
