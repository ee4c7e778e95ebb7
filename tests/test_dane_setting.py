"""The DANE setting wherever a setting lives: the model and its rule, every file format,
the one-shot options, diff, resolve, detail, and the Postfix and KumoMTA exports.

The rule: DANE Opportunistic or Mandatory needs TLS to be attempted, so wherever the
TLS that applies is No, the DANE that applies must be No. Each path that can break it
is refused whole with the one message, naming the destination.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from destconfig import operations
from destconfig import settings as settings_catalogue
from destconfig.commands import resolve as resolve_command
from destconfig.formats import esa, formats, kumomta, postfix
from destconfig.formats import json as json_format
from destconfig.formats import toml as toml_format
from destconfig.formats.problems import FormatError, Problem
from destconfig.messages import dane_needs_tls
from destconfig.model import Dane, DefaultEntry, Entry, Table, Tls, effective
from destconfig.settings import Line
from destconfig.tablediff import diff, render_diff
from tests.strategies import tables
from tests.test_commands import (
    COMMITTED,
    Destconfig,
    Result,
    make_destconfig,
    refused,
    seed,
    snapshot,
)

DIR = "/etc/postfix/destconfig"

DANE_TABLE = Table(
    default=DefaultEntry(tls=Tls.PREFERRED, dane=Dane.OPPORTUNISTIC),
    entries={
        "a.example": Entry(dane=Dane.MANDATORY),
        "b.example": Entry(tls=Tls.NO, dane=Dane.NO),
        "c.example": Entry(tls=Tls.REQUIRED_VERIFY),
    },
)

DEFAULT_LINES = (
    "[DEFAULT]\n"
    "ip_sort_pref = PREFER_V6\n"
    "max_host_concurrency = 500\n"
    "max_messages_per_connection = 50\n"
    "limit_type = host\n"
    "limit_apply = system\n"
    "bounce_validation = 0\n"
)
DANE_CFG = (
    DEFAULT_LINES + "tls = 1\n"
    "dane = 1\n"
    "\n"
    "[a.example]\n"
    "dane = 2\n"
    "\n"
    "[b.example]\n"
    "tls = 0\n"
    "dane = 0\n"
    "\n"
    "[c.example]\n"
    "tls = 4\n"
)


@pytest.fixture
def dc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Destconfig:
    return make_destconfig(tmp_path, monkeypatch)


# The model and its rule.


def test_dane_is_no_on_the_factory_default_and_default_on_an_entry() -> None:
    assert DefaultEntry().dane is Dane.NO
    assert Entry().dane is None
    assert effective(None, DefaultEntry())["dane"] is Dane.NO
    assert effective(Entry(), DANE_TABLE.default)["dane"] is Dane.OPPORTUNISTIC
    assert effective(Entry(dane=Dane.NO), DANE_TABLE.default)["dane"] is Dane.NO


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"default": {"dane": "OPPORTUNISTIC"}}, "(Default)"),  # the factory TLS is No
        ({"default": {"tls": "NO", "dane": "MANDATORY"}}, "(Default)"),
        ({"entries": {"a.example": {"dane": "OPPORTUNISTIC"}}}, "a.example"),
        ({"entries": {"a.example": {"tls": "NO", "dane": "MANDATORY"}}}, "a.example"),
        (  # an entry's own TLS No under a default that uses DANE
            {
                "default": {"tls": "PREFERRED", "dane": "OPPORTUNISTIC"},
                "entries": {"ok.example": {"tls": "NO", "dane": "NO"}, "z.example": {"tls": "NO"}},
            },
            "z.example",
        ),
    ],
)
def test_the_model_refuses_dane_where_tls_is_no(document: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError) as refusal:
        Table.model_validate(document)
    assert [error["msg"] for error in refusal.value.errors()] == [
        f"Value error, {dane_needs_tls(named)}"
    ]


def test_the_message_names_the_destination_once() -> None:
    assert dane_needs_tls("a.example") == (
        "a.example: DANE Opportunistic or Mandatory needs TLS; with TLS No, DANE must be No"
    )


def test_dane_with_tls_or_no_dane_is_allowed() -> None:
    assert Table.model_validate(toml_format.to_document(DANE_TABLE)) == DANE_TABLE
    Table.model_validate({"entries": {"a.example": {"tls": "PREFERRED", "dane": "MANDATORY"}}})
    Table.model_validate({"entries": {"a.example": {"tls": "NO", "dane": "NO"}}})


def test_the_operations_refuse_a_change_that_breaks_the_rule() -> None:
    with pytest.raises(operations.Refused) as new:
        operations.new_entry(Table(), "a.example", Entry(dane=Dane.OPPORTUNISTIC))
    assert new.value.message == dane_needs_tls("a.example")
    with pytest.raises(operations.Refused) as edit:
        operations.edit_entry(DANE_TABLE, "c.example", Entry(tls=Tls.NO))
    assert edit.value.message == dane_needs_tls("c.example")
    with pytest.raises(operations.Refused) as default:
        # b.example says TLS No and DANE No itself; a.example's own DANE needs the default's TLS
        operations.set_default(DANE_TABLE, DefaultEntry(tls=Tls.NO))
    assert default.value.message == dane_needs_tls("a.example")
    loaded = Table(entries={"z.example": Entry(tls=Tls.NO)})
    with pytest.raises(operations.Refused) as merged:
        operations.merged(DANE_TABLE, loaded, replace_default=False)
    assert merged.value.message == dane_needs_tls("z.example")
    # The same merge under the file's default (TLS No, DANE No) is allowed for z.example,
    # but not for a.example's own DANE.
    with pytest.raises(operations.Refused):
        operations.merged(DANE_TABLE, loaded, replace_default=True)


# The appliance's table file.


def test_the_table_file_writes_the_number_and_reads_any_case() -> None:
    assert esa.dumps(DANE_TABLE) == DANE_CFG.encode()
    assert esa.loads(DANE_CFG.encode()) == DANE_TABLE
    worded = (
        DANE_CFG.replace("dane = 1", "DANE = Opportunistic")
        .replace("dane = 2", "dane = mandatory")
        .replace("dane = 0", "dane = NO")
    )
    assert esa.loads(worded.encode()) == DANE_TABLE


def test_a_default_without_dane_is_written_as_before() -> None:
    table = Table(default=DefaultEntry(tls=Tls.PREFERRED))
    assert esa.dumps(table) == (DEFAULT_LINES + "tls = 1\n").encode()
    assert esa.loads((DEFAULT_LINES + "tls = 1\n").encode()) == table
    # an explicit No reads the same, and writes as before
    assert esa.loads((DEFAULT_LINES + "tls = 1\ndane = 0\n").encode()) == table


def test_a_bad_dane_word_says_the_words() -> None:
    with pytest.raises(FormatError) as error:
        esa.loads((DEFAULT_LINES + "tls = 1\ndane = 3\n").encode())
    assert error.value.problems == [
        Problem(9, 'bad value "3" for dane; use 0 (NO), 1 (OPPORTUNISTIC), 2 (MANDATORY)')
    ]


@pytest.mark.parametrize("comment", ["", "# a comment makes it a hand-written layout\n"])
def test_the_table_file_refuses_dane_without_tls_on_the_line(comment: str) -> None:
    text = comment + DANE_CFG.replace("[b.example]\ntls = 0\ndane = 0\n", "[b.example]\ntls = 0\n")
    at = 1 if comment else 0
    with pytest.raises(FormatError) as error:
        esa.loads(text.encode())
    assert error.value.problems == [Problem(15 + at, dane_needs_tls("b.example"))]
    text = comment + DEFAULT_LINES + "tls = 0\ndane = 2\n"
    with pytest.raises(FormatError) as error:
        esa.loads(text.encode())
    assert error.value.problems == [Problem(9 + at, dane_needs_tls("(Default)"))]


def test_an_entry_s_own_dane_under_a_default_tls_no_is_refused_on_its_dane_line() -> None:
    text = DEFAULT_LINES + "tls = 0\n\n[a.example]\nmax_host_concurrency = 5\ndane = 1\n"
    with pytest.raises(FormatError) as error:
        esa.loads(text.encode())
    assert error.value.problems == [
        Problem(10, "max_host_concurrency needs limit_type and limit_apply"),
        Problem(12, dane_needs_tls("a.example")),
    ]


# TOML, JSON and the schema.

DANE_TOML = (
    'certificates = [\n    "Demo",\n]\nbounce_profiles = []\n\n'
    '[settings]\ncertificate = "Demo"\ntls_alert = false\n\n'
    '[default]\nip_sort_pref = "PREFER_V6"\nmax_host_concurrency = 500\n'
    'max_messages_per_connection = 50\nlimit_type = "host"\nlimit_apply = "system"\n'
    'bounce_validation = false\ntls = "PREFERRED"\ndane = "OPPORTUNISTIC"\n\n'
    "[entries]\n"
    '"a.example" = { dane = "MANDATORY" }\n'
    '"b.example" = { tls = "NO", dane = "NO" }\n'
    '"c.example" = { tls = "REQUIRED_VERIFY" }\n'
)


def test_toml_and_json_carry_dane() -> None:
    assert toml_format.dumps(DANE_TABLE) == DANE_TOML.encode()
    assert toml_format.loads(DANE_TOML.encode()) == DANE_TABLE
    document = json.loads(json_format.dumps(DANE_TABLE))
    assert document["default"]["dane"] == "OPPORTUNISTIC"
    assert document["entries"]["a.example"] == {"dane": "MANDATORY"}
    assert json_format.loads(json_format.dumps(DANE_TABLE)) == DANE_TABLE


def test_toml_and_json_leave_out_a_default_dane_of_no() -> None:
    table = Table(default=DefaultEntry(tls=Tls.PREFERRED))
    assert b"dane" not in toml_format.dumps(table)
    assert b"dane" not in json_format.dumps(table)


@pytest.mark.parametrize("name", ["toml", "json"])
def test_toml_and_json_refuse_dane_without_tls(name: str) -> None:
    broken = DANE_TABLE.model_copy(
        update={"entries": {**DANE_TABLE.entries, "b.example": Entry(tls=Tls.NO)}}
    )
    data = formats()[name].dumps(broken)  # (model_copy does not validate: a hand-made file)
    with pytest.raises(FormatError) as error:
        formats()[name].loads(data)
    assert error.value.problems == [Problem(None, dane_needs_tls("b.example"))]


def test_both_schemas_describe_dane() -> None:
    root = Path(__file__).parent.parent / "destconfig" / "schema"
    for name in ("table.schema.json", "list.schema.json"):
        schema = json.loads((root / name).read_text(encoding="utf-8"))
        assert schema["$defs"]["Dane"]["enum"] == ["NO", "OPPORTUNISTIC", "MANDATORY"]
        default = schema["$defs"]["DefaultEntry"]["properties"]["dane"]
        assert default["$ref"] == "#/$defs/Dane"
        assert default["default"] == "NO"
        entry = schema["$defs"]["Entry"]["properties"]["dane"]
        assert {"$ref": "#/$defs/Dane"} in entry["anyOf"]


# Every format: export then import gives the identical table.


@settings(max_examples=80, deadline=None)
@given(tables())
def test_every_format_gives_back_the_table_with_its_dane(table: Table) -> None:
    for fmt in formats().values():
        loaded = fmt.loads(fmt.dumps(table))
        if fmt.full:
            assert loaded == table, fmt.name
        else:
            assert (loaded.default, loaded.entries) == (table.default, table.entries), fmt.name
    imported = postfix.parse(postfix.render(table, DIR).files, DIR)
    assert (imported.table, imported.warnings) == (table, [])


def test_the_generated_tables_hold_every_dane_setting_within_the_rule() -> None:
    seen: set[tuple[str, Dane | None]] = set()

    @settings(max_examples=300, deadline=None)
    @given(tables())
    def collect(table: Table) -> None:
        Table.model_validate(toml_format.to_document(table))  # the rule holds
        seen.add(("default", table.default.dane))
        seen.update(("entry", entry.dane) for entry in table.entries.values())

    collect()
    assert {("default", dane) for dane in Dane} <= seen
    assert {("entry", dane) for dane in (None, *Dane)} <= seen


# The one-shot commands.


def test_one_shot_new_edit_and_default_take_dane(dc: Destconfig) -> None:
    assert dc.ok("default", "--tls", "preferred", "--dane", "opportunistic") == COMMITTED
    assert dc.ok("new", "a.example", "--dane", "MANDATORY") == COMMITTED
    assert dc.ok("new", "b.example", "--tls", "no", "--dane", "no") == COMMITTED
    assert dc.ok("new", "c.example", "--tls", "required-verify") == COMMITTED
    assert toml_format.loads((dc.home / "config.toml").read_bytes()) == DANE_TABLE
    assert dc.ok("edit", "a.example", "--dane", "default") == COMMITTED
    assert dc.document("detail", "a.example")["details"][0]["settings"] == {}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("new", "z.example", "--tls", "no"), "z.example"),  # under the default's DANE
        (("edit", "c.example", "--tls", "no"), "c.example"),
        (("edit", "b.example", "--dane", "mandatory"), "b.example"),
        (("edit", "b.example", "--dane", "default"), "b.example"),
        (("default", "--tls", "no"), "(Default)"),
        (("default", "--dane", "mandatory", "--tls", "no"), "(Default)"),
    ],
)
def test_one_shot_options_that_break_the_rule_change_nothing(
    dc: Destconfig, args: tuple[str, ...], named: str
) -> None:
    seed(dc.home, DANE_TABLE)
    before = snapshot(dc.home)
    refused(dc(*args), dane_needs_tls(named))
    assert snapshot(dc.home) == before


def test_the_default_s_tls_no_is_refused_naming_an_entry_with_its_own_dane(
    dc: Destconfig,
) -> None:
    seed(dc.home, DANE_TABLE.with_default(DefaultEntry(tls=Tls.PREFERRED)))
    refused(dc("default", "--tls", "no"), dane_needs_tls("a.example"))


def test_the_dane_option_takes_words_only(dc: Destconfig) -> None:
    result = dc("new", "a.example", "--dane", "1")
    assert result.status == 2
    assert (
        "argument --dane: bad value '1'; use NO, OPPORTUNISTIC, MANDATORY or default (not a "
        "number: the table file counts the settings from 0, the menu from 1)"
    ) in result.err
    result = dc("default", "--dane", "sometimes")
    assert result.status == 2
    assert "argument --dane: bad value 'sometimes'; use NO, OPPORTUNISTIC, MANDATORY\n" in (
        result.err
    )


@pytest.mark.parametrize("name", ["broken.cfg", "broken.toml", "broken.json"])
@pytest.mark.parametrize("args", [(), ("--merge",)])
def test_an_import_that_breaks_the_rule_changes_nothing(
    dc: Destconfig, tmp_path: Path, name: str, args: tuple[str, ...]
) -> None:
    seed(dc.home, DANE_TABLE)
    before = snapshot(dc.home)
    broken = Table(default=DefaultEntry(tls=Tls.PREFERRED, dane=Dane.MANDATORY)).model_copy(
        update={"entries": {"z.example": Entry(tls=Tls.NO)}}  # (a hand-made file)
    )
    path = tmp_path / name
    path.write_bytes(formats()[name.rsplit(".", 1)[1].replace("cfg", "esa")].dumps(broken))
    result = dc("import", str(path), *args)
    assert result.status == 1
    assert dane_needs_tls("z.example") in result.err
    assert result.err.endswith("The table was not changed.\n")
    assert snapshot(dc.home) == before


def test_a_merge_under_the_current_default_that_breaks_the_rule_changes_nothing(
    dc: Destconfig, tmp_path: Path
) -> None:
    seed(dc.home, DANE_TABLE)
    before = snapshot(dc.home)
    path = tmp_path / "plain.cfg"  # valid alone: its default is the factory one
    path.write_bytes(esa.dumps(Table(entries={"z.example": Entry(tls=Tls.NO)})))
    refusal = (
        f'Error in "{path}": {dane_needs_tls("z.example")}\ndestconfig: The table was not changed.'
    )
    refused(dc("import", str(path), "--merge"), refusal)
    assert snapshot(dc.home) == before


# diff, resolve and detail.


def test_diff_shows_dane_of_the_default_and_of_entries(dc: Destconfig, tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.cfg"
    a.write_bytes(toml_format.dumps(Table(default=DefaultEntry(tls=Tls.PREFERRED))))
    b.write_bytes(esa.dumps(DANE_TABLE))
    assert dc("diff", str(a), str(b)) == Result(
        1,
        f"--- {a}\n+++ {b}\n"
        "~ (Default)\n"
        "    dane: NO -> OPPORTUNISTIC\n"
        "+ a.example\n"
        "+ b.example\n"
        "+ c.example\n",
        "",
    )
    result = dc("diff", str(b), str(a), "--format", "json")
    assert json.loads(result.out)["default"] == {"dane": {"old": "OPPORTUNISTIC", "new": "NO"}}
    changed = DANE_TABLE.with_entry("a.example", Entry(dane=Dane.OPPORTUNISTIC))
    assert render_diff(diff(DANE_TABLE, changed), "A", "B") == (
        "--- A\n+++ B\n~ a.example\n    dane: MANDATORY -> OPPORTUNISTIC"
    )


def test_resolve_shows_the_dane_that_applies(dc: Destconfig) -> None:
    seed(dc.home, DANE_TABLE)
    documents = json.loads(
        dc.ok("resolve", "u@a.example", "u@c.example", "u@other.example", "--format", "json")
    )["resolutions"]
    assert [document["effective"]["dane"] for document in documents] == [
        "MANDATORY",
        "OPPORTUNISTIC",
        "OPPORTUNISTIC",
    ]
    text = dc.ok("resolve", "u@c.example")
    assert text.split("\n")[8:11] == [
        "    TLS Support:                     Required - Verify",
        "    DANE Support:                    Default (Opportunistic)",
        "    Bounce Verification:             Default (Off)",
    ]
    assert "    DANE Support:                    Mandatory\n" in dc.ok("resolve", "u@a.example")
    assert "    DANE Support:                    Opportunistic\n" in dc.ok("resolve", "u@x.test")


def test_resolve_without_dane_shows_no_dane_line(dc: Destconfig) -> None:
    seed(dc.home, DANE_TABLE)
    assert "DANE" not in dc.ok("resolve", "u@b.example")
    seed(dc.home, Table())
    assert "DANE" not in dc.ok("resolve", "u@b.example")


def test_detail_json_shows_dane(dc: Destconfig) -> None:
    seed(dc.home, DANE_TABLE)
    details = dc.document("detail", "all")["details"]
    by_name = {detail["destination"]: detail for detail in details}
    assert by_name["a.example"]["settings"] == {"dane": "MANDATORY"}
    assert by_name["a.example"]["effective"]["dane"] == "MANDATORY"
    assert by_name["c.example"]["effective"]["dane"] == "OPPORTUNISTIC"
    assert by_name["(Default)"]["settings"]["dane"] == "OPPORTUNISTIC"
    seed(dc.home, Table())
    (default,) = dc.document("detail", "default")["details"]
    assert default["settings"]["dane"] == default["effective"]["dane"] == "NO"


# Postfix.

POLICY = (
    f"{postfix.HEADER}\n"
    '# destconfig a.example {"dane":"MANDATORY"}\n'
    "a.example dane-only\n"
    '# destconfig b.example {"tls":"NO","dane":"NO"}\n'
    "b.example none\n"
    '# destconfig c.example {"tls":"REQUIRED_VERIFY"}\n'
    "c.example dane\n"
)


def test_postfix_writes_the_dane_policies_and_dnssec() -> None:
    export = postfix.render(DANE_TABLE, DIR)
    assert export.files["tls_policy"] == POLICY.encode()
    main = export.files["main.cf"].decode().split("\n")
    assert main[1] == (
        '# destconfig (Default) {"ip_sort_pref":"PREFER_V6","max_host_concurrency":500,'
        '"max_messages_per_connection":50,"limit_type":"host","limit_apply":"system",'
        '"bounce_validation":false,"tls":"PREFERRED","dane":"OPPORTUNISTIC"}'
    )
    at = main.index("smtp_tls_security_level = dane")
    assert main[at + 1] == "smtp_dns_support_level = dnssec"
    dane_losses = [loss for loss in export.losses if loss.setting == "dane"]
    assert [loss.key for loss in dane_losses] == ["(Default)"]
    assert "may (Preferred)" in dane_losses[0].reason


def test_postfix_writes_dnssec_for_an_entry_s_dane_alone() -> None:
    table = Table(
        default=DefaultEntry(tls=Tls.PREFERRED),
        entries={"a.example": Entry(dane=Dane.MANDATORY), "b.example": Entry(tls=Tls.REQUIRED)},
    )
    files = postfix.render(table, DIR).files
    assert b"\na.example dane-only\n" in files["tls_policy"]
    assert b"\nb.example encrypt\n" in files["tls_policy"]
    assert b"smtp_tls_security_level = may\nsmtp_dns_support_level = dnssec\n" in files["main.cf"]
    plain = postfix.render(Table(default=DefaultEntry(tls=Tls.PREFERRED)), DIR)
    assert b"dnssec" not in plain.files["main.cf"]


def test_postfix_reads_its_export_back_exactly() -> None:
    imported = postfix.parse(postfix.render(DANE_TABLE, DIR).files, DIR)
    assert (imported.table, imported.warnings) == (DANE_TABLE, [])


def test_postfix_reads_hand_written_dane_lines() -> None:
    files = {
        "tls_policy": b"a.example dane\nb.example dane-only\nc.example none\nd.example may\n",
        "main.cf": b"smtp_tls_security_level = encrypt\nsmtp_dns_support_level = dnssec\n",
    }
    imported = postfix.parse(files, DIR)
    assert imported.table.default == DefaultEntry(tls=Tls.REQUIRED)
    assert imported.table.entries == {
        "a.example": Entry(tls=Tls.PREFERRED, dane=Dane.OPPORTUNISTIC),
        "b.example": Entry(tls=Tls.REQUIRED_VERIFY_HOSTED, dane=Dane.MANDATORY),
        "c.example": Entry(tls=Tls.NO),
        "d.example": Entry(tls=Tls.PREFERRED),
    }
    assert "tls_policy line 2: b.example: dane: read approximately from Postfix" in (
        imported.warnings
    )


def test_postfix_reads_a_hand_written_dane_default_keeping_the_rule() -> None:
    files = {
        "tls_policy": b"c.example none\nd.example may\n",
        "main.cf": b"smtp_tls_security_level = dane\n",
    }
    imported = postfix.parse(files, DIR)
    assert imported.table.default.dane is Dane.OPPORTUNISTIC
    assert imported.table.entries == {
        "c.example": Entry(tls=Tls.NO, dane=Dane.NO),
        "d.example": Entry(tls=Tls.PREFERRED, dane=Dane.NO),
    }
    assert "main.cf: (Default): dane: read approximately from Postfix" in imported.warnings


def test_an_edited_dane_line_wins_over_its_comment() -> None:
    files = dict(postfix.render(DANE_TABLE, DIR).files)
    files["tls_policy"] = files["tls_policy"].replace(b"c.example dane\n", b"c.example encrypt\n")
    imported = postfix.parse(files, DIR)
    assert imported.table.entries["c.example"] == Entry(tls=Tls.REQUIRED, dane=Dane.NO)
    assert imported.warnings == [
        "tls_policy line 7: c.example: tls: the Postfix line differs from its comment; "
        "the line is taken"
    ]


# KumoMTA.


def test_kumomta_enables_dane_and_reports_mandatory_as_a_loss() -> None:
    data, losses = kumomta.render(DANE_TABLE)
    text = data.decode()
    assert text.startswith(
        kumomta.HEADER + "[default]\n"
        'enable_tls = "OpportunisticInsecure"\n'
        "enable_dane = true\n"
        "connection_limit = 500\n"
    )
    assert (
        '["a.example"]\nmx_rollup = false\nenable_tls = "OpportunisticInsecure"\n'
        "enable_dane = true\n"
    ) in text
    assert '["b.example"]\nmx_rollup = false\nenable_tls = "Disabled"\nconnection_limit' in text
    assert '["c.example"]\nmx_rollup = false\nenable_tls = "Required"\nenable_dane = true\n' in (
        text
    )
    dane_losses = [loss for loss in losses if loss.setting == "dane"]
    assert [loss.key for loss in dane_losses] == ["a.example"]
    assert dane_losses[0].reason.startswith("KumoMTA has no DANE-only mode")


def test_kumomta_without_dane_writes_no_dane() -> None:
    data, _ = kumomta.render(Table(default=DefaultEntry(tls=Tls.PREFERRED)))
    assert b"dane" not in data


def test_postfix_reports_dane_on_an_address_as_lost_there() -> None:
    table = Table(
        default=DefaultEntry(tls=Tls.PREFERRED),
        entries={
            "[192.0.2.1]": Entry(tls=Tls.REQUIRED, dane=Dane.MANDATORY),
            "[192.0.2.2]": Entry(tls=Tls.REQUIRED, dane=Dane.OPPORTUNISTIC),
            "[192.0.2.3]": Entry(tls=Tls.REQUIRED),
            "a.example": Entry(tls=Tls.REQUIRED, dane=Dane.MANDATORY),
        },
    )
    export = postfix.render(table, DIR)
    assert b"\n[192.0.2.1] dane-only\n" in export.files["tls_policy"]
    assert [line for line in export.loss_lines() if ": dane: " in line] == [
        "[192.0.2.1]: dane: an address has no host name for Postfix to look up TLSA records "
        "at: Postfix's dane-only policy never delivers to it; the mail is deferred until it "
        "bounces",
        "[192.0.2.2]: dane: an address has no host name for Postfix to look up TLSA records "
        "at: Postfix's dane policy always delivers to it as may (Preferred), whatever the TLS "
        "setting says",
    ]


def test_postfix_reports_the_default_s_dane_on_an_address_entry() -> None:
    table = Table(
        default=DefaultEntry(tls=Tls.REQUIRED, dane=Dane.MANDATORY),
        entries={"[192.0.2.1]": Entry(bounce_validation=True)},
    )
    dane_losses = [loss for loss in postfix.render(table, DIR).losses if loss.setting == "dane"]
    assert [loss.key for loss in dane_losses] == ["[192.0.2.1]"]
    assert "never delivers" in dane_losses[0].reason


def test_resolve_table_has_a_dane_column_where_dane_applies(dc: Destconfig) -> None:
    seed(dc.home, DANE_TABLE)
    assert dc("resolve", "u@a.example", "u@b.example", "u@x.test", "--format", "table") == Result(
        0,
        "RECIPIENT   DOMAIN    ENTRY     MATCH   TLS       DANE\n"
        "u@a.example a.example a.example exact   Preferred Mandatory\n"
        "u@b.example b.example b.example exact   No        No\n"
        "u@x.test    x.test    (Default) default Preferred Opportunistic\n",
        "",
    )
    seed(dc.home, Table(default=DefaultEntry(tls=Tls.PREFERRED)))
    assert dc("resolve", "u@x.test", "--format", "table") == Result(
        0,
        "RECIPIENT DOMAIN ENTRY     MATCH   TLS\nu@x.test  x.test (Default) default Preferred\n",
        "",
    )


def test_resolve_finds_the_tls_line_by_the_catalogue_s_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renamed = dataclasses.replace(settings_catalogue.BY_NAME["tls"], line=Line("TLS Used"))
    monkeypatch.setattr(resolve_command, "_TLS", renamed)
    block = "a.example\n    TLS Used:                        Preferred\n    Last:  x"
    assert resolve_command._with_dane(block, DANE_TABLE, "a.example").split("\n") == [
        "a.example",
        "    TLS Used:                        Preferred",
        "    DANE Support:                    Mandatory",
        "    Last:  x",
    ]
    # A block without the TLS line gets the DANE line at its end, not an error.
    assert resolve_command._with_dane("a.example", DANE_TABLE, "a.example").split("\n") == [
        "a.example",
        "    DANE Support:                    Mandatory",
    ]
