"""The Fleet page's table: Prometheus's rows with readable cells."""

from __future__ import annotations

import pandas as pd

from healthmon.ui.shaping import Translate


def headers(words: Translate) -> dict[str, str]:
    """fleet.TABLE_COLUMNS -> header in the page's language."""
    return {"instance": words("Instance"), "up": words("Up"), "status": words("Status"),
            "health_score": words("Health score"), "cpu_percent": words("CPU %"), "memory_percent": words("Memory %"),
            "latency_p95_seconds": words("Latency p95 (s)"), "tokens_per_second": words("Tokens / s"),
            "active_alerts": words("Active alerts"), "model": words("Model")}


def status_text(up: object, status: object, words: Translate) -> str | None:
    """'down' for an agent Prometheus cannot scrape, whatever status it reported last; else its status."""
    if up == 0:
        return words("down")
    if pd.isna(status) or not status:
        return None
    return words(str(status).replace("_", " "))


def table_view(table: pd.DataFrame, words: Translate) -> pd.DataFrame:
    """Readable cells: translated headers and statuses, up as yes/no (empty where Prometheus has no up)."""
    shown = table.copy()
    shown["status"] = [status_text(up, status, words)
                       for up, status in zip(shown["up"], shown["status"], strict=True)]
    shown["up"] = shown["up"].map(lambda up: None if pd.isna(up) else bool(up))
    return shown.rename(columns=headers(words))
