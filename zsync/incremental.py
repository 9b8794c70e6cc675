"""An incremental export's filter: the job's own export with `field >= since` added.

CRM and Bigin get a `greater_equal` condition on the field, joined to the job's criteria
with `and` in a group of their own (so an `or` group of the job stays intact). Bigin's
bulk-read pages (seed 003) list only equal/in/between for Date and DateTime, yet their own
sample filters `Created_Time` with `greater_equal`, which CRM's pages list too: the sample is
followed. An Analytics view gets `"column" >= 'since'`, and-ed to its criteria in brackets; an
SQL export, which takes no criteria, is wrapped as `SELECT * FROM (query) WHERE …` (Analytics
runs subqueries in every dialect it accepts). Creator gets `field >= 'since'` in its own
criteria syntax (a date-time literal single-quoted as Creator writes it,
`'24-Nov-2026 10:00:00'`), joined to the job's criteria with `&&` in brackets, so a `||` in
them stays intact.
"""

from __future__ import annotations

import dataclasses

from zsync.spec.model import (
    AnalyticsExport,
    BulkReadExport,
    Condition,
    CreatorExport,
    Export,
    Group,
)

SUBQUERY_ALIAS = "zsync_incremental"


def since_filtered(export: Export, since: str) -> Export:
    """`export` reading only rows whose incremental field is `since` or later."""
    if isinstance(export, BulkReadExport):
        assert export.incremental is not None
        bound = Condition(export.incremental.field, "greater_equal", since)
        criteria = bound if export.criteria is None else Group("and", (export.criteria, bound))
        return dataclasses.replace(export, criteria=criteria)
    if isinstance(export, AnalyticsExport):
        assert export.incremental is not None
        condition = f"{_quoted_name(export.incremental.field)} >= {_quoted_text(since)}"
        if export.sql is not None:
            query = export.sql.strip().rstrip(";").rstrip()
            sql = f"SELECT * FROM ({query}) AS {SUBQUERY_ALIAS} WHERE {condition}"
            return dataclasses.replace(export, sql=sql)
        text = condition if export.criteria is None else f"({export.criteria}) and {condition}"
        return dataclasses.replace(export, criteria=text)
    if isinstance(export, CreatorExport):
        assert export.incremental is not None
        literal = _quoted_text(since, escape="\\")
        condition = f"{export.incremental.field} >= {literal}"
        text = condition if export.criteria is None else f"({export.criteria}) && {condition}"
        return dataclasses.replace(export, criteria=text)
    raise TypeError(f"{type(export).__name__} exports aren't incremental")


def _quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted_text(text: str, escape: str = "'") -> str:
    """`text` in single quotes; a quote inside is doubled (Analytics' SQL) or escaped with a
    backslash (Creator's Deluge-style criteria). A watermark holds none: it is a date-time."""
    return "'" + text.replace("'", escape + "'") + "'"
