"""The PostgreSQL state store's tables, created and migrated by zsync itself.

`MIGRATIONS` is the one place the schema changes: an ordered list of steps, each a list of
SQL statements; a database at version N has had the first N applied. To change the schema
append a step (never edit one that shipped: databases out there have run it). `migrate`
applies the missing ones in one transaction under an advisory lock, so runners that start
against a fresh database at the same moment don't race to create the same tables.

Every table is prefixed `zsync_` and created in the connection's default schema (the first
of its search_path): a database shared with other applications keeps zsync's tables apart,
and `?options=-csearch_path%3Dzsync` in the URL puts them in a schema of their own.
"""

from __future__ import annotations

from typing import Final

import psycopg

from zsync.errors import StateError

VERSIONS_TABLE: Final = "zsync_schema_migrations"
# Any fixed 64-bit number: the advisory lock zsync's migrations take (bytes of "zsync-st").
MIGRATION_LOCK: Final = 0x7A73796E632D7374

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: runs, jobs, Zoho jobs, the run lock and learned durations (SQLite's format 1). Records
    # are kept as JSON text exactly as zsync wrote them (not jsonb, which reorders keys):
    # jobs_text splices them as they are.
    (
        """
        CREATE TABLE zsync_runs (
            -- Ordered byte by byte, as SQLite orders them, whatever the database's locale.
            run_id TEXT COLLATE "C" PRIMARY KEY,
            scope TEXT NOT NULL,
            started_at TEXT COLLATE "C" NOT NULL,
            outcome TEXT NOT NULL,
            record TEXT NOT NULL
        )
        """,
        "CREATE INDEX zsync_runs_by_scope ON zsync_runs (scope, started_at)",
        """
        CREATE TABLE zsync_jobs (
            run_id TEXT NOT NULL,
            name TEXT NOT NULL,
            -- The job's place in its run: kept by the upsert, as SQLite keeps the rowid.
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            status TEXT NOT NULL,
            record TEXT NOT NULL,
            import_sha256 TEXT,
            import_target TEXT,
            import_mode TEXT,
            PRIMARY KEY (run_id, name)
        )
        """,
        "CREATE INDEX zsync_jobs_in_order ON zsync_jobs (run_id, seq)",
        """
        CREATE INDEX zsync_jobs_by_import ON zsync_jobs (import_sha256, import_target, import_mode)
            WHERE import_sha256 IS NOT NULL
        """,
        """
        CREATE TABLE zsync_remote_jobs (
            run_id TEXT NOT NULL,
            job TEXT NOT NULL,
            idx INTEGER NOT NULL,
            remote_id TEXT,
            refused TEXT,
            record TEXT NOT NULL,
            PRIMARY KEY (run_id, job, idx)
        )
        """,
        """
        CREATE TABLE zsync_locks (
            scope TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            -- The database's clock, not the runner's: hosts whose clocks differ agree on it.
            renewed_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE zsync_durations (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key TEXT NOT NULL,
            lower DOUBLE PRECISION,
            upper DOUBLE PRECISION NOT NULL,
            at TEXT NOT NULL
        )
        """,
        "CREATE INDEX zsync_durations_by_key ON zsync_durations (key, seq)",
    ),
    # 2: incremental exports' watermarks, and what runners on one store share
    # (zsync.state.sharing). Expiries and call times are the database's clock, in epoch
    # seconds: runners on hosts whose clocks differ agree on it.
    (
        """
        CREATE TABLE zsync_watermarks (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            run_id TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE zsync_slot_leases (
            lease TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            holder TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX zsync_slot_leases_by_key ON zsync_slot_leases (key, expires)",
        """
        CREATE TABLE zsync_limit_calls (
            call TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            started DOUBLE PRECISION NOT NULL,
            ended DOUBLE PRECISION
        )
        """,
        "CREATE INDEX zsync_limit_calls_by_key ON zsync_limit_calls (key)",
        """
        CREATE TABLE zsync_access_tokens (
            key TEXT PRIMARY KEY,
            token TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        )
        """,
    ),
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate(db: psycopg.Connection, where: str) -> None:
    """Bring the database `db` to SCHEMA_VERSION (one transaction: all steps or none)."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        found = current_version(db)
        check_version(found, where)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                db.execute(statement)
            db.execute(f"INSERT INTO {VERSIONS_TABLE} (version) VALUES (%s)", (version,))


def current_version(db: psycopg.Connection) -> int:
    """The version the database is at; 0 for a database zsync never wrote to."""
    exists = db.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSIONS_TABLE,)).fetchone()
    if not exists or not exists[0]:
        return 0
    row = db.execute(f"SELECT max(version) FROM {VERSIONS_TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def check_version(found: int, where: str) -> None:
    if found > SCHEMA_VERSION:
        raise StateError(
            f"the state store {where} was written by a newer zsync (state format {found}; "
            f"this zsync reads up to {SCHEMA_VERSION}): upgrade zsync, or point "
            "ZSYNC_STATE_URL at another database"
        )
