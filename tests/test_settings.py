"""The catalogue of settings: one record a setting, agreeing with the model.

The table file's reader and writer, DETAIL, LIST and the one-shot options all loop
over the catalogue, and their exact output is pinned elsewhere (golden files,
transcripts). Here: that the catalogue is whole and consistent, and that each
setting reads back every word it writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from destconfig import model, settings
from destconfig.model import Dane, DefaultEntry, Entry, IpSort, LimitApply, LimitType, Tls
from destconfig.settings import BadValue, Setting, Values

# Values of each setting: the least and the most, or every one.
SAMPLES: dict[str, list[Any]] = {
    "ip_sort_pref": list(IpSort),
    "max_host_concurrency": list(model.CONCURRENCY),
    "max_messages_per_connection": list(model.MESSAGES_PER_CONNECTION),
    "recipient_minutes": list(model.RECIPIENT_MINUTES),
    "recipient_limit": list(model.RECIPIENT_LIMIT),
    "limit_type": list(LimitType),
    "limit_apply": list(LimitApply),
    "bounce_validation": [False, True],
    "bounce_profile": ["bulk", "A" + "x" * (model.PROFILE_NAME_MAX - 1)],
    "tls": list(Tls),
    "dane": list(Dane),
}


def test_there_is_a_record_for_each_field_of_an_entry_in_its_order() -> None:
    # Export writes an entry's fields in declaration order: the catalogue's, the file's.
    assert tuple(Entry.model_fields) == settings.NAMES
    assert set(DefaultEntry.model_fields) <= set(settings.NAMES)
    assert set(SAMPLES) == set(settings.NAMES)


def test_each_view_orders_the_settings_it_shows_once() -> None:
    # The seed-era DETAIL has no DANE line; release 13's has every line, DANE after TLS.
    in_detail = [setting.name for setting in settings.IN_DETAIL]
    in_detail_13 = [setting.name for setting in settings.IN_DETAIL_RELEASE13]
    assert sorted(in_detail_13) == sorted(s.name for s in settings.SETTINGS if s.line)
    assert len(set(in_detail_13)) == len(in_detail_13)
    assert [name for name in in_detail_13 if name != "dane"] == in_detail
    assert in_detail_13[in_detail_13.index("tls") + 1] == "dane"
    assert sorted(s.name for s in settings.IN_OPTIONS) == sorted(settings.NAMES)
    flags = [setting.option.flag for setting in settings.IN_OPTIONS]
    assert len(set(flags)) == len(flags)


def test_a_setting_without_a_line_of_its_own_is_shown_on_another_s() -> None:
    shown_also = {
        name for setting in settings.SETTINGS if setting.line for name in setting.line.also
    }
    unlined = {setting.name for setting in settings.SETTINGS if setting.line is None}
    assert unlined == shown_also == {"recipient_minutes"}


def test_every_column_of_list_shows_a_setting_and_only_one_sums_them_up() -> None:
    columns = [setting.cell.column for setting in settings.SETTINGS if setting.cell]
    assert all(any(column is shown for shown in columns) for column in settings.COLUMNS)
    assert all(any(column is listed for listed in settings.COLUMNS) for column in columns)
    summing = [column for column in settings.COLUMNS if column.any_set is not None]
    assert summing == [settings.RATE_LIMITING]
    rate = {s.name for s in settings.SETTINGS if s.cell and s.cell.column is settings.RATE_LIMITING}
    assert rate == {*model.LIMITS, "max_messages_per_connection"}


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=settings.NAMES)
def test_every_value_written_reads_back(setting: Setting) -> None:
    for value in SAMPLES[setting.name]:
        word = setting.values.write(value)
        assert setting.values.parse(word) == value
        if setting.name != "bounce_profile":  # (a profile's name is read as written)
            assert setting.values.parse(word.upper()) == value
            assert setting.values.parse(word.lower()) == value
        assert setting.values.show(value)


def allowed(values: Values, word: str) -> str:
    """What the refusal of *word* says is allowed."""
    with pytest.raises(BadValue) as refused:
        values.parse(word)
    return refused.value.allowed


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=settings.NAMES)
def test_a_word_that_is_no_value_is_refused_saying_what_is(setting: Setting) -> None:
    for word in ["", "-1", "1" + "0" * 12, "no such word", "default"]:
        assert allowed(setting.values, word)


def test_the_words_of_the_table_file() -> None:
    values = {setting.name: setting.values for setting in settings.SETTINGS}
    assert values["tls"].parse("2") is Tls.REQUIRED
    assert values["tls"].parse("required") is Tls.REQUIRED
    assert values["tls"].write(Tls.REQUIRED_VERIFY_HOSTED) == "5"
    assert [values["dane"].parse(word) for word in ("0", "1", "2")] == list(Dane)
    assert values["dane"].parse("Opportunistic") is Dane.OPPORTUNISTIC
    assert values["dane"].write(Dane.MANDATORY) == "2"
    assert allowed(values["dane"], "3") == "0 (NO), 1 (OPPORTUNISTIC), 2 (MANDATORY)"
    assert values["limit_type"].parse("1") is LimitType.MXIP
    assert values["limit_type"].write(LimitType.MXIP) == "MXIP"
    assert values["limit_apply"].parse("0") is LimitApply.SYSTEM
    assert values["bounce_validation"].parse("on") is True
    assert values["bounce_validation"].write(False) == "0"
    assert values["max_host_concurrency"].parse("0010") == 10
    assert allowed(values["tls"], "7") == (
        "0 (NO), 1 (PREFERRED), 2 (REQUIRED), 3 (PREFERRED_VERIFY), 4 (REQUIRED_VERIFY), "
        "5 (REQUIRED_VERIFY_HOSTED)"
    )
    assert allowed(values["limit_type"], "2") == "host (or 0), MXIP (or 1)"
    assert allowed(values["bounce_validation"], "yes") == "0 (or off), 1 (or on)"
    assert allowed(values["ip_sort_pref"], "V4") == "PREFER_V4, PREFER_V6, REQUIRE_V4, REQUIRE_V6"
    assert allowed(values["max_host_concurrency"], "1001") == "a number from 1 to 1000"
    # Hyphens read as underscores in an option only where the words have underscores.
    assert {name for name, each in values.items() if each.underscored} == {"ip_sort_pref", "tls"}
