"""Catalog metrics in the viewer's language: one label and one help text per metric for every page."""

from __future__ import annotations

from healthmon.catalog import find, label
from healthmon.ui.i18n import translator

t = translator("metrics")


def metric_label(key: str) -> str:
    """The catalog's short label, translated; the key itself for metrics the catalog does not list."""
    return t(label(key))


def metric_help(key: str) -> str:
    """The catalog's description, translated, for a tile's or a chart's help; empty for unlisted keys."""
    found = find(key)
    return t(found.description) if found else ""
