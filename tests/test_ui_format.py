"""The pages' number formatting, as pure functions: durations in a unit that fits, an explicit dash for no data."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from hypothesis import given, settings, strategies as st

from healthmon.ui.format import NO_DATA, fmt, fmt_seconds, local_time


def test_seconds_below_one_read_in_milliseconds_then_in_seconds() -> None:
    assert fmt_seconds(0.0425) == "42 ms"
    assert fmt_seconds(0.9994) == "999 ms"
    assert fmt_seconds(7.701) == "7.7 s"
    assert fmt_seconds(125.4) == "125 s"
    assert fmt_seconds(-0.25) == "-250 ms"  # a change can be negative
    assert fmt_seconds(None) == NO_DATA


def test_a_time_reads_in_the_viewers_zone_and_a_missing_one_as_none() -> None:
    assert local_time(1_700_000_000.4, UTC) == "2023-11-14 22:13:20"
    assert local_time(0, timezone(timedelta(hours=-5))) == "1969-12-31 19:00:00"
    assert local_time(None, UTC) is None and local_time(float("nan"), UTC) is None  # a frame's gap


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

    assert escape_markdown("local /m/[x](http://e)*b*`c`") == (
        "local \\/m\\/\\[x\\]\\(http\u2060\\:\\/\\/e\\)\\*b\\*\\`c\\`")
    assert escape_markdown("a\nb") == r"a\\nb"  # one line: the newline shows as \n, and cannot start a block
    # Streamlit's own constructs: colors, icons, emoji, math, entities, HTML, bare links
    assert escape_markdown(":red[x] :material/home: :smile: $x$ &amp; <b>") == (
        r"\:red\[x\] \:material\/home\: \:smile\: \$x\$ \&amp\; \<b\>")
    # bare links, which Streamlit's GFM finds in the text after parsing: a word joiner breaks each
    assert escape_markdown("www.e.com HTTPS://e a@e.com") == (
        "www\u2060\\.e\\.com HTTP\u2060S\\:\\/\\/e a\u2060\\@e\\.com")
    assert escape_markdown("    indented  ") == "indented"  # four spaces would make a code block


def _markdown():
    from markdown_it import MarkdownIt

    # CommonMark plus the GFM pieces Streamlit turns on (tables, strikethrough; linkify when it is installed)
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    try:
        import linkify_it  # noqa: F401

        md = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    except ImportError:
        pass
    return md


MARKDOWN_HEAVY = st.text(alphabet=st.one_of(
    st.sampled_from(list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x00\x1b\u00a0\u3000\u2028\u202eab1")),
    st.characters()), max_size=80)


@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(MARKDOWN_HEAVY, st.text(), st.sampled_from([
    "x/y](http://evil.example)![i](http://evil.example/p.png)**b**`\n# h", "<img src=x onerror=alert(1)>",
    "&lt;b&gt; &#x3C;", "| a | b |\n| - | - |", "    code", "- item", "1. item", "> quote", "***", "~~s~~",
    "[ref]: http://evil.example", "<http://evil.example>", "www.evil.example", "HTTPS://e.x", "a@evil.example",
    "a  \nb", "\\", "x\\", "`` ` ``"])))
def test_escaped_markdown_renders_as_the_same_literal_text(text):
    """For any text, Markdown renders escape_markdown(text) as one paragraph holding exactly textsafe.one_line(text)
    (stripped; word joiners aside): no link, image, emphasis, code, heading, list, table, HTML or entity survives,
    and the text holds nothing that Streamlit's GFM would link afterwards (its two regular expressions, from
    mdast-util-gfm-autolink-literal as bundled in Streamlit 1.67, with Python's wider \\w)."""
    import html
    import re

    from healthmon.textsafe import one_line
    from healthmon.ui.format import WORD_JOINER, escape_markdown

    rendered = _markdown().render(escape_markdown(text))
    expected = one_line(text).strip().replace(WORD_JOINER, "")
    if not expected:
        assert rendered == ""
        return
    paragraph = re.fullmatch(r"<p>([^<>]*)</p>\n", rendered)
    assert paragraph, rendered
    shown = html.unescape(paragraph.group(1))
    assert shown.replace(WORD_JOINER, "") == expected
    assert not re.search(r"(?i)(https?://|www(?=\.))", shown)
    assert not re.search(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", shown)
