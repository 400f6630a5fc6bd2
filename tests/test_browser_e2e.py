"""Every page in headless Chromium against the real app: no exception, charts with data, a streamed generation.

Screenshots of every page land in test-artifacts/ (Debian's chromium driven by Playwright's Python client).
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, AppServer

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {  # url path -> (title, has charts with data)
    "": ("Overview", True), "system": ("System", True), "model": ("Model", True), "analysis": ("Analysis", True),
    "alerts": ("Alerts", False), "traces": ("Traces", False), "generate": ("Generate", False),
    "fleet": ("Fleet", False), "settings": ("Settings", False),
}
# _fullData: the traces as plotly.js drew them, base64 arrays decoded (plot.data keeps the {dtype, bdata} spec)
PLOTTED_POINTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    plot => (plot._fullData || []).reduce(
        (n, trace) => n + ((trace.y || trace.x || trace.values || [trace.value]).length || 0), 0))"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory, demo_model_dir):
    data = tmp_path_factory.mktemp("browser") / "data"
    data.mkdir()
    shutil.copytree(demo_model_dir, data / "demo-model")
    server = AppServer(data, data.parent / "app.log", HEALTHMON_PROBE_INTERVAL="2").start()
    for index in range(4):
        answer = server.post("/api/model/generate", json={"prompt": f"Tell me about disks, part {index}.",
                                                          "max_new_tokens": 12 + 4 * index})
        assert answer.status_code == 200, answer.text
    server.wait_until(lambda: len(server.get("/api/health/metrics?window=15m").json()["system_metrics"]) >= 3,
                      "three samples in history", 30)
    yield server
    server.stop()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    return page


# Streamlit scrolls the main area, or, on a page with a chat input, the container that keeps it at the bottom.
SCROLL_HEIGHT_JS = """() => Math.max(1000, ...["stMain", "stAppScrollToBottomContainer"].map(
    id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight || 0))"""


def save_screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so full_page alone stops at the viewport;
    a viewport as tall as the content shows every chart."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(SCROLL_HEIGHT_JS)
    page.set_viewport_size({"width": 1400, "height": min(max(1000, int(height) + 40), 12_000)})
    page.wait_for_timeout(500)  # charts re-lay out to the new size
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_without_exception(browser, app, path):
    title, has_charts = PAGES[path]
    page = open_page(browser, f"{app.url}/{path}")
    try:
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
        if has_charts:
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0", timeout=30_000)
            page.wait_for_timeout(500)
            points = page.evaluate(PLOTTED_POINTS_JS)
            assert any(count > 0 for count in points), f"{title}: no chart holds data ({points})"
        assert page.locator("[data-testid='stException']").count() == 0, f"{title} shows an exception"
        assert page.locator("[data-testid='stSidebar'] [data-testid='stSidebarNav']").count() == 1
        save_screenshot(page, f"page-{path or 'overview'}.png")
    finally:
        page.close()


def test_generate_page_streams_text_and_counts_the_request(browser, app):
    before = app.get("/api/health/status").json()["request_stats"]["total_requests"]
    page = open_page(browser, f"{app.url}/generate")
    try:
        page.locator("[data-testid='stChatInputTextArea']").fill("What does a health monitor do? <b>bold</b>")
        page.locator("[data-testid='stChatInputSubmitButton']").click()
        page.wait_for_function("""() => Array.from(document.querySelectorAll("[data-testid='stCode'] code"))
                                   .some(code => code.innerText.trim().length > 0)""", timeout=60_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("b:has-text('bold')").count() == 0  # the prompt is text, never markup
        save_screenshot(page, "page-generate-after.png")
    finally:
        page.close()
    # The script has finished, so the request was recorded: statistics and history (reads see unflushed writes).
    assert app.get("/api/health/status").json()["request_stats"]["total_requests"] == before + 1
    newest = app.get("/api/traces").json()["traces"][0]
    assert newest["source"] == "ui" and newest["status"] == "ok"


# null while the chart is (re)mounting: a zoom or a refresh replaces the element
X_RANGE_JS = """key => { const plot = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    if (!plot || !plot._fullData || !plot._fullData[0] || !plot._fullData[0].x) return null;
    const xs = Array.from(plot._fullData[0].x); return [Math.min(...xs), Math.max(...xs)]; }"""


def x_range(page, key: str) -> list[float]:
    """The chart's x data range once it is drawn (the handle from wait_for_function holds the value itself)."""
    return page.wait_for_function(f"() => ({X_RANGE_JS})('{key}')", timeout=30_000).json_value()


def write_history(data_dir: Path, minutes: int, step_seconds: float = 5.0) -> None:
    """System samples for the last `minutes`, as if the app had been running (the app flushes its own later)."""
    from healthmon.config import load_settings
    from healthmon.store.sqlite import HistoryStore

    now = time.time()
    with HistoryStore(load_settings(env={}, model="demo", data_dir=data_dir).db_path) as store:
        for index in range(int(minutes * 60 / step_seconds)):
            ts = now - minutes * 60 + index * step_seconds
            store.append_sample("system", ts, {"cpu_usage": 30 + 20 * math.sin(index / 20),
                                               "memory_usage": 50 + 5 * math.cos(index / 30)})


def test_dragging_across_a_chart_zooms_every_chart_and_keeps_the_zoom(browser, app_factory, data_dir):
    write_history(data_dir, minutes=40)
    server = app_factory(data_dir)
    page = open_page(browser, f"{server.url}/system")
    try:
        page.wait_for_function("() => document.querySelector('.st-key-chart-cpu .js-plotly-plot')?._fullData",
                               timeout=30_000)
        before = x_range(page, "chart-cpu")
        for attempt in range(3):  # a redraw landing mid-drag remounts the chart and drops the drag, as for a user
            # mid-remount the old and the new chart are both in the page for a moment: drag the first, as a user would
            area = page.locator(".st-key-chart-cpu .nsewdrag").first.bounding_box()
            page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + 10)
            page.mouse.down()
            page.mouse.move(area["x"] + area["width"] * 0.5, area["y"] + area["height"] - 10, steps=8)
            page.mouse.up()
            try:
                page.get_by_text("Zoomed in:").wait_for(timeout=10_000)
                break
            except Exception:  # noqa: BLE001 - playwright's TimeoutError: try the drag again
                if attempt == 2:
                    raise
        page.wait_for_function(f"() => {{ const r = ({X_RANGE_JS})('chart-memory'); return r !== null && r[1] - r[0] < "
                               f"{(before[1] - before[0]) * 0.5}; }}", timeout=30_000)  # another chart followed
        zoomed = x_range(page, "chart-memory")
        assert before[0] <= zoomed[0] and zoomed[1] < before[1] - 5 * 60_000  # a stretch of the past
        page.wait_for_timeout(6_000)  # longer than a live chart refresh (5 s)
        assert x_range(page, "chart-memory") == zoomed
        assert x_range(page, "chart-cpu") == zoomed
        save_screenshot(page, "page-system-zoomed.png")
        page.get_by_role("button", name="Reset zoom").click()
        page.wait_for_function("() => !document.body.innerText.includes('Zoomed in:')", timeout=30_000)
        page.wait_for_function(f"() => (({X_RANGE_JS})('chart-memory') || [Infinity])[0] <= {before[0]}",
                               timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.close()


def test_a_deep_link_on_a_fresh_server_goes_through_navigation(browser, app_factory, data_dir):
    server = app_factory(data_dir)
    page = open_page(browser, f"{server.url}/alerts")
    try:
        page.wait_for_selector("h1:has-text('Alerts')", timeout=30_000)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Overview" in nav and "streamlit app" not in nav.lower()
        page.get_by_text("Time window").first.wait_for(timeout=30_000)  # the entry file's sidebar ran
    finally:
        page.close()


def test_a_page_load_asks_no_host_but_the_app(browser, app):
    """An offline app asks no one: every request a page load makes, the favicon and fonts included, goes to the
    app's own loopback address. A :material/...: page icon made each load ask fonts.gstatic.com for the favicon;
    the icon is a local file now. Requests elsewhere are recorded and aborted, so the test needs no network."""
    from urllib.parse import urlsplit

    elsewhere: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", guard)
    try:
        page = context.new_page()
        icons = []
        for path in ("", "model", "traces"):
            page.goto(f"{app.url}/{path}")
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
            page.wait_for_load_state("networkidle")
            icons.append(page.eval_on_selector("link[rel~='icon']", "link => link.href"))
        assert elsewhere == [], f"a page load asked other hosts: {elsewhere}"
        assert all(not icon.startswith("https://") for icon in icons), icons  # the favicon is the app's own
    finally:
        context.close()
