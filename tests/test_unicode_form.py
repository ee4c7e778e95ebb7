"""unicode_form: the readable name of a stored key, only when it names that key again."""

from __future__ import annotations

import pytest
from hypothesis import given

from destconfig.destinations import normalise, unicode_form

from .strategies import destinations


@pytest.mark.parametrize(
    ("key", "form"),
    [
        ("xn--bcher-kva.example", "bücher.example"),
        (".xn--bcher-kva.example", ".bücher.example"),
        ("mx.xn--bcher-kva.example", "mx.bücher.example"),
        ("xn--fa-hia.de", "faß.de"),
        ("xn--r8jz45g.jp", "例え.jp"),
        ("xn--e1afmkfd.xn--p1ai", "пример.рф"),
    ],
)
def test_the_unicode_form_of_an_idna_key(key: str, form: str) -> None:
    assert unicode_form(key) == form
    assert normalise(form) == key


@pytest.mark.parametrize(
    "key",
    [
        "example.com",
        ".example.com",
        "[192.0.2.1]",
        "[2001:db8::1]",
        "xn--a",  # does not decode
        "xn--a.example",
        "",
        ".",
    ],
)
def test_no_unicode_form(key: str) -> None:
    assert unicode_form(key) is None


@given(destinations)
def test_a_unicode_form_names_the_same_key(key: str) -> None:
    form = unicode_form(key)
    assert form is None or normalise(form) == key
    assert (form is None) == ("xn--" not in key)
