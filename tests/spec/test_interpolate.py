"""${VAR} interpolation: defaults, escapes, Zoho's ${EMPTY}, unset variables."""

from __future__ import annotations

from zsync.spec.interpolate import interpolate
from zsync.spec.yaml_source import load_yaml


def run(text: str, env: dict[str, str], unset: str = "warning"):
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    return interpolate(source, env, unset=unset)  # type: ignore[arg-type]


def test_variables_defaults_and_escapes() -> None:
    result = run(
        'a: "${A}"\nb: "x-${B:-fallback}-y"\nc: "$${A} is literal"\nd: [ "${A}${A}" ]\n',
        {"A": "1"},
    )
    assert result.data == {"a": "1", "b": "x-fallback-y", "c": "${A} is literal", "d": ["11"]}
    assert result.diagnostics == []
    assert result.templates[("a",)] == "${A}"
    assert ("c",) not in result.templates


def test_zoho_empty_token_passes_through() -> None:
    result = run('value: "${EMPTY}"\n', {"EMPTY": "should not be used"})
    assert result.data == {"value": "${EMPTY}"}


def test_unset_variable_is_a_warning_or_an_error() -> None:
    warned = run('a: "${NOPE}"\n', {})
    assert [(d.severity, d.line, d.column) for d in warned.diagnostics] == [("warning", 1, 4)]
    assert warned.data == {"a": "${NOPE}"}
    assert warned.unresolved == {("a",)}
    failed = run('a: "${NOPE}"\n', {}, unset="error")
    assert failed.diagnostics[0].severity == "error"
    assert "NOPE is not set" in failed.diagnostics[0].message


def test_alias_reports_an_unset_variable_once() -> None:
    result = run('x: &x {t: "${T}"}\ny: *x\nz: *x\n', {})
    assert len(result.diagnostics) == 1


def test_non_strings_untouched() -> None:
    assert run("a: 1\nb: true\nc: null\n", {}).data == {"a": 1, "b": True, "c": None}
