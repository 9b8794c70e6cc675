"""Big job files: the checks that were quadratic (outputs) or repeated (the schema) stay fast,
and give what the plain versions gave."""

from __future__ import annotations

import random

import pytest

from zsync.spec import validate_spec
from zsync.spec.model import Job
from zsync.spec.schema_check import schema_errors, spec_validator
from zsync.spec.semantics import _normal, _Outputs


def _overlaps(a: str, b: str) -> bool:
    """The pairwise rule _Outputs replaces."""
    if a.rstrip("/") == b.rstrip("/"):
        return True
    return (a.endswith("/") and b.startswith(a)) or (b.endswith("/") and a.startswith(b))


def _pairwise(outputs: list[str]) -> list[str | None]:
    """What the pairwise loop reported for each output: the job it collides with."""
    seen: dict[str, str] = {}
    found: list[str | None] = []
    for index, output in enumerate(outputs):
        hit = next((seen[o] for o in seen if _overlaps(output, o)), None)
        found.append(hit)
        seen[output] = f"j{index}"
    return found


def _job(name: str) -> Job:
    return Job(name=name, action=None, poll=None, retry=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(20))
def test_outputs_tree_reports_what_the_pairwise_loop_reported(seed: int) -> None:
    rng = random.Random(seed)
    parts = ["a", "b", "c", "a.csv", "d"]
    outputs: list[str] = []
    for _ in range(60):
        path = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        normal = _normal(path + rng.choice(["", "/"]))
        assert normal is not None
        outputs.append(normal)
    tree = _Outputs()
    found: list[str | None] = []
    for index, output in enumerate(outputs):
        other = tree.overlapping(output)
        found.append(other.name if other else None)
        tree.add(output, _job(f"j{index}"))
    assert found == _pairwise(outputs)


def _big_spec(jobs: int) -> str:
    lines = [
        "version: 1",
        "connections:",
        "  crm: {product: crm, org_id: '1', auth: {client_id: a, client_secret: b, "
        "refresh_token: c}}",
        "  an: {product: analytics, org_id: '2', workspace: '3', auth: {client_id: a, "
        "client_secret: b, refresh_token: c}}",
        "jobs:",
    ]
    for i in range(jobs):
        if i % 3 == 2:
            lines.append(
                f"  j{i}: {{needs: [j{i - 1}], import: {{to: an, table: T{i}, "
                f"file: out/{i - 1}/file.csv}}}}"
            )
        else:
            lines.append(
                f"  j{i}: {{tags: [nightly], output: out/{i}/file.csv, export: {{from: crm, "
                "module: Contacts, fields: [Last_Name, Email], criteria: {group_operator: or, "
                "group: [{api_name: Owner.last_name, comparator: equal, value: Boyle}, "
                "{api_name: Phone, comparator: contains, value: '5'}]}}}"
            )
    return "\n".join(lines) + "\n"


def test_ten_thousand_jobs_validate(write_spec) -> None:
    # How long it takes is bench/validate_speed.py's question (under 2 s).
    path = write_spec(_big_spec(10_000))
    result = validate_spec(path, {})
    assert result.ok, result.diagnostics[:3]
    assert len(result.spec.jobs) == 10_000  # type: ignore[union-attr]


def test_jobs_validated_once_per_shape_report_what_one_validation_reports() -> None:
    jobs = {
        "a": {"export": {"from": "crm", "module": "Leads"}, "output": "a.csv"},
        "b": {"export": {"from": "crm", "module": "Deals"}, "output": "b.csv"},
        "c": {"export": {"from": "crm", "module": ""}, "output": "c.csv"},
        "d": {"export": {"from": "crm", "module": "Deals", "cvid": "x1"}, "output": "d.csv"},
        "e": {"export": {"from": "crm", "module": "Deals", "cvid": "12"}, "output": "e.csv"},
        "f": {"export": {"from": "crm", "module": "X", "fields": ["A", "A"]}, "output": "f"},
        "g": {"export": {"from": "crm", "module": "X", "fields": ["A", "B"]}, "output": "g"},
        "h": {"import": {"to": "an", "table": "T", "file": "f", "mode": "updateadd"}},
        "i": {"tags": ["ok", "not ok"], "export": {"from": "an", "view": "V"}, "output": "i"},
        "j": "${JOB}",
    }
    data = {"version": 1, "connections": {}, "jobs": jobs}

    def seen(errors) -> set[tuple[tuple[object, ...], str]]:
        return {(tuple(e.absolute_path), e.message) for e in errors}

    assert seen(schema_errors(data)) == seen(spec_validator().iter_errors(data))


def test_a_long_chain_of_needs_is_checked_without_recursion(write_spec) -> None:
    lines = [
        "version: 1",
        "connections:",
        "  crm: {product: crm, org_id: '1', auth: {client_id: a, client_secret: b, "
        "refresh_token: c}}",
        "jobs:",
    ]
    for i in range(3000):
        needs = f", needs: [j{i + 1}]" if i < 2999 else ", needs: [j0]"
        lines.append(f"  j{i}: {{export: {{from: crm, module: M}}, output: o{i}.csv{needs}}}")
    result = validate_spec(write_spec("\n".join(lines) + "\n"), {})
    (cycle,) = result.errors
    assert cycle.message.startswith("needs form a cycle: j0 -> j1 -> j2 -> ")
    assert cycle.message.endswith(" -> j2999 -> j0")
