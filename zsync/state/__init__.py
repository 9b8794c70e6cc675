"""The state store: the one place a run records what it did (see store.py for the interface)."""
