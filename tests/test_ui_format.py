"""The pages' number formatting, as pure functions: durations in a unit that fits, an explicit dash for no data."""

from __future__ import annotations

from healthmon.ui.format import NO_DATA, fmt, fmt_seconds


def test_seconds_below_one_read_in_milliseconds_then_in_seconds() -> None:
    assert fmt_seconds(0.0425) == "42 ms"
    assert fmt_seconds(0.9994) == "999 ms"
    assert fmt_seconds(7.701) == "7.7 s"
    assert fmt_seconds(125.4) == "125 s"
    assert fmt_seconds(-0.25) == "-250 ms"  # a change can be negative
    assert fmt_seconds(None) == NO_DATA


def test_a_millisecond_figure_of_a_second_or_more_reads_in_seconds() -> None:
    """The Overview latency tile holds milliseconds: 7,701 ms did not fit its column ("7,701…")."""
    assert fmt(7701.0, " ms", 0) == "7.7 s"
    assert fmt(-1500.0, " ms", 0) == "-1.5 s"  # the tile's change over the window
    assert fmt(850.4, " ms", 0) == "850 ms"
    assert fmt(None, " ms", 0) == NO_DATA


def test_other_units_keep_their_digits() -> None:
    assert fmt(1234.567, " %") == "1,234.6 %"
    assert fmt(3, digits=0) == "3"
    assert fmt(None) == NO_DATA


def test_escape_markdown_leaves_characters_as_they_are():
    from healthmon.ui.format import escape_markdown

    assert escape_markdown("local /m/[x](http://e)*b*`c`") == r"local /m/\[x\]\(http\://e\)\*b\*\`c\`"
    assert escape_markdown("a\nb") == "a b"  # a newline cannot start a Markdown block of its own
