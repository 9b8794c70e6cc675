"""One module per command, each a plain function that prints and returns an exit code.

What the CLI needs to declare its options lives here, not in the command modules: importing
one of those loads all the command needs (the spec checker, the state store...), and the CLI
imports each only when its command runs.
"""

from pathlib import Path
from typing import Literal

from zsync.state import STATE_DIR_NAME

OutputFormat = Literal["text", "json"]
# How many runs `zsync runs` lists unless --limit says otherwise.
DEFAULT_RUNS_LIMIT = 20


def state_dir_to_read(state_dir: str | None, job_file: str | None) -> Path:
    """Where status and runs look: --state-dir (or ZSYNC_STATE_DIR) as given, else beside
    --job-file as `zsync run` keeps it, else .zsync/ here."""
    if state_dir:
        return Path(state_dir)
    if job_file:
        return Path(job_file).parent / STATE_DIR_NAME
    return Path(STATE_DIR_NAME)
