"""The example tables agree with each other and the example script runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from destconfig.formats import esa
from destconfig.formats import json as json_format
from destconfig.formats import toml as toml_format

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_every_example_holds_the_same_table() -> None:
    canonical = esa.loads((EXAMPLES / "destinations.cfg").read_bytes())
    assert len(canonical.entries) >= 30
    annotated = esa.loads((EXAMPLES / "destinations-annotated.cfg").read_bytes())
    from_toml = toml_format.loads((EXAMPLES / "destinations.toml").read_bytes())
    from_json = json_format.loads((EXAMPLES / "destinations.json").read_bytes())
    assert annotated == canonical
    assert from_toml == from_json
    assert from_toml.entries == canonical.entries
    assert from_toml.default == canonical.default
    assert from_toml.bounce_profiles == canonical.bounce_profiles


def test_examples_are_in_export_form() -> None:
    for name, fmt in (("cfg", esa), ("toml", toml_format), ("json", json_format)):
        data = (EXAMPLES / f"destinations.{name}").read_bytes()
        assert fmt.dumps(fmt.loads(data)) == data, name


def test_json_example_matches_the_schema() -> None:
    document = json.loads((EXAMPLES / "destinations.json").read_bytes())
    jsonschema.validate(document, json_format.schema())


def test_import_and_list_script(tmp_path: Path) -> None:
    wrapper = tmp_path / "destconfig"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m destconfig "$@"\n')
    wrapper.chmod(0o755)
    result = subprocess.run(
        ["sh", str(EXAMPLES / "import-and-list.sh")],
        capture_output=True,
        env={**os.environ, "DESTCONFIG": str(wrapper)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "\n[]> destinations.cfg\n\nThere are currently 31 entries configured.\n" in out
    assert "\nyahoo.com              On       On      Default      bulk       Default\n" in out
    assert out.endswith("Exit without committing them? [N]> Y\n")
