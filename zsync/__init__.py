"""zsync: declarative, resumable bulk exports and imports for Zoho's asynchronous job APIs."""

__version__ = "0.1.0"
