"""healthmon: the Streamlit pages and, on the same port, the REST API (st.App routes).

Streamlit executes this file twice: imported as a module for the ASGI app, and as __main__ for each
script run. The Monitor therefore lives in healthmon.registry's process-wide registry, never here.
"""

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from healthmon.api import build_routes
from healthmon.api.guard import GuardMiddleware, served_names
from healthmon.config import load_settings
from healthmon.export.prometheus import metrics_route
from healthmon.registry import get_monitor, release_monitor
from healthmon.ui.gate import exposure_warning, require_access


@asynccontextmanager
async def lifespan(_app):
    monitor = get_monitor()  # collect from the moment the server starts, not from the first page view
    warning = exposure_warning(st.get_option("server.address") or "", bool(monitor.settings.api_token))
    if warning:
        logging.getLogger("healthmon").warning(warning)
    yield
    release_monitor()


settings = load_settings()
app = st.App("streamlit_app.py", lifespan=lifespan,
             routes=[metrics_route(get_monitor), *build_routes(get_monitor, settings.cors_origins)],
             middleware=[Middleware(GuardMiddleware,
                                    names=served_names(st.get_option("server.address") or "", settings.allowed_hosts),
                                    origins=settings.cors_origins)])

FAVICON = Path(__file__).parent / "healthmon" / "ui" / "favicon.png"
PAGES = (  # file, English title, icon
    ("views/overview.py", "Overview", ":material/dashboard:"),
    ("views/system.py", "System", ":material/memory:"),
    ("views/model.py", "Model", ":material/neurology:"),
    ("views/analysis.py", "Analysis", ":material/query_stats:"),
    ("views/alerts.py", "Alerts", ":material/notifications:"),
    ("views/traces.py", "Traces", ":material/timeline:"),
    ("views/generate.py", "Generate", ":material/chat:"),
    ("views/load_test.py", "Load test", ":material/speed:"),
    ("views/fleet.py", "Fleet", ":material/lan:"),
    ("views/settings.py", "Settings", ":material/settings:"),
)

if __name__ == "__main__":
    from healthmon.ui.i18n import translator
    from healthmon.ui.state import monitor, sidebar_controls

    # A local file: a :material/...: or emoji icon makes every page load ask Google's font server for the favicon.
    st.set_page_config(page_title="healthmon", page_icon=str(FAVICON), layout="wide")
    if not require_access():
        st.stop()
    warning = exposure_warning(st.get_option("server.address") or "", bool(monitor().settings.api_token))
    if warning:
        st.warning(warning, icon=":material/lock_open:")
    t = translator()
    navigation = st.navigation([st.Page(path, title=t(title), icon=icon, default=index == 0)
                                for index, (path, title, icon) in enumerate(PAGES)])
    sidebar_controls(monitor())
    navigation.run()
