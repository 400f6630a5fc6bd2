"""The Load test page in headless Chromium against the real app: a run against the app's own /v1, its live
progress, then the result table and charts; a full-page screenshot in test-artifacts/."""

from __future__ import annotations

import pytest

from tests.test_browser_e2e import browser, open_page, save_screenshot  # noqa: F401 - browser: the fixture

pytestmark = pytest.mark.e2e


def test_a_run_against_the_app_s_own_v1_shows_progress_then_the_result(browser, app_factory, data_dir):  # noqa: F811
    server = app_factory(data_dir)
    page = open_page(browser, f"{server.url}/load_test")
    try:
        page.wait_for_selector("h1:has-text('Load test')", timeout=30_000)
        page.get_by_label("Concurrency levels").fill("1,2")
        page.get_by_label("Requests per level").fill("6")
        page.get_by_label("Max tokens per answer").fill("16")
        page.get_by_role("button", name="Start").click()
        # The fragment's progress line, while the run goes on (12 demo-model requests take seconds).
        page.wait_for_selector("[data-testid='stProgress']", timeout=30_000)
        assert "concurrency" in page.locator("[data-testid='stProgress']").inner_text()
        page.get_by_text("Capacity: concurrency").or_(page.get_by_text("No level kept")).wait_for(timeout=120_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stDataFrame']").count() == 1
        save_screenshot(page, "page-load-test.png")
    finally:
        page.close()
    status = server.get("/api/load-test").json()
    assert status["state"] == "finished"
    levels = status["report"]["levels"]
    assert [level["concurrency"] for level in levels] == [1, 2]
    assert all(level["errors"] == 0 and level["requests"] == 6 for level in levels), levels
