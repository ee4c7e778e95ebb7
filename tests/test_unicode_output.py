"""International names: the one-shot commands give the Unicode form beside the stored key.

Keys are stored as A-labels (``xn--bcher-kva.example``). ``list --format json`` adds
``unicode`` (each such key and its form), ``detail --format json`` a ``unicode``
member, and ``resolve`` ``domain_unicode``/``entry_unicode`` in JSON and the form in
brackets in its text and table; each only where a name has a Unicode form, so a
table of ASCII names gives the bytes it gave before. The shell, and the text forms
of LIST and DETAIL, show the stored keys alone.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from destconfig.formats import json as json_format
from destconfig.model import Entry, Table, Tls
from destconfig.replay import FIXED_TIME
from destconfig.store import Store
from tests.helpers import run_cli, run_session

BOOKS = "xn--bcher-kva.example"  # bücher.example
BOOKS_PATTERN = ".xn--bcher-kva.example"  # .bücher.example
RF = "xn--e1afmkfd.xn--p1ai"  # пример.рф


def _home(tmp_path: Path, *keys: str) -> Path:
    home = tmp_path / "home"
    store = Store(home)
    store.prepare()
    table = Table()
    for key in keys:
        table = table.with_entry(key, Entry(tls=Tls.REQUIRED))
    store.commit(table, comment="", when=FIXED_TIME, keep_rollback=False)
    return home


def _json(home: Path, *args: str) -> Any:
    result = run_cli(home, *args, "--format", "json")
    assert (result.status, result.err) == (0, ""), result
    return json.loads(result.out)


# --- list ----------------------------------------------------------------------------------


def test_list_json_gives_the_unicode_forms(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS, BOOKS_PATTERN, RF, "example.com")
    document = _json(home, "list")
    assert document["unicode"] == {
        BOOKS_PATTERN: ".bücher.example",
        BOOKS: "bücher.example",
        RF: "пример.рф",
    }
    assert list(document) == [
        *json.loads(run_cli(home, "export", "-", "--format", "json").out),
        "unicode",
    ]
    text = run_cli(home, "list").out  # LIST as the shell prints it: the stored keys only
    assert BOOKS in text and "bücher" not in text
    toml = run_cli(home, "list", "--format", "toml").out  # the schema of config.toml
    assert "unicode" not in toml and "bücher" not in toml


def test_list_json_of_ascii_names_is_the_exported_document(tmp_path: Path) -> None:
    home = _home(tmp_path, "example.com", ".example.org", "[192.0.2.1]")
    listed = run_cli(home, "list", "--format", "json")
    assert listed.out == run_cli(home, "export", "-", "--format", "json").out
    assert "unicode" not in json.loads(listed.out)
    # ... and the same document with an international name, but for its unicode member
    home = _home(tmp_path / "idn", BOOKS)
    with_forms = _json(home, "list")
    del with_forms["unicode"]
    assert with_forms == json.loads(run_cli(home, "export", "-", "--format", "json").out)


def test_the_shipped_list_schema_describes_the_list_output(tmp_path: Path) -> None:
    from destconfig.commands.show import list_schema_text

    shipped = resources.files("destconfig").joinpath("schema/list.schema.json").read_text()
    assert shipped == list_schema_text()  # regenerated as its docstring says
    schema = json.loads(shipped)
    international = _json(_home(tmp_path, BOOKS, "example.com"), "list")
    jsonschema.validate(international, schema)
    ascii_only = _json(_home(tmp_path / "ascii", "example.com"), "list")
    jsonschema.validate(ascii_only, schema)
    jsonschema.validate(ascii_only, json_format.schema())  # still a table document
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**international, "unicode": {BOOKS: 1}}, schema)


# --- detail --------------------------------------------------------------------------------


def test_detail_json_gives_the_unicode_form(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS, BOOKS_PATTERN, "example.com")
    (one,) = _json(home, "detail", BOOKS)["details"]
    assert list(one) == ["destination", "unicode", "settings", "effective"]
    assert (one["destination"], one["unicode"]) == (BOOKS, "bücher.example")
    (typed,) = _json(home, "detail", "Bücher.example")["details"]  # typed in Unicode
    assert typed == one
    everything = _json(home, "detail", "all")["details"]
    forms = {item["destination"]: item.get("unicode") for item in everything}
    assert forms == {
        BOOKS_PATTERN: ".bücher.example",
        BOOKS: "bücher.example",
        "example.com": None,
        "(Default)": None,
    }
    assert "unicode" not in everything[-1] and "unicode" not in _json(home, "detail", "default")
    text = run_cli(home, "detail", BOOKS).out  # DETAIL as the shell prints it
    assert text.startswith(BOOKS + "\n") and "bücher" not in text


def test_the_shell_shows_the_stored_keys_only(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS)
    session = run_session(home, f"destconfig\ndetail\n{BOOKS}\nlist\n\nquit\n")
    assert BOOKS in session.stdout and "bücher" not in session.stdout
    # the one-shot command beside it gives the form
    assert _json(home, "detail", BOOKS)["details"][0]["unicode"] == "bücher.example"


# --- resolve -------------------------------------------------------------------------------


def test_resolve_json_gives_the_unicode_forms(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS, BOOKS_PATTERN)
    exact, pattern, default, ascii_name = _json(
        home,
        "resolve",
        "user@bücher.example",
        "user@mx.xn--bcher-kva.example",
        "user@пример.рф",
        "user@example.com",
    )["resolutions"]
    assert list(exact)[:6] == [
        "recipient",
        "domain",
        "domain_unicode",
        "entry",
        "entry_unicode",
        "match",
    ]
    assert (exact["domain_unicode"], exact["entry_unicode"]) == ("bücher.example", "bücher.example")
    assert (pattern["domain"], pattern["entry"]) == ("mx." + BOOKS, BOOKS_PATTERN)
    assert (pattern["domain_unicode"], pattern["entry_unicode"]) == (
        "mx.bücher.example",
        ".bücher.example",
    )
    assert (default["domain"], default["domain_unicode"], default["entry"]) == (
        RF,
        "пример.рф",
        None,
    )
    assert "entry_unicode" not in default
    assert list(ascii_name) == ["recipient", "domain", "entry", "match", "effective"]


def test_resolve_text_names_the_entry_in_both_forms(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS, BOOKS_PATTERN)
    result = run_cli(home, "resolve", "user@bücher.example", "user@mx.bücher.example")
    assert result.status == 0
    heads = [block.split("\n", 1)[0] for block in result.out.split("\n\n")]
    assert heads == [
        f"user@bücher.example: {BOOKS} (bücher.example) (exact entry)",
        f"user@mx.bücher.example: {BOOKS_PATTERN} (.bücher.example) (nearest pattern)",
    ]
    # the block under each head is DETAIL's, as the shell prints it
    assert result.out.split("\n")[1] == BOOKS


def test_resolve_table_names_domains_and_entries_in_both_forms(tmp_path: Path) -> None:
    home = _home(tmp_path, BOOKS_PATTERN)
    result = run_cli(
        home, "resolve", "user@mx.bücher.example", "user@example.com", "--format", "table"
    )
    assert result.status == 0
    assert result.out == (
        "RECIPIENT              DOMAIN                                       "
        "ENTRY                                    MATCH   TLS\n"
        "user@mx.bücher.example mx.xn--bcher-kva.example (mx.bücher.example) "
        ".xn--bcher-kva.example (.bücher.example) pattern Required\n"
        "user@example.com       example.com                                  "
        "(Default)                                default No\n"
    )


def test_a_listed_document_imports_as_its_table(tmp_path: Path) -> None:
    """``list --format json`` adds the Unicode forms; import reads past them."""
    home = tmp_path / "home"
    assert run_cli(home, "new", "bücher.example", "--tls", "required").status == 0
    listed = run_cli(home, "list", "--format", "json")
    assert '"unicode": {\n    "xn--bcher-kva.example": "bücher.example"\n  }' in listed.out
    other = tmp_path / "other"
    done = run_cli(other, "import", "-", "--format", "json", stdin=listed.out.encode())
    assert done.status == 0, done.err
    assert run_cli(other, "list", "--format", "json").out == listed.out
