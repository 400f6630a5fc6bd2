"""Drag-to-zoom: a box selection's x range (Plotly date text or epoch ms) becomes the page's time range."""

from __future__ import annotations

import math

import pytest

from healthmon.ui.zoom import MIN_ZOOM_SECONDS, Zoom, axis_seconds, selected_range, zoom_from_box

NOW = 1_795_859_307.0  # 2026-11-28 09:48:27 UTC
HOUR = 3600.0


def test_axis_seconds_reads_plotly_date_text_as_utc_and_numbers_as_epoch_ms():
    assert axis_seconds("2026-11-28 09:48:27") == NOW
    assert axis_seconds("2026-11-28 09:48:27.2374") == pytest.approx(NOW + 0.2374)
    assert axis_seconds("2026-11-28 09:48:27.123456789") == pytest.approx(NOW + 0.123456)
    assert axis_seconds("2026-11-28T09:48:27+00:00") == NOW
    assert axis_seconds("2026-11-28") == NOW - (9 * 3600 + 48 * 60 + 27)
    assert axis_seconds(NOW * 1000) == NOW
    for bad in ("yesterday", None, True, math.nan, [1]):
        with pytest.raises((ValueError, TypeError)):
            axis_seconds(bad)


def test_selected_range_takes_the_first_box_and_ignores_the_rest():
    event = {"selection": {"points": [], "box": [{"xref": "x", "x": ["a", "b"], "y": [0, 1]}], "lasso": []}}
    assert selected_range(event) == ("a", "b")
    assert selected_range({"selection": {"points": [], "box": [], "lasso": []}}) is None
    assert selected_range({"selection": {"box": [{"x": ["only one"]}]}}) is None
    assert selected_range(None) is None and selected_range({}) is None


def test_a_box_in_the_past_is_a_fixed_zoom():
    zoom = zoom_from_box(("2026-11-28 08:50:00", "2026-11-28 09:20:00"), NOW - HOUR, NOW)
    assert zoom == Zoom(since=NOW - 3507, until=NOW - 1707, seconds=1800)
    assert not zoom.live and zoom.bounds(NOW + 500) == (NOW - 3507, NOW - 1707)


def test_a_box_reaching_the_right_edge_follows_now():
    zoom = zoom_from_box(((NOW - 600) * 1000, (NOW - 30) * 1000), NOW - HOUR, NOW)  # within 2 % of the edge
    assert zoom.live and zoom.seconds == pytest.approx(570)
    assert zoom.bounds(NOW + 100) == (NOW + 100 - zoom.seconds, NOW + 100)


def test_a_box_is_clamped_into_what_the_chart_showed_and_kept_wide_enough():
    reversed_and_wide = zoom_from_box(((NOW + 999) * 1000, (NOW - 2 * HOUR) * 1000), NOW - HOUR, NOW)
    assert reversed_and_wide.live and reversed_and_wide.seconds == HOUR
    tiny = zoom_from_box(((NOW - 1000) * 1000, (NOW - 999) * 1000), NOW - HOUR, NOW)
    assert tiny.seconds == pytest.approx(MIN_ZOOM_SECONDS) and tiny.since == pytest.approx(NOW - 1004.5)
    at_the_start = zoom_from_box(((NOW - HOUR) * 1000, (NOW - HOUR + 1) * 1000), NOW - HOUR, NOW)
    assert at_the_start.since == NOW - HOUR and at_the_start.until == NOW - HOUR + MIN_ZOOM_SECONDS
    narrow_range = zoom_from_box(((NOW - 3) * 1000, (NOW - 2) * 1000), NOW - 5, NOW)
    assert narrow_range.seconds == 5 and narrow_range.live


def test_a_box_outside_the_range_or_without_times_asks_for_nothing():
    assert zoom_from_box(((NOW + 10) * 1000, (NOW + 20) * 1000), NOW - HOUR, NOW) is None
    assert zoom_from_box(("not a time", "2026-11-28 08:40:00"), NOW - HOUR, NOW) is None
