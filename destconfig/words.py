"""How setting values are named to a person, shared by the dialogues and renderers."""

from __future__ import annotations

from destconfig.model import IpSort, LimitApply, LimitType, Tls

TLS: dict[Tls, str] = {
    Tls.NO: "No",
    Tls.PREFERRED: "Preferred",
    Tls.REQUIRED: "Required",
    Tls.PREFERRED_VERIFY: "Preferred - Verify",
    Tls.REQUIRED_VERIFY: "Required - Verify",
    Tls.REQUIRED_VERIFY_HOSTED: "Required - Verify Hosted Domains",
}

IP_SORT: dict[IpSort, str] = {
    IpSort.PREFER_V4: "Prefer IPv4",
    IpSort.PREFER_V6: "Prefer IPv6",
    IpSort.REQUIRE_V4: "Require IPv4",
    IpSort.REQUIRE_V6: "Require IPv6",
}

LIMIT_TYPE: dict[LimitType, str] = {
    LimitType.HOST: "Entire Domain",
    LimitType.MXIP: "Each Mail Exchanger IP Address",
}

LIMIT_APPLY: dict[LimitApply, str] = {
    LimitApply.SYSTEM: "System Wide",
    LimitApply.VG: "Each Virtual Gateway",
}


def on_off(value: bool) -> str:
    return "On" if value else "Off"


def tls_on_off(tls: Tls) -> str:
    """LIST's word for a TLS setting: whether TLS is used at all."""
    return on_off(tls is not Tls.NO)


def recipients(limit: int | None, minutes: int | None) -> str:
    if limit is None:
        return "No Limit"
    return f"{limit} per {minutes} minutes"
