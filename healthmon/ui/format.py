"""Display formatting shared by the pages: numbers with units, and an explicit dash for no data."""

from __future__ import annotations

NO_DATA = "—"


def fmt(value: float | int | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return NO_DATA
    return f"{value:,.{digits}f}{unit}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return NO_DATA
    return f"{value * 1000:,.0f} ms" if value < 1 else f"{value:,.2f} s"


def fmt_duration_hours(hours: float) -> str:
    seconds = int(hours * 3600)
    days, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}d {h}h {m}m" if days else f"{h}h {m}m {s}s" if h else f"{m}m {s}s"
