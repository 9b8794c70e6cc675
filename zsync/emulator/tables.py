"""A table of rows: generated base rows plus whatever imports and bulk writes stored on top.

Base rows come from `data.generate` on demand; updates, inserts and truncation are kept as a
small overlay, so a million-row module with three updated records holds three dicts.

Every change stamps the table with a new `version`, drawn from one process-wide counter, so
`version` alone tells a cache built from a table's rows (the Analytics SQL database) whether it
is stale, even when a table is replaced by a new one of the same name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from zsync.emulator.data import Module, Row, Value

_VERSIONS = itertools.count(1)


class Table:
    def __init__(self, module: Module, base_count: int, make_row: Callable[[int], Row]) -> None:
        self.module = module
        self.base_count = base_count
        self._make_row = make_row
        self._updates: dict[int, Row] = {}
        self._inserted: list[Row] = []
        self.columns: list[str] = module.field_names
        self.version = next(_VERSIONS)

    def __len__(self) -> int:
        return self.base_count + len(self._inserted)

    def get(self, index: int) -> Row:
        if index < 0 or index >= len(self):
            raise IndexError(index)
        if index < self.base_count:
            row = self._make_row(index)
        else:
            row = dict(self._inserted[index - self.base_count])
        if index in self._updates:
            row.update(self._updates[index])
        return row

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[Row]:
        stop = len(self) if stop is None else min(stop, len(self))
        for index in range(start, stop):
            yield self.get(index)

    def append(self, row: Row) -> int:
        self.version = next(_VERSIONS)
        self._inserted.append(dict(row))
        for column in row:
            if column not in self.columns:
                self.columns.append(column)
        return len(self) - 1

    def update(self, index: int, changes: Row) -> None:
        self.get(index)  # range check
        self.version = next(_VERSIONS)
        self._updates.setdefault(index, {}).update(changes)

    def truncate(self) -> None:
        self.version = next(_VERSIONS)
        self.base_count = 0
        self._updates.clear()
        self._inserted.clear()

    def find(self, column: str, value: Value) -> int | None:
        """First row whose `column` equals `value` (text compared case-insensitively, like Zoho)."""
        wanted = str(value).lower()
        for index in range(len(self)):
            found = self.get(index).get(column)
            if found is not None and str(found).lower() == wanted:
                return index
        return None
