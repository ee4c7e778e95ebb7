"""Fixtures: the tlsverify tests' network and authority, a git daemon, and the collector's state."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from destconfig.tlsverify import probe
from tests.gitdaemon import Daemon, git_daemon
from tests.tlsservers import Pki, quiet_aiosmtpd


class _NoDns:
    """Stands in for the real network: reaching it means a test left loopback."""

    def __init__(self) -> None:
        raise AssertionError("a tlsverify test reached for the system's DNS")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real DNS, and no aiosmtpd tracebacks for the handshakes the probe aborts."""
    monkeypatch.setattr(probe, "SystemNetwork", _NoDns)
    with quiet_aiosmtpd():
        yield


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway certificate authority, one per test module."""
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _collector_walks_everything() -> Iterator[None]:
    """What a test's process kept (``gcpause.keep``) is walked again by the next tests."""
    yield
    gc.unfreeze()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A git daemon on 127.0.0.1 serving bare repositories under the test's directory."""
    with git_daemon(tmp_path / "served") as served:
        yield served
