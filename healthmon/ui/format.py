"""Display formatting shared by the pages: numbers with units, local times, and an explicit dash for no data.

Sizes the collectors divide by 1024 carry binary units (KiB, MiB, GiB) wherever they are shown.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

import pandas as pd

from healthmon.textsafe import one_line

NO_DATA = "—"
MILLISECONDS = " ms"  # fmt shows such a figure in seconds from 1,000 on
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


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


def bytes_to_text(value_bytes: float | None) -> str:
    """Binary units (GiB, MiB, KiB: powers of 1024, as the collectors divide) with the unit that keeps 1-4
    digits."""
    if value_bytes is None:
        return NO_DATA
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(value_bytes) >= size:
            return f"{value_bytes / size:,.2f} {unit}"
    return f"{value_bytes:,.0f} B"


def count_to_text(count: float | None) -> str:
    """Parameter counts as people say them: 778.4 K, 1.54 B."""
    if count is None:
        return NO_DATA
    for suffix, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(count) >= size:
            return f"{count / size:,.2f} {suffix}"
    return f"{count:,.0f}"


def local_time(ts: float | None, zone: tzinfo) -> str | None:
    """Unix seconds as a readable time in `zone` (widgets.viewer_timezone); None (shown as a dash) where there is
    no time."""
    if ts is None or pd.isna(ts):
        return None
    return datetime.fromtimestamp(float(ts), zone).strftime(TIME_FORMAT)


def fmt_duration_hours(hours: float) -> str:
    seconds = int(hours * 3600)
    days, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}d {h}h {m}m" if days else f"{h}h {m}m {s}s" if h else f"{m}m {s}s"


# Every ASCII punctuation character: CommonMark lets a backslash make each of them literal, and every construct
# Streamlit's Markdown parses starts with one of them (`:color[..]`, `:material/..:`, `$` math, `<` HTML, `&` entities,
# `[` links, `!` images, `*`/`_` emphasis, backticks).
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit's GFM turns bare `www.x.y`, `http://…` and `a@b.c` into links after parsing, on the text itself, where
# no backslash is left: a WORD JOINER (invisible, no line break) after `www` / `http` and before `@` stops that.
WORD_JOINER = "\u2060"
_BARE_LINK = re.compile(r"(?i)(?<=www)(?=\.)|(?<=http)(?=s?:)|(?=@)")


def escape_markdown(text: object) -> str:
    """Client- or model-supplied text (a model source, an error quoting one, an alert message, a name) for any
    Streamlit call that renders Markdown: st.markdown, st.caption, st.error/warning/info, st.toast, st.progress
    text, help= tooltips, metric labels and values. It renders as the characters it holds, on one line: control
    characters and newlines as visible escapes (textsafe.one_line), every ASCII punctuation character
    backslash-escaped, a WORD_JOINER where a bare link would start, the ends stripped (leading spaces would make a
    code block). The one way the pages show such text in Markdown; st.text and st.code (widgets.show_text) show
    it without Markdown at all."""
    # The text's own word joiners go first: one alone would render as a paragraph holding nothing visible.
    plain = one_line(text).replace(WORD_JOINER, "").strip()
    return _ASCII_PUNCTUATION.sub(r"\\\1", _BARE_LINK.sub(WORD_JOINER, plain))
