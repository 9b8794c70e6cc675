"""Zoho Crm: state in models.py, wire format in responses.py."""
