"""Fleet: every agent that a Prometheus scrapes, side by side, from HEALTHMON_PROMETHEUS_URL."""

import html

import streamlit as st

from healthmon import charts, fleet
from healthmon.textsafe import redact_url
from healthmon.ui.format import escape_markdown
from healthmon.ui.i18n import translator
from healthmon.ui.shaping.fleet import table_view
from healthmon.ui.state import monitor, refresh_seconds, window_bounds

t = translator("fleet")
CHARTS = {  # fleet.COMPARISONS -> (title, y axis)
    "health_score": ("Health score", "score"), "cpu_percent": ("CPU", "%"), "memory_percent": ("Memory", "%"),
    "latency_p95_seconds": ("Latency p95", "seconds"), "tokens_per_second": ("Tokens / s", "tokens/s"),
}
SCRAPE_CONFIG = """scrape_configs:
  - job_name: healthmon
    scrape_interval: 15s
    static_configs:
      - targets: ["gpu-node-1:8502", "gpu-node-2:8502"]"""

m = monitor()
st.title(t("Fleet"))
prometheus_url = m.settings.prometheus_url.strip()


def setup_help() -> None:
    st.subheader(t("No fleet source configured"))
    st.write(t("The Fleet view reads several healthmon agents from a Prometheus server. To set it up:"))
    st.write(t("1. On each model server, run an agent (it serves /metrics):"))
    st.code("HEALTHMON_API_TOKEN=<secret> python -m healthmon agent --host 0.0.0.0 --port 8502", language="bash")
    st.write(t("2. Point Prometheus at the agents: start from deploy/prometheus.yml and list each agent under "
               "`targets`:"))
    st.code(SCRAPE_CONFIG, language="yaml")
    st.write(t("3. Tell this dashboard where Prometheus is, then restart it:"))
    st.code("HEALTHMON_PROMETHEUS_URL=http://localhost:9090 streamlit run streamlit_app.py", language="bash")
    st.caption(t("deploy/healthmon-rules.yml holds the alert rules and deploy/grafana-dashboard.json a Grafana "
                 "dashboard over the same metrics."))


@st.fragment(run_every=refresh_seconds(m))
def live_fleet(client: fleet.PrometheusClient) -> None:
    since, until = window_bounds(m)
    try:
        table = fleet.fleet_table(client, at_seconds=until)
        frames = {name: fleet.compare(client, name, since, until) for name in fleet.COMPARISONS}
    except fleet.PrometheusError as exc:
        st.error(t("Cannot read the fleet from Prometheus: {error}").format(error=escape_markdown(exc)),
                 icon=":material/error:")
        st.caption(t("Check that Prometheus runs at that address and scrapes the agents (its Status → Targets page)."))
        return
    if table.empty:
        st.info(t("Prometheus answers but scrapes no healthmon agent yet (job \"healthmon\")."), icon=":material/info:")
        return
    st.dataframe(table_view(table, t), hide_index=True, width="stretch", key="fleet-table")
    for row_start in range(0, len(fleet.COMPARISONS), 2):
        columns = st.columns(2)
        for column, name in zip(columns, fleet.COMPARISONS[row_start:row_start + 2], strict=False):
            frame = frames[name]
            title, y_title = CHARTS[name]
            # Legend names are instance labels; plotly reads <a href>, <b>… in them, so they go in as entities.
            figure = charts.time_series(frame, {c: html.escape(c) for c in frame.columns if c != "ts"}, title=t(title),
                                        y_title=t(y_title))
            column.plotly_chart(figure, key=f"fleet-{name}", width="stretch")


if prometheus_url:
    st.caption(t("Agents as the Prometheus at {url} sees them.")
               .format(url=escape_markdown(redact_url(prometheus_url))))
    live_fleet(fleet.PrometheusClient(prometheus_url, fleet.urllib_get()))
else:
    setup_help()
