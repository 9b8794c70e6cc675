"""Zoho's own SDKs, unchanged, against the emulator (needs the `compat` extra)."""
