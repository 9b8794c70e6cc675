"""A diagnostic: one problem in a job file, with where it is and how bad it is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]
Path = tuple[str | int, ...]


class Diagnostic(NamedTuple):
    file: str
    line: int
    column: int
    path: str
    severity: Severity
    message: str

    def render(self) -> str:
        """`jobs.yaml:14:7: error: jobs.a.export.module: missing ...` (the compiler convention)."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"

    def as_json(self) -> dict[str, object]:
        return self._asdict()


def format_path(path: Path) -> str:
    """`jobs.crm_contacts.export.fields[2]`; keys that aren't plain words are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _is_plain(part) else f'"{part}"'
            out += f".{text}" if out else text
    return out


def _is_plain(key: str) -> bool:
    return bool(key) and all(c.isalnum() or c in "_-$" for c in key)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """In file order, without repeats (two rules may report the same thing)."""
    return sorted(set(diagnostics), key=lambda d: (d.file, d.line, d.column, d.path, d.message))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)
