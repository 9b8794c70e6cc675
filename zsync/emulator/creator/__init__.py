"""Zoho Creator: state in models.py, wire format in responses.py."""
