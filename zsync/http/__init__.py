"""Talking to Zoho: hosts per data centre, OAuth tokens, retries, and where a token may go."""
