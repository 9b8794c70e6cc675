"""Where results land: atomic, streamed files with their size, rows and sha256."""
