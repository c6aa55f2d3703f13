"""The embedded XAPI simulator (no Textual here)."""
