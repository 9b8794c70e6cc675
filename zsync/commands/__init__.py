"""One module per command, each a plain function that prints and returns an exit code."""
