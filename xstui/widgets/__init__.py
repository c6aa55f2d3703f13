"""Reusable Textual widgets: connection bar, plan/confirm modal, validated form,
task progress, error notice."""
