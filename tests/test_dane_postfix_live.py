"""A DANE export on a real Postfix: it installs without a warning, with the DANE policies
and the DNSSEC support level it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postfix import running
from tests.test_postfix_live import checked_clean, export
from tests.tlsservers import Pki

pytestmark = pytest.mark.slow


def test_a_dane_export_installs_without_a_warning(tmp_path: Path, pki: Pki) -> None:
    home = tmp_path / "home"
    changes = [
        ("default", "--tls", "preferred", "--dane", "opportunistic"),
        ("new", "only.test", "--dane", "mandatory"),
        ("new", "plain.test", "--tls", "no", "--dane", "no"),
    ]
    target = export(home, changes, tmp_path / "postfix")
    with running(pki.ca_file) as mta:
        mta.install(target)
        checked_clean(mta)
        levels = ("smtp_dns_support_level", "smtp_tls_security_level")
        found = mta.run("postconf", "-c", str(mta.conf), "-h", *levels)
        assert found.out == "dnssec\ndane\n"
    policy = (target / "tls_policy").read_text(encoding="utf-8")
    assert "\nonly.test dane-only\n" in policy
    assert "\nplain.test none\n" in policy
