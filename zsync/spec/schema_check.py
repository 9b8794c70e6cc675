"""Validate job-file data against schemas/zsync.schema.json, with errors a person can act on.

jsonschema reports a failed `oneOf` as one error wrapping every branch's sub-errors. Here the
branch the user evidently meant (the one with the fewest and shallowest problems) speaks for
it; when no branch stands out, one line names the forms that were expected.

Jobs are validated one by one against the job schema, and a job shaped like one already
found valid (the same keys and values, but for strings whose text the schema doesn't look
at: names, paths, modules) isn't validated again: 10,000 jobs cost a handful of validations.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterator
from functools import cache
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from zsync.durations import DurationTooLong, parse_duration
from zsync.resources import load_schema
from zsync.spec.diagnostics import Diagnostic, Path
from zsync.spec.interpolate import Interpolation
from zsync.spec.schema_map import NodeSet, SchemaMap, spec_map
from zsync.spec.yaml_source import Source

# How strongly an error says "this is not the branch you meant".
_MISSING_KEY_WEIGHT = 10
_UNKNOWN_KEY_WEIGHT = 3
# A reference alone (no default), which is safe to quote even where values are secret.
_ONE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("zsync-duration", raises=ValueError)
def _duration_in_range(value: object) -> bool:
    """A duration's size; its spelling is the pattern's business, not this check's."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return True
    try:
        parse_duration(value)
    except DurationTooLong:
        raise
    except ValueError:
        pass  # misspelt: the pattern beside this check says so
    return True


@cache
def spec_validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema("zsync"), format_checker=_FORMATS)


@cache
def _outline_validator() -> Draft202012Validator:
    """The top level alone: each job's value is checked on its own."""
    schema = load_schema("zsync")
    # The name schema inlined: resolving its $ref once per job name cost more than the rest.
    names = schema["$defs"]["name"]
    jobs = {**schema["properties"]["jobs"], "additionalProperties": True, "propertyNames": names}
    outline = {**schema, "properties": {**schema["properties"], "jobs": jobs}}
    return Draft202012Validator(outline, format_checker=_FORMATS)


@cache
def _job_validator() -> Draft202012Validator:
    job = load_schema("zsync")["$defs"]["job"]
    return cast(Draft202012Validator, spec_validator().evolve(schema=job))


def check_schema(
    source: Source, interpolation: Interpolation, quiet: Collection[Path] = frozenset()
) -> tuple[list[Diagnostic], set[Path]]:
    """Every schema violation in the (interpolated) data, one diagnostic each, and the paths
    of the parts that broke a rule. Errors at `quiet` paths (already reported) go unsaid."""
    reporter = _Reporter(source, interpolation, quiet)
    broken: set[Path] = set()
    for error in schema_errors(interpolation.data):
        if reporter.report(error):
            broken.add(tuple(error.absolute_path))
    return reporter.diagnostics, broken


def schema_errors(data: Any) -> Iterator[ValidationError]:
    """What spec_validator().iter_errors(data) finds, each job's shape validated once."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict):
        yield from spec_validator().iter_errors(data)
        return
    yield from _outline_validator().iter_errors(data)
    schema = spec_map()
    job_nodes = schema.at(("jobs", "*"))
    valid: set[str] = set()
    for name, job in jobs.items():
        shape = json.dumps(_shape(job, job_nodes, schema), sort_keys=True)
        if shape in valid:
            continue
        errors = list(_job_validator().iter_errors(job))
        if not errors:
            valid.add(shape)
        for error in errors:
            error.path.extendleft((name, "jobs"))  # reversed: extendleft prepends one by one
            yield error


def _shape(value: Any, nodes: NodeSet, schema: SchemaMap) -> Any:
    """`value` with every string the schema doesn't look into (beyond "a non-empty
    string") replaced by one stand-in: validity can't tell them apart."""
    if isinstance(value, str):
        return "x" if value and schema.is_free_string(nodes) else value
    if isinstance(value, dict):
        return {k: _shape(v, schema.step(nodes, k), schema) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, schema.step(nodes, i), schema) for i, v in enumerate(value)]
    return value


class _Reporter:
    def __init__(
        self, source: Source, interpolation: Interpolation, quiet: Collection[Path]
    ) -> None:
        self.source = source
        self.interpolation = interpolation
        self.quiet = quiet
        self.diagnostics: list[Diagnostic] = []

    def report(self, error: ValidationError) -> bool:
        """Report `error`; False when an unset variable's warning already covers it."""
        path: Path = tuple(error.absolute_path)
        if any(path[:n] in self.quiet for n in range(len(path) + 1)):
            return True  # reported already (a number too large): still broken
        if self._covered_by_unset_variable(path):
            return False
        if error.validator in ("oneOf", "anyOf") and (error.context or error.validator == "oneOf"):
            self._report_alternatives(error, path)
            return True
        for at, message, on_key in _describe(error, self):
            self.diagnostics.append(self.source.diagnostic(at, message, key=on_key))
        return True

    def _covered_by_unset_variable(self, path: Path) -> bool:
        # The unset variable is already reported; its placeholder failing a pattern is noise.
        # Not so where no string can do (a mapping given as "${VAR}"): no value would fix it.
        return path in self.interpolation.unresolved and "string" in spec_map().types(
            spec_map().at(path)
        )

    def _report_alternatives(self, error: ValidationError, path: Path) -> None:
        message = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
        branches = _group_by_branch(error)
        if message and all(_is_shallow(errs, path) for errs in branches.values()):
            self.diagnostics.append(
                self.source.diagnostic(path, f"{message}, found {self.found(path, error.instance)}")
            )
            return
        required_only = _required_only_branches(error)
        if required_only is not None and not isinstance(error.instance, dict):
            return  # not a mapping at all: the type error at the same path says so
        wanted = _only_wrong_types(branches, path)
        if wanted:
            words = " or ".join(dict.fromkeys(_TYPE_WORDS.get(t, t) for t in wanted))
            found = _describe_found(error.instance, path, self)
            self.diagnostics.append(
                self.source.diagnostic(path, f"expected {words}, found {found}")
            )
            return
        if required_only is not None:
            present = [
                k for k in required_only if isinstance(error.instance, dict) and k in error.instance
            ]
            names = ", ".join(f"'{k}'" for k in required_only)
            found = " and ".join(f"'{k}'" for k in present) if present else "none"
            self.diagnostics.append(
                self.source.diagnostic(
                    path, f"expected exactly one of {names}, found {found}", key=bool(path)
                )
            )
            return
        if not branches:  # valid under several branches
            self.diagnostics.append(self.source.diagnostic(path, f"ambiguous: {error.message}"))
            return
        scored = sorted((_score(errs, path), index) for index, errs in branches.items())
        best_score = scored[0][0]
        best = [index for score, index in scored if score == best_score]
        if len(best) == 1:
            for sub in branches[best[0]]:
                self.report(sub)
            return
        subschemas = _value(error)
        forms = [_title(subschemas[i], i) for i in sorted(best)]
        self.diagnostics.append(
            self.source.diagnostic(
                path,
                "does not match any expected form: "
                + "; ".join(
                    f"{form} ({_summarise(branches[i], path, self)})"
                    for form, i in zip(forms, sorted(best), strict=True)
                ),
                key=bool(path),
            )
        )

    def found(self, path: Path, value: Any) -> str:
        """How to show a found value: never a secret or an environment variable's value."""
        template = self.interpolation.templates.get(path)
        if template is not None and _ONE_REFERENCE.fullmatch(template):
            return f"{template!r} (after interpolation)"
        if "auth" in path:
            return "a value (hidden)"
        if template is not None:
            return f"{template!r} (after interpolation)"
        return _show(value)


def _describe(error: ValidationError, reporter: _Reporter) -> Iterator[tuple[Path, str, bool]]:
    """(path, message, point-at-key) for one non-alternative error."""
    path: Path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("errorMessage")
    kind = error.validator
    instance = error.instance
    if kind == "required":
        for key in _value(error):
            if isinstance(instance, dict) and key not in instance:
                why = f" ({custom})" if custom else ""
                yield path, f"missing required key '{key}'{why}", True
        return
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in _unknown_keys(instance, schema):
            hint = _did_you_mean(key, allowed)
            expected = ", ".join(allowed)
            yield (*path, key), f"unknown key '{key}'{hint}; expected one of: {expected}", True
        return
    if "propertyNames" in error.schema_path:
        # The failing value is a key of the mapping at `path`: point at that key.
        yield (*path, str(instance)), f"'{instance}': {custom or error.message}", True
        return
    if kind == "format" and error.cause is not None:
        yield path, str(error.cause), False
        return
    if kind == "not" and custom:
        yield path, str(custom), True
        return
    if custom:
        yield path, f"{custom}, found {reporter.found(path, instance)}", False
        return
    if kind == "enum":
        options = [str(o) for o in _value(error)]
        hint = _did_you_mean(str(instance), options) if isinstance(instance, str) else ""
        yield (
            path,
            f"{reporter.found(path, instance)} is not one of {', '.join(options)}{hint}",
            False,
        )
        return
    if kind == "const":
        yield (
            path,
            f"expected {_show(_value(error))}, found {reporter.found(path, instance)}",
            False,
        )
        return
    if kind == "type":
        wanted = _value(error)
        words = " or ".join(
            _TYPE_WORDS.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)
        )
        yield path, f"expected {words}, found {_describe_found(instance, path, reporter)}", False
        return
    messages = {
        "minProperties": "must not be empty",
        "minItems": f"expected at least {_value(error)} item(s)",
        "maxItems": f"expected at most {_value(error)} item(s)",
        "uniqueItems": "has repeated items",
        "minLength": "must not be empty",
        "minimum": f"must be at least {_value(error)}",
        "maximum": f"must be at most {_value(error)}",
        "exclusiveMinimum": f"must be more than {_value(error)}",
        "multipleOf": f"must be a multiple of {_value(error)}",
        "pattern": f"does not match the pattern {_value(error)}",
    }
    base = messages.get(str(kind), error.message)
    yield path, f"{base}, found {reporter.found(path, instance)}", False


def _group_by_branch(error: ValidationError) -> dict[int, list[ValidationError]]:
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    return branches


def _only_wrong_types(branches: dict[int, list[ValidationError]], path: Path) -> list[str]:
    """The types the branches want, when each fails for the type of the value at `path` (an
    `export:` given as text: the rest of what a branch says follows from that); else none."""
    wanted: list[str] = []
    for errors in branches.values():
        types = [e for e in errors if e.validator == "type" and tuple(e.absolute_path) == path]
        if not types:
            return []
        value = _value(types[0])
        wanted += [value] if isinstance(value, str) else list(value)
    return wanted


def _required_only_branches(error: ValidationError) -> list[str] | None:
    """For `oneOf: [{required: [a]}, {required: [b]}]`, the keys a, b; else None."""
    keys: list[str] = []
    for branch in _value(error):
        if not (
            isinstance(branch, dict)
            and set(branch) == {"required"}
            and len(branch["required"]) == 1
        ):
            return None
        keys.append(branch["required"][0])
    return keys


def _score(errors: list[ValidationError], path: Path) -> tuple[int, int]:
    """Lower is a better guess at the branch the user meant."""
    weight = 0
    depth = 0
    for sub in errors:
        sub_path = tuple(sub.absolute_path)
        depth = max(depth, len(sub_path) - len(path))
        if sub.validator == "required" and sub_path == path:
            missing = [
                k for k in _value(sub) if isinstance(sub.instance, dict) and k not in sub.instance
            ]
            weight += _MISSING_KEY_WEIGHT * max(1, len(missing))
        elif sub.validator in ("oneOf",) and sub_path == path and _required_only_branches(sub):
            weight += _MISSING_KEY_WEIGHT
        elif sub.validator == "additionalProperties" and sub_path == path:
            weight += _UNKNOWN_KEY_WEIGHT * max(1, len(_unknown_keys(sub.instance, sub.schema)))
        elif sub.validator == "type" and sub_path == path:
            weight += _MISSING_KEY_WEIGHT * 2
        else:
            weight += 1
    # Errors found deep inside a branch mean its top level matched: prefer it.
    return weight, -depth


def _is_shallow(errors: list[ValidationError], path: Path) -> bool:
    return all(tuple(e.absolute_path) == path for e in errors)


def _summarise(errors: list[ValidationError], path: Path, reporter: _Reporter) -> str:
    parts: list[str] = []
    for sub in errors:
        if sub.validator == "oneOf" and (keys := _required_only_branches(sub)):
            parts.append("needs " + " or ".join(f"'{k}'" for k in keys))
            continue
        for at, message, _ in _describe(sub, reporter):
            rel = at[len(path) :]
            parts.append(
                f"{'.'.join(map(str, rel))}: {message}"
                if rel and not message.startswith(("unknown", "missing"))
                else message
            )
    return ", ".join(dict.fromkeys(parts))


def _title(schema: Any, index: int) -> str:
    if isinstance(schema, dict):
        if "title" in schema:
            return str(schema["title"])
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = load_schema("zsync").get("$defs", {}).get(ref.rsplit("/", 1)[-1], {})
            if "title" in target:
                return str(target["title"])
    return f"form {index + 1}"


def _unknown_keys(instance: Any, schema: Any) -> list[str]:
    if not isinstance(instance, dict) or not isinstance(schema, dict):
        return []
    known = set(schema.get("properties", {}))
    return [k for k in instance if k not in known]


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe_found(value: Any, path: Path, reporter: _Reporter) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    return reporter.found(path, value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(list(map(str, value))[:4]) + (", …}" if len(value) > 4 else "}")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"


def _value(error: ValidationError) -> Any:
    """The failing keyword's value in the schema (typed loosely by jsonschema)."""
    return cast(Any, error.validator_value)
