"""zsync: declarative, resumable bulk exports and imports for Zoho's asynchronous job APIs.

From Python (an Airflow task, a Dagster op): `zsync.run("jobs.yaml")` returns the run's
`RunResult` (see zsync.api).
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = ("run", "run_async", "RunResult", "RunFailed")

if TYPE_CHECKING:
    from zsync.api import RunFailed, RunResult, run, run_async
else:

    def __getattr__(name: str) -> Any:
        # Loaded when first used: `import zsync` (the CLI does, for the version) stays light.
        if name in _API:
            from zsync import api

            return getattr(api, name)
        raise AttributeError(f"module 'zsync' has no attribute {name!r}")


__all__ = ["RunFailed", "RunResult", "__version__", "run", "run_async"]
