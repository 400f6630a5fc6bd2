"""Settings: the model source and its loading, monitoring on/off, intervals, language and the effective config."""

from typing import TYPE_CHECKING

import streamlit as st

from healthmon.remote.target import RemoteTarget
from healthmon.runtime.sources import ACCEPTED_FORMS, ModelSourceError, describe, parse_model_spec
from healthmon.target import ModelStatus
from healthmon.target_info import TargetInfo
from healthmon.ui.format import NO_DATA, count_to_text, escape_markdown, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_help, metric_label
from healthmon.ui.shaping.settings import config_frame, spec_text
from healthmon.ui.state import language_selector, monitor, refresh_seconds
from healthmon.ui.widgets import show_text

if TYPE_CHECKING:
    from healthmon.runtime.engine import ModelRuntime

t = translator("settings")
m = monitor()


def load_model() -> None:
    """A callback, so the status panel above already shows the load when the page redraws."""
    try:
        spec = parse_model_spec(st.session_state["settings-model-spec"])
    except ModelSourceError as exc:
        st.session_state["settings-load-error"] = str(exc)
        return
    st.session_state.pop("settings-load-error", None)
    if m.target.info().status is ModelStatus.LOADING:
        st.toast(t("The model is already loading."), icon=":material/hourglass_top:")
        return
    m.target.load_async(spec)
    st.toast(f"{t('Loading')} {escape_markdown(describe(spec))}", icon=":material/download:")


def switch_monitoring(action: str) -> None:
    {"start": m.start, "stop": m.stop, "restart": m.restart}[action]()
    words = {"start": "Monitoring started.", "stop": "Monitoring stopped.", "restart": "Monitoring restarted."}
    st.toast(t(words[action]), icon=":material/check:")


def model_facts(info: TargetInfo) -> None:
    """The name on its own line (hub ids and paths outgrow a metric tile), then short facts as metrics, only while
    loaded."""
    architecture = f" · {escape_markdown(info.architecture)}" if info.loaded and info.architecture else ""
    st.markdown(f"{t('Current')}: **{escape_markdown(info.name)}**{architecture}")  # the client's text, as text
    cols = st.columns(5)
    cols[0].metric(t("State"), t(info.status.value.replace("_", " ")))
    facts = info.facts  # a remote server's weights, device and dtype are its own: it has none here
    if info.loaded and facts is not None:
        cols[1].metric(metric_label("load_seconds"), fmt_seconds(info.load_seconds),
                       help=metric_help("load_seconds"))
        cols[2].metric(metric_label("parameters"), count_to_text(facts.parameters),
                       help=metric_help("parameters"))
        cols[3].metric(t("Device"), escape_markdown(facts.device or NO_DATA))
        cols[4].metric(t("Data type"), escape_markdown(facts.dtype or NO_DATA))


st.title(t("Settings"))
st.subheader(t("Model source"))


@st.fragment(run_every=refresh_seconds(m))
def model_status() -> None:
    info = m.target.info()
    model_facts(info)
    if info.status is ModelStatus.LOADING:
        progress = info.progress
        fraction = progress.fraction if progress else None
        st.progress(fraction if fraction is not None else 0.0,
                    text=f"{t('Loading')} {escape_markdown(info.name)}: "
                         f"{escape_markdown((progress.message if progress else None) or t('starting'))}"
                         + (f" ({fraction:.0%})" if fraction is not None else ""))
    elif info.status is ModelStatus.ERROR:
        st.error(t("The remote server does not answer:") if info.is_remote else t("The model failed to load:"),
                 icon=":material/error:")
        show_text(info.error or "")


def remote_source(info: TargetInfo) -> None:
    """A remote target serves its own model: where it is, and a health check on demand."""
    source_col, button_col = st.columns([5, 1], vertical_alignment="bottom")
    source_col.caption(t("Watching the OpenAI-compatible server at {url}; set HEALTHMON_MODEL to watch another.")
                       .format(url=escape_markdown(info.ref)))
    button_col.button(t("Check now"), key="settings-check", on_click=m.target.load_async,
                      icon=":material/refresh:", width="stretch")


def local_source(runtime: "ModelRuntime") -> None:
    st.session_state.setdefault("settings-model-spec", spec_text(runtime.spec))
    source_col, button_col = st.columns([5, 1], vertical_alignment="bottom")
    source_col.text_input(t("New model source"), key="settings-model-spec", persist_state="session",
                          help=t(ACCEPTED_FORMS), placeholder="demo · modelscope:Qwen/Qwen2.5-0.5B-Instruct · "
                                                              "hf:Qwen/Qwen2.5-0.5B-Instruct · /a/dir")
    button_col.button(t("Load / reload"), key="settings-load", on_click=load_model, type="primary",
                      icon=":material/download:", width="stretch")
    if "settings-load-error" in st.session_state:
        st.error(escape_markdown(st.session_state["settings-load-error"]), icon=":material/error:")
    st.caption(t("Downloads go to the data directory; a failed load leaves the monitor running and says why here."))


model_status()
if isinstance(m.target, RemoteTarget):
    remote_source(m.target.info())
else:
    from healthmon.runtime.engine import ModelRuntime  # here, not above: it brings torch, a remote target does not

    if isinstance(m.target, ModelRuntime):
        local_source(m.target)

st.subheader(t("Monitoring"))


@st.fragment(run_every=refresh_seconds(m))
def monitoring() -> None:
    running = m.running
    cols = st.columns(3)
    cols[0].metric(t("State"), t("running") if running else t("stopped"))
    cols[1].metric(t("Collection cycles"), m.loop.cycles_total)
    cols[2].metric(t("Last cycle"), fmt_seconds(m.loop.last_cycle_seconds))
    buttons = st.columns([1, 1, 1, 3])
    buttons[0].button(t("Start"), key="settings-start", on_click=switch_monitoring, args=("start",),
                      disabled=running, icon=":material/play_arrow:", width="stretch")
    buttons[1].button(t("Stop"), key="settings-stop", on_click=switch_monitoring, args=("stop",),
                      disabled=not running, icon=":material/stop:", width="stretch")
    buttons[2].button(t("Restart"), key="settings-restart", on_click=switch_monitoring, args=("restart",),
                      icon=":material/restart_alt:", width="stretch")
    st.caption(t("Stopping pauses collection and canary probes; the model stays loaded and the API keeps answering."))


monitoring()

st.subheader(t("Intervals"))
cols = st.columns(2)
cols[0].metric(t("Collection interval"), f"{m.settings.interval:g} s", help="HEALTHMON_INTERVAL")
cols[1].metric(t("Probe interval"), f"{m.settings.probe_interval:g} s" if m.settings.probe_interval else t("off"),
               help="HEALTHMON_PROBE_INTERVAL")
st.caption(t("Both are set when the app starts, from `HEALTHMON_INTERVAL` and `HEALTHMON_PROBE_INTERVAL` "
             "(or healthmon.toml); restart the app to change them."))

st.subheader(t("Interface"))
language_selector()

st.subheader(t("Effective configuration"))
config = config_frame(m.settings.public_dict())
st.dataframe(config, hide_index=True, height="content", key="settings-config",
             column_config={column: t(column) for column in config.columns})
st.caption(t("Secrets (the API token, the webhook URL) are shown only as set or not."))
