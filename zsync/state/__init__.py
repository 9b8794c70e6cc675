"""The state store: the one place a run records what it did (see store.py for the interface)."""

# The state directory's name: `zsync run` keeps it beside the job file unless told otherwise.
STATE_DIR_NAME = ".zsync"
# Read by run, status and runs alike, in place of --state-dir.
STATE_DIR_VARIABLE = "ZSYNC_STATE_DIR"
