"""Zoho Analytics: state in models.py, wire format in responses.py."""
