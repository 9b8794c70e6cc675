"""`${VAR}` and `${VAR:-default}` in job-file strings, from the environment.

`${EMPTY}` is left alone: it is Zoho's own token for "empty" in bulk-read criteria. `$${`
writes a literal `${`. An unset variable without a default is reported (a warning where the
caller allows it, as `zsync validate` in a PR check without secrets does) and the reference
stays in place, so later checks can recognise and skip the value. Values never appear in
messages: only variable names do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zsync.spec.diagnostics import Diagnostic, Path, Severity
from zsync.spec.yaml_source import Source

ZOHO_EMPTY = "EMPTY"
_REFERENCE = re.compile(
    r"\$\$\{"  # escaped: a literal ${
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\$\{[^}]*\}?)"
)


@dataclass
class Interpolation:
    """The data with references replaced, and what the caller must know about it."""

    data: Any
    # Paths whose value came (partly) from the environment, with the text as written, so
    # messages can quote the reference instead of a possibly secret value.
    templates: dict[Path, str] = field(default_factory=dict)
    # Paths still holding a reference to an unset variable.
    unresolved: set[Path] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # A YAML alias repeats one written reference at many paths: report it once.
    reported: set[tuple[int, int, str]] = field(default_factory=set)


def interpolate(source: Source, env: Mapping[str, str], *, unset: Severity) -> Interpolation:
    """Replace references in every string value of `source.data`."""
    result = Interpolation(data=None)
    result.data = _walk(source.data, (), source, env, unset, result)
    return result


def _walk(
    value: Any,
    path: Path,
    source: Source,
    env: Mapping[str, str],
    unset: Severity,
    result: Interpolation,
) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), source, env, unset, result) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), source, env, unset, result) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _substitute(value, path, source, env, unset, result)
    return value


def _substitute(
    text: str,
    path: Path,
    source: Source,
    env: Mapping[str, str],
    unset: Severity,
    result: Interpolation,
) -> str:
    used_env = False

    def replace(match: re.Match[str]) -> str:
        nonlocal used_env
        if match.group("bad"):
            result.diagnostics.append(
                source.diagnostic(
                    path,
                    f"malformed variable reference {match.group('bad')!r}: expected ${{NAME}} or "
                    "${NAME:-default} (write $${ for a literal ${)",
                )
            )
            return match.group(0)
        name = match.group("name")
        if name is None:
            return "${"
        if name == ZOHO_EMPTY and match.group("default") is None:
            return match.group(0)
        used_env = True
        if name in env:
            return env[name]
        if match.group("default") is not None:
            return match.group("default")
        result.unresolved.add(path)
        where = source.position(path)
        if (where.line, where.column, name) in result.reported:
            return match.group(0)
        result.reported.add((where.line, where.column, name))
        result.diagnostics.append(
            source.diagnostic(
                path,
                f"environment variable {name} is not set"
                + (" (needed at run time)" if unset == "warning" else ""),
                severity=unset,
            )
        )
        return match.group(0)

    replaced = _REFERENCE.sub(replace, text)
    if used_env:
        result.templates[path] = text
    return replaced
