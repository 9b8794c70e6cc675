"""One module per command, each a plain function that prints and returns an exit code.

What the CLI needs to declare its options lives here, not in the command modules: importing
one of those loads all the command needs (the spec checker, the state store...), and the CLI
imports each only when its command runs.
"""

from typing import Literal

OutputFormat = Literal["text", "json"]
# How many runs `zsync runs` lists unless --limit says otherwise.
DEFAULT_RUNS_LIMIT = 20
