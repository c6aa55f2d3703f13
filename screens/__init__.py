"""Textual screens, one module per area (installed as xstui.screens)."""
