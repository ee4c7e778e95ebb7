"""The TOML and JSON forms: exact bytes, errors with lines, and the shipped JSON Schema."""

from __future__ import annotations

import json as std_json
from importlib import resources

import jsonschema
import pytest

from destconfig.formats import for_name, formats
from destconfig.formats import json as json_format
from destconfig.formats import toml as toml_format
from destconfig.formats.problems import FormatError, Problem
from destconfig.model import Entry, Settings, Table, Tls
from destconfig.operations import imported

TABLE = Table(bounce_profiles=("bulk",)).with_entry(
    "example.com", Entry(tls=Tls.REQUIRED, bounce_profile="bulk")
)

TOML_BYTES = b"""certificates = [
    "Demo",
]
bounce_profiles = [
    "bulk",
]

[settings]
certificate = "Demo"
tls_alert = false

[default]
ip_sort_pref = "PREFER_V6"
max_host_concurrency = 500
max_messages_per_connection = 50
limit_type = "host"
limit_apply = "system"
bounce_validation = false
tls = "NO"

[entries]
"example.com" = { bounce_profile = "bulk", tls = "REQUIRED" }
"""


def test_toml_export_is_exact() -> None:
    assert toml_format.dumps(TABLE) == TOML_BYTES
    assert toml_format.loads(TOML_BYTES) == TABLE


def test_json_export_is_the_same_document() -> None:
    data = json_format.dumps(TABLE)
    assert data.endswith(b"}\n")
    assert std_json.loads(data) == toml_format.to_document(TABLE)
    assert json_format.loads(data) == TABLE


def test_toml_syntax_error_names_its_line() -> None:
    with pytest.raises(FormatError) as caught:
        toml_format.loads(b"[settings]\ncertificate = \n")
    assert caught.value.problems == [Problem(2, "Invalid value")]


def test_json_syntax_error_names_its_line() -> None:
    with pytest.raises(FormatError) as caught:
        json_format.loads(b'{\n  "entries": {\n}\n')
    assert caught.value.problems[0].line == 4


def test_model_errors_name_the_field() -> None:
    document = toml_format.to_document(TABLE)
    document["entries"]["example.com"]["tls"] = "SOMETIMES"
    document["default"]["max_host_concurrency"] = 0
    with pytest.raises(FormatError) as caught:
        json_format.loads(std_json.dumps(document).encode())
    reasons = [problem.reason for problem in caught.value.problems]
    assert any(reason.startswith("default.max_host_concurrency: ") for reason in reasons)
    assert any(reason.startswith("entries.example.com.tls: ") for reason in reasons)
    assert all(problem.line is None for problem in caught.value.problems)


def test_invalid_utf8_names_its_line() -> None:
    with pytest.raises(FormatError) as caught:
        toml_format.loads(b"[settings]\n# caf\xe9\n")
    assert caught.value.problems == [Problem(2, "the line is not valid UTF-8 text")]


@pytest.mark.parametrize("name", ["table.toml", "table.json", "table.cfg"])
def test_invalid_utf8_after_a_byte_order_mark_names_its_line(name: str) -> None:
    """The mark is three bytes of no line: the bad byte right after a line end is on
    the next line all the same."""
    with pytest.raises(FormatError) as caught:
        for_name(name).loads(b"\xef\xbb\xbfa\n\xff\n")
    assert caught.value.problems == [Problem(2, "the line is not valid UTF-8 text")]


def test_entry_keys_must_be_stored_destinations() -> None:
    document = toml_format.to_document(TABLE)
    document["entries"]["EXAMPLE.org"] = {}
    with pytest.raises(FormatError) as caught:
        json_format.loads(std_json.dumps(document).encode())
    assert "not in its stored form 'example.org'" in caught.value.problems[0].reason


def test_shipped_schema_is_the_generated_one() -> None:
    shipped = resources.files("destconfig").joinpath("schema/table.schema.json").read_text()
    # Regenerate with: python -m destconfig.formats.json > destconfig/schema/table.schema.json
    assert shipped == json_format.schema_text()


def test_exported_json_validates_against_the_schema() -> None:
    schema = json_format.schema()
    jsonschema.validate(std_json.loads(json_format.dumps(TABLE)), schema)
    bad = toml_format.to_document(TABLE)
    bad["entries"]["example.com"]["tls"] = "SOMETIMES"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_format_is_chosen_by_suffix() -> None:
    assert for_name("table.TOML").name == "toml"
    assert for_name("table.json").name == "json"
    assert for_name("table.cfg").name == "esa"
    assert for_name("table").name == "esa"
    assert sorted(formats()) == ["esa", "json", "toml"]


def test_esa_import_keeps_settings_and_known_profiles() -> None:
    current = Table(settings=Settings(tls_alert=True), bounce_profiles=("old",))
    loaded = Table(bounce_profiles=("new",)).with_entry("a.example", Entry(bounce_profile="new"))
    result = imported(current, loaded, full=for_name("x.cfg").full)
    assert result.settings.tls_alert is True
    assert result.bounce_profiles == ("new", "old")
    assert result.entries == loaded.entries
    assert imported(current, loaded, full=for_name("x.toml").full) == loaded
