"""zsync.redact: what is registered, and how it is masked in text and records."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from zsync import redact
from zsync.spec import validate_spec


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    with redact.scope():
        yield


def test_a_registered_value_is_masked_wherever_it_appears() -> None:
    redact.add("s3cr3t-value")
    assert redact.text("a s3cr3t-value b s3cr3t-value") == "a *** b ***"
    assert redact.text("nothing here") == "nothing here"


def test_short_values_and_none_are_not_registered() -> None:
    redact.add("abc", "", None)
    assert redact.text("abc abcd") == "abc abcd"


def test_the_longest_secret_is_masked_whole() -> None:
    redact.add("token", "token-and-more")
    assert redact.text("x token-and-more y token") == "x *** y ***"


def test_json_and_url_forms_are_masked_too() -> None:
    secret = 'pa"ss wörd/+'
    redact.add(secret)
    for written in (
        json.dumps({"k": secret}),
        json.dumps({"k": secret}, ensure_ascii=False),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.urlencode({"k": secret}),
    ):
        assert "***" in redact.text(written), written
        assert "ss w" not in redact.text(written).replace("%20", " ")


def test_url_userinfo_is_masked() -> None:
    text = "POST https://user:pa55@zoho.example/crm and http://only@h:80/x, a@b.c"
    assert redact.text(text) == "POST https://***@zoho.example/crm and http://***@h:80/x, a@b.c"


@dataclass(frozen=True)
class Inner:
    message: str
    count: int


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner | None
    items: tuple[str, ...]
    extra: dict[str, str]


def test_scrub_masks_strings_in_records_and_containers() -> None:
    redact.add("hunter22")
    record = Outer("a", Inner("it was hunter22", 3), ("x", "hunter22"), {"hunter22": "v"})
    assert redact.scrub(record) == Outer("a", Inner("it was ***", 3), ("x", "***"), {"***": "v"})
    clean = Outer("a", Inner("m", 1), ("x",), {})
    assert redact.scrub(clean) is clean  # nothing to mask: the same object


def test_scrub_keeps_keys_apart_that_differ_only_by_a_secret() -> None:
    redact.add("org-1111", "org-2222")
    assert redact.scrub({"crm/org-1111": 1, "crm/org-2222": 2}) == {"crm/***": 1, "crm/*** (2)": 2}


def test_a_scope_forgets_what_was_registered_in_it() -> None:
    with redact.scope():
        redact.add("scoped-secret")
        assert redact.text("scoped-secret") == "***"
    assert redact.text("scoped-secret") == "scoped-secret"


def test_watching_registers_exactly_the_interpolated_values(write_spec) -> None:
    path = write_spec("""\
        version: 1
        connections:
          crm:
            product: crm
            org_id: "${ORG:-55555}"
            auth: {client_id: "${ID}", client_secret: "x${SECRET}y", refresh_token: "rt-literal"}
        jobs:
          leads:
            export: {from: crm, module: Leads}
            output: leads.csv
        """)
    env = {"ID": "the-client-id", "SECRET": "the-secret", "UNUSED": "unused-value"}
    result = validate_spec(path, redact.watching(env))
    assert result.ok, result.diagnostics
    said = redact.text("the-client-id the-secret unused-value 55555 rt-literal")
    # A default comes from the file, not the environment; literal auth is registered apart.
    assert said == "*** *** unused-value 55555 rt-literal"
    assert result.spec is not None
    redact.add_auth(result.spec)
    assert redact.text("rt-literal") == "***"
