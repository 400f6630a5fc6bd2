"""A hostile model source (HEALTHMON_MODEL; the API refuses paths outside its allowed folders unseen), against the real
app (`streamlit run`) and the real browser (headless Chromium): the pages show its characters and never act on them,
and its newline does not forge a line in the app's log.

The source is a local path (anything without a `word:` prefix is one), so parse_model_spec keeps every character as
the model's name; its directory does not exist, so the load fails and the name reaches the error boxes too.
"""

from __future__ import annotations

import shutil

import pytest

from healthmon.runtime.sources import describe, parse_model_spec
from healthmon.textsafe import one_line
from healthmon.ui.format import WORD_JOINER
from tests.conftest import AppServer
from tests.test_browser_e2e import browser, open_page, save_screenshot  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.e2e
HOSTILE = ("x/y](http://evil.example/a)![i](http://evil.example/p.png)**b**`c` :red[red] :material/home: $x^2$ "
           "&amp; <img src=http://evil.example/h.png> admin@evil.example www.evil.example/w\n"
           "FORGED healthmon.api: token accepted")
# What the name looks like once parsed (Path folds "//" into "/"), then as the pages show it: on one line.
NAME = describe(parse_model_spec(HOSTILE))
SHOWN = one_line(NAME)
PAGES = {"model": "Model", "": "Overview", "settings": "Settings", "generate": "Generate"}


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, demo_model_dir):
    data = tmp_path_factory.mktemp("markup") / "data"
    data.mkdir()
    shutil.copytree(demo_model_dir, data / "demo-model")
    # The API loads local paths only from allowed folders, and refuses others unseen (403), so a hostile name now
    # comes from the one place left that names any path: the operator's own HEALTHMON_MODEL.
    server = AppServer(data, data.parent / "app.log", HEALTHMON_MODEL=HOSTILE).start()
    refused = server.post("/api/model/load", json={"model": HOSTILE + "-again"})
    assert refused.status_code == 403, refused.text
    server.wait_until(lambda: server.model_status() == "error", "the hostile load to fail", 60)
    yield server
    server.stop()


def test_a_newline_in_a_model_source_does_not_forge_a_log_line(hostile_app):
    log = hostile_app.log_path.read_text(errors="replace")
    assert "FORGED healthmon.api" in log  # the source was logged (loading, and why it failed) ...
    assert not [line for line in log.splitlines() if line.startswith("FORGED")]  # ... never as a line of its own
    assert "www.evil.example/w\\nFORGED" in log


@pytest.mark.parametrize("path", list(PAGES))
def test_a_hostile_model_source_reads_as_text_on_every_page_that_names_it(browser, hostile_app, path):  # noqa: F811
    page = open_page(browser, f"{hostile_app.url}/{path}")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.wait_for_selector(f"h1:has-text('{PAGES[path]}')", timeout=30_000)
        page.wait_for_function("([text, joiner]) => document.body.innerText.replaceAll(joiner, '').includes(text)",
                               arg=[SHOWN, WORD_JOINER], timeout=30_000)
        page.wait_for_timeout(1000)  # a live fragment has redrawn at least once
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("a[href*='evil.example'], a[href^='mailto']").count() == 0
        assert page.locator("img[src*='evil']").count() == 0
        markup = ".katex, .stMarkdownColoredText, [data-testid='stIconMaterial']:has-text('home')"
        assert page.locator(markup).count() == 0
        assert not [url for url in requested if "evil.example" in url]  # nothing was fetched from the page's text
        # The characters themselves are on the page: brackets, asterisks, backticks, colons, dollars, the entity.
        text = page.locator("body").inner_text().replace(WORD_JOINER, "")
        for fragment in ("![i](http:/evil.example/p.png)**b**`c`", ":red[red] :material/home: $x^2$ &amp;",
                         "<img src=http:/evil.example/h.png> admin@evil.example www.evil.example/w\\nFORGED"):
            assert fragment in text, (fragment, text[:2000])
        if path == "model":
            assert page.locator("h4", has_text="**b**`c` :red[red] :material/home: $x^2$").count() == 1  # the heading
            save_screenshot(page, "page-model-hostile-name.png")
    finally:
        page.close()
