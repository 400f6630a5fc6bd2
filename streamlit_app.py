"""healthmon: the Streamlit pages and, on the same port, the REST API (st.App routes).

Streamlit executes this file twice: imported as a module for the ASGI app, and as __main__ for each
script run. The Monitor therefore lives in healthmon.monitor's process-wide registry, never here.
"""

from contextlib import asynccontextmanager

import streamlit as st

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.monitor import get_monitor, release_monitor


@asynccontextmanager
async def lifespan(_app):
    get_monitor()  # collect from the moment the server starts, not from the first page view
    yield
    release_monitor()


app = st.App("streamlit_app.py", routes=build_routes(get_monitor, load_settings().cors_origins), lifespan=lifespan)

if __name__ == "__main__":
    st.set_page_config(page_title="healthmon", page_icon=":material/monitor_heart:", layout="wide")
    navigation = st.navigation([
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    ])
    navigation.run()
