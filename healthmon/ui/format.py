"""Display formatting shared by the pages: numbers with units, and an explicit dash for no data.

Sizes the collectors divide by 1024 carry binary units (KiB, MiB, GiB) wherever they are shown.
"""

from __future__ import annotations

import re

NO_DATA = "—"
MILLISECONDS = " ms"  # fmt shows such a figure in seconds from 1,000 on


def fmt(value: float | int | None, unit: str = "", digits: int = 1) -> str:
    """`value` with thousands separators, `digits` decimals and `unit`. A figure in milliseconds of a second
    or more reads in seconds (fmt_seconds): "7,701 ms" did not fit an Overview tile, "7.7 s" does."""
    if value is None:
        return NO_DATA
    if unit == MILLISECONDS and abs(value) >= 1000:
        return fmt_seconds(value / 1000)
    return f"{value:,.{digits}f}{unit}"


def fmt_seconds(value: float | None) -> str:
    """A duration as people read one: whole milliseconds below a second, then seconds with one decimal
    (7.7 s), whole seconds from 100 s on. Negative values (a change) take the same units."""
    if value is None:
        return NO_DATA
    if abs(value) < 1:
        return f"{value * 1000:,.0f} ms"
    return f"{value:,.1f} s" if abs(value) < 100 else f"{value:,.0f} s"


def fmt_duration_hours(hours: float) -> str:
    seconds = int(hours * 3600)
    days, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}d {h}h {m}m" if days else f"{h}h {m}m {s}s" if h else f"{m}m {s}s"


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Text that st.caption / st.markdown show as the characters they are: a model source or a path may hold
    `*`, `[`, backticks or `<`, which Markdown would turn into styling, links or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(str(text).split()))
