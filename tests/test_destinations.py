"""destinations.normalise: every rule of spec §5.1."""

from __future__ import annotations

import ipaddress
import re

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destconfig.destinations import (
    InvalidDestination,
    all_stored,
    is_address,
    is_stored,
    normalise,
)


def refused(text: str) -> bool:
    try:
        normalise(text)
    except InvalidDestination:
        return True
    return False


# --- IP addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        ("192.0.2.1", "[192.0.2.1]"),
        ("[192.0.2.1]", "[192.0.2.1]"),
        ("0.0.0.0", "[0.0.0.0]"),
        ("255.255.255.255", "[255.255.255.255]"),
        ("2001:db8::1", "[2001:db8::1]"),
        ("[2001:db8::1]", "[2001:db8::1]"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "[2001:db8::1]"),
        ("[2001:DB8:0:0:0:0:0:1]", "[2001:db8::1]"),
        ("2001:db8:0:0:1:0:0:1", "[2001:db8::1:0:0:1]"),
        ("::", "[::]"),
        ("[::1]", "[::1]"),
        ("  [2001:db8::1]  ", "[2001:db8::1]"),
        (" 192.0.2.10 ", "[192.0.2.10]"),
    ],
)
def test_addresses_are_stored_in_brackets_compressed(answer: str, stored: str) -> None:
    assert normalise(answer) == stored


@pytest.mark.parametrize(
    "answer",
    [
        "fe80::1%eth0",
        "[fe80::1%eth0]",
        "fe80::1%1",
        "[fe80::1%1]",
    ],
)
def test_scoped_ipv6_is_refused(answer: str) -> None:
    assert refused(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "192.0.2.300",  # the spec's own example: not an address, last label all digits
        "[192.0.2.300]",
        "1.2.3",
        "192.0.2",
        "[example.com]",  # brackets are for addresses only
        "[192.0.2.1",
        "192.0.2.1]",
        "[192.0.2.1]]",
        "[[192.0.2.1]]",
        "[]",
        "192.0.2.1/24",
        "2001:db8::1::2",
        "2001:db8::g",
    ],
)
def test_malformed_addresses_are_refused(answer: str) -> None:
    assert refused(answer)


def test_an_answer_that_parses_as_an_address_is_an_address() -> None:
    # Not the host name "192.0.2.1": the key is the bracketed address.
    assert normalise("192.0.2.1") == "[192.0.2.1]"
    assert is_address(normalise("192.0.2.1"))
    assert is_address(normalise("2001:db8::1"))
    assert not is_address(normalise("example.com"))
    assert not is_address(normalise(".example.com"))


# --- host names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("EXAMPLE.COM", "example.com"),
        ("  example.com  ", "example.com"),
        ("\texample.com\t", "example.com"),
        ("localhost", "localhost"),
        ("a", "a"),
        ("a-b.example", "a-b.example"),
        ("a--b.example", "a--b.example"),
        ("0a.example", "0a.example"),
        ("123.example", "123.example"),
        ("example.c0m", "example.c0m"),
        ("example.1a", "example.1a"),
        ("1e5.com", "1e5.com"),
        ("mail-1.example.com", "mail-1.example.com"),
    ],
)
def test_host_names(answer: str, stored: str) -> None:
    assert normalise(answer) == stored


@pytest.mark.parametrize(
    "answer",
    [
        "-example.com",
        "example-.com",
        "example.-com",
        "example.com-",
        "exa_mple.com",
        "exa mple.com",
        "example..com",
        "example.com.",  # empty last label
        "example.123",
        "example.0",
        "1.2.3.4.5",
        "example.com/x",
        "user@example.com",
        "*.example.com",
        "example.com:25",
        "exam!ple.com",
        "-",
    ],
)
def test_invalid_host_names(answer: str) -> None:
    assert refused(answer)


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        (".example.com", ".example.com"),
        (".Example.COM", ".example.com"),
        ("  .example.com ", ".example.com"),
        (".com", ".com"),
        (".all", ".all"),  # only the bare words are reserved
        (".default", ".default"),
    ],
)
def test_subdomain_patterns(answer: str, stored: str) -> None:
    assert normalise(answer) == stored


@pytest.mark.parametrize(
    "answer",
    [".", "..", "..example.com", ". example.com", ".-example.com", ".example.123", ".192.0.2.1"],
)
def test_invalid_leading_dot_patterns(answer: str) -> None:
    assert refused(answer)


# Lengths: labels 1..63, whole name at most 253.

LABEL_63 = "a" * 63
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


def test_label_of_63_is_accepted() -> None:
    assert normalise(LABEL_63 + ".com") == LABEL_63 + ".com"
    assert normalise("x." + LABEL_63) == "x." + LABEL_63


def test_label_of_64_is_refused() -> None:
    assert refused("a" * 64 + ".com")
    assert refused("x." + "a" * 64)
    assert refused("." + "a" * 64 + ".com")


def test_name_of_253_is_accepted() -> None:
    assert len(NAME_253) == 253
    assert normalise(NAME_253) == NAME_253
    assert normalise(NAME_253.upper()) == NAME_253


def test_name_of_254_is_refused() -> None:
    name = NAME_253 + "d"
    assert len(name) == 254
    assert refused(name)


# --- IDNA -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        ("faß.de", "xn--fa-hia.de"),  # UTS-46 non-transitional: ß is kept, not mapped to ss
        ("FAß.DE", "xn--fa-hia.de"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE", "xn--bcher-kva.de"),
        (".bücher.de", ".xn--bcher-kva.de"),
        ("例え.jp", "xn--r8jz45g.jp"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),  # an A-label typed as such
        ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
        ("\uff41\uff42\uff43.com", "abc.com"),  # full-width letters are mapped by UTS-46
    ],
)
def test_idna_names_are_stored_as_a_labels(answer: str, stored: str) -> None:
    assert normalise(answer) == stored


def test_sharp_s_is_not_folded_into_ss() -> None:
    assert normalise("faß.de") != normalise("fass.de")
    assert normalise("fass.de") == "fass.de"


def test_idna_agrees_with_the_idna_package() -> None:
    for name in ("faß.de", "straße.example", "ñandú.example", "παράδειγμα.δοκιμή"):
        expected = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        assert normalise(name) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "xn--zz.de",  # not valid punycode / not a valid U-label
        "ü ber.de",
        "bücher.a_b",
        "a\u200db.com",  # ZERO WIDTH JOINER outside its context
        "bücher..de",
        "-bücher.de",
    ],
)
def test_invalid_idna_names_are_refused(answer: str) -> None:
    assert refused(answer)


def test_idna_label_limits_apply_to_the_a_label() -> None:
    # 60 characters of U-label, but its A-label is longer than 63.
    label = "ü" * 60
    assert len("xn--" + label.encode("punycode").decode("ascii")) > 63
    assert refused(label + ".de")


def test_idna_name_limit_applies_to_the_a_label() -> None:
    label = "bücher" + "a" * 50  # 56 characters; its A-label is exactly 63
    a_label = idna.encode(label).decode("ascii")
    assert len(a_label) == 63
    # Three labels fit (A-form 191 characters) ...
    assert normalise(".".join([label] * 3)) == ".".join([a_label] * 3)
    # ... four do not: 227 characters typed, 255 stored.
    unicode_name = ".".join([label] * 4)
    assert len(unicode_name) == 227
    assert len(".".join([a_label] * 4)) == 255
    assert refused(unicode_name)


# --- reserved words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", ["default", "Default", "DEFAULT", " default ", "all", "All", "ALL", "  all"]
)
def test_reserved_words_are_refused(answer: str) -> None:
    assert refused(answer)


def test_reserved_words_are_whole_names_only() -> None:
    assert normalise("default.example") == "default.example"
    assert normalise("all.example") == "all.example"
    assert normalise("defaults") == "defaults"


def test_empty_answer_is_not_a_destination() -> None:
    assert refused("")
    assert refused("   ")


# --- idempotence --------------------------------------------------------------------------

_label = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_ipv4 = st.ip_addresses(v=4).map(str)
_ipv6 = st.ip_addresses(v=6).map(lambda address: address.exploded)
_bracketed = st.ip_addresses().map(lambda address: f"[{address}]")
_unicode_host = st.lists(
    st.text(alphabet="abcdeüößéñ例え-0123456789", min_size=1, max_size=12), min_size=1, max_size=3
).map(".".join)
_answers = st.one_of(
    _host,
    _host.map(lambda name: "." + name),
    _ipv4,
    _ipv6,
    _bracketed,
    _unicode_host,
    _unicode_host.map(lambda name: "." + name),
    st.text(alphabet="aZ09-.[]:%ßü例 ", max_size=30),
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_answers, st.sampled_from(["", " ", "  "]))
def test_normalise_is_idempotent_on_its_output(answer: str, pad: str) -> None:
    try:
        stored = normalise(pad + answer + pad)
    except InvalidDestination:
        return
    assert normalise(stored) == stored
    # The stored form is printable lower-case ASCII, with no surrounding spaces.
    assert stored.isascii()
    assert stored == stored.strip().lower()


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_every_address_is_accepted_with_and_without_brackets(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    mapped = getattr(address, "ipv4_mapped", None)
    expected = f"[::ffff:{mapped}]" if mapped is not None else f"[{address.compressed}]"
    assert normalise(str(address)) == expected
    assert normalise(f"[{address}]") == expected
    assert normalise(address.exploded.upper()) == expected


def test_ascii_labels_with_double_hyphens_are_host_name_labels() -> None:
    # "-" is allowed anywhere but at either end of a label (§5.1).
    assert normalise("ab--cd.example") == "ab--cd.example"
    assert normalise("ab--cd.xn--bcher-kva.de") == "ab--cd.xn--bcher-kva.de"
    assert normalise("mail--1.bücher.de") == "mail--1.xn--bcher-kva.de"


@pytest.mark.parametrize("answer", ["ab--cd.bücher.de", "bücher.ab--cd", "ma--il.bücher.de"])
def test_double_hyphen_label_beside_a_unicode_label(answer: str) -> None:
    expected = ".".join(
        label if label.isascii() else idna.encode(label).decode("ascii")
        for label in answer.split(".")
    )
    assert normalise(answer) == expected


@pytest.mark.parametrize(
    "answer", ["::ffff:192.0.2.1", "::FFFF:C000:0201", "[0:0:0:0:0:ffff:192.0.2.1]"]
)
def test_ipv4_mapped_addresses_have_one_stored_form(answer: str) -> None:
    # Written out by the project, not by the ipaddress module, whose form changed in 3.13.
    assert normalise(answer) == "[::ffff:192.0.2.1]"


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(st.one_of(_answers, st.text(alphabet="ab1-.:[]x", max_size=20)))
def test_is_stored_agrees_with_normalise(text: str) -> None:
    try:
        expected = normalise(text) == text
    except InvalidDestination:
        expected = False
    assert is_stored(text) == expected


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        ("example.com", True),
        (".example.com", True),
        ("Example.com", False),
        ("default", False),
        (".all", True),
        ("192.0.2.1", False),
        ("[192.0.2.1]", True),
        ("a." * 125 + "bcd", True),
        ("a." * 126 + "bc", False),
        ("." + "a." * 125 + "bcd", True),
        ("xn--bcher-kva.example", True),
        ("xn--zz.example", False),
        ("a.123", False),
    ],
)
def test_is_stored_cases(key: str, stored: bool) -> None:
    assert is_stored(key) is stored


# --- all_stored: the whole-table check agrees with is_stored key by key ---------------

_TRICKY_KEYS = [
    "example.com",
    ".example.com",
    "a" * 63 + ".com",
    "a" * 64 + ".com",
    ".".join(["a" * 49] * 5) + ".ab",  # 253 characters
    ".".join(["a" * 49] * 5) + ".abc",  # 254 characters
    "[192.0.2.1]",
    "[192.0.2.01]",
    "[256.1.1.1]",
    "[2001:db8::1]",
    "[2001:DB8::1]",
    "xn--bcher-kva.example",
    "xn--zz.example",
    "all",
    "default",
    ".all",
    "Example.com",
    "a..b",
    "-a.example",
    "a-.example",
    "example.123",
    "123",
    "a\nb",
    "example.com\n",
    "",
    ".",
    "a_b.example",
]


@pytest.mark.parametrize("key", _TRICKY_KEYS)
def test_all_stored_agrees_with_is_stored_on_each_key(key: str) -> None:
    assert all_stored([key]) is is_stored(key)
    assert all_stored(["example.com", key, "[192.0.2.1]"]) is is_stored(key)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_TRICKY_KEYS),
            st.from_regex(r"\.?[a-z0-9-]{1,8}(\.[a-z0-9-]{1,8}){0,3}", fullmatch=True),
            st.from_regex(r"\[[0-9]{1,3}(\.[0-9]{1,3}){3}\]", fullmatch=True),
            st.text(alphabet="ab1-.\n[]:", max_size=12),
            st.text(alphabet="aA1-.", max_size=10),
            st.sampled_from(["a" * 63 + ".com", "a" * 64 + ".com", ".".join(["a" * 50] * 6)]),
            st.sampled_from(["[::1]", "[::FFFF:192.0.2.1]", "[::ffff:192.0.2.1]", " [::1]"]),
        ),
        max_size=8,
    )
)
def test_all_stored_is_every_key_is_stored(keys: list[str]) -> None:
    assert all_stored(keys) is all(is_stored(key) for key in keys)


def _reference_ldh(name: str) -> bool:
    """The host name rules, label by label, written plainly (the reference for the fast check)."""
    if not 1 <= len(name) <= 253:
        return False
    labels = name.split(".")
    return (
        all(
            1 <= len(label) <= 63
            and re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", label) is not None
            for label in labels
        )
        and not labels[-1].isdigit()
    )


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab1-.\n_A", max_size=14),
        st.builds(
            lambda parts: ".".join(parts),
            st.lists(
                st.sampled_from(["a", "1", "a-1", "-a", "a" * 63, "a" * 64, "9" * 3]), max_size=6
            ),
        ),
        st.builds(lambda n: ".".join(["a" * 50] * n), st.integers(4, 6)),
    )
)
def test_the_name_check_agrees_with_the_rules_label_by_label(name: str) -> None:
    from destconfig.destinations import _ldh_name

    assert _ldh_name(name) is _reference_ldh(name)
