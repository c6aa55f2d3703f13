"""Live host and VM performance figures from XAPI's RRDs (no Textual)."""

from .model import SORTS, Figures, Metrics, Row, http_fetch
from .updates import Unreadable, Updates, parse

__all__ = ["SORTS", "Figures", "Metrics", "Row", "Unreadable", "Updates", "http_fetch", "parse"]
