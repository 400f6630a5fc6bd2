"""Generate: talk to the model through the monitor's instrumented runtime, streamed live, then see the request's trace.

The request is validated by the API's own parser and admitted by the same runtime, so it counts in the request
statistics and shows in Traces like any API request. Output is written with st.code, never as Markdown
(st.write_stream would render it): the model's text must stay text.
"""

import time
from contextlib import closing
from typing import Any

import streamlit as st

from healthmon.runtime.engine import GenerationStream, ModelNotReady, RuntimeBusy
from healthmon.runtime.params import (DEFAULT_MAX_NEW_TOKENS, DEFAULT_TEMPERATURE, DEFAULT_TOP_P, MAX_TEMPERATURE,
                                      InvalidRequest, parse_generate_body)
from healthmon.tracing import Trace
from healthmon.ui.format import fmt, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.state import monitor
from healthmon.ui.widgets import show_request, show_text

t = translator({
    "This is the built-in demo model: a tiny offline model, so its answers are only for trying the monitor.":
        "当前是内置演示模型：一个很小的离线模型，它的回答仅用于试用监控功能。",
    "The model is still loading. Follow its progress in Settings.": "模型仍在加载中，可在“设置”页面查看进度。",
    "The model is not loaded. Load it from Settings.": "模型尚未加载，请在“设置”页面加载。",
    "The model failed to load. See the error and retry in Settings.": "模型加载失败，请在“设置”页面查看错误并重试。",
    "Open Settings": "打开“设置”页面", "Prompt": "提示词", "Ask the model something…": "向模型提个问题……",
    "Max new tokens": "最大新 token 数", "Temperature": "温度", "0 is greedy decoding (deterministic).":
        "0 表示贪心解码（结果确定）。", "Top-p": "Top-p",
    "Nucleus sampling: keep the smallest set of tokens whose probability adds up to p.":
        "核采样：保留累计概率达到 p 的最小 token 集合。",
    "Invalid request:": "请求无效：", "The model is not ready:": "模型尚未就绪：",
    "The queue is full; try again in a few seconds.": "请求队列已满，请几秒后重试。",
    "Generation failed:": "生成失败：", "Output": "输出", "Waiting for the first token…": "等待第一个 token……",
    "TTFT": "首 token 延迟", "≈ tokens / s": "≈ token/秒", "Chunks so far": "已收到片段",
    "Live figures count streamed text chunks (about one per token); the request's record below has the exact counts.":
        "实时数字按流式文本片段计数（大约每个 token 一段）；下方的请求记录给出精确数值。",
    "Request": "请求",
})
m = monitor()
RESULT_KEY = "generate-result"  # the last answer survives reruns (a slider moved, a page revisited)
REDRAW_SECONDS = 0.1  # at most ten redraws a second: each one is a message to the browser


def model_notice(info: dict[str, Any]) -> None:
    """Say why a request would be refused before anyone sends it, and where to fix it."""
    messages = {"loading": t("The model is still loading. Follow its progress in Settings."),
                "not_loaded": t("The model is not loaded. Load it from Settings."),
                "error": t("The model failed to load. See the error and retry in Settings.")}
    if info["status"] in messages:
        st.warning(messages[info["status"]], icon=":material/hourglass_top:")
        st.page_link("views/settings.py", label=t("Open Settings"), icon=":material/settings:")


def live_figures(slot: Any, ttft_seconds: float | None, chunks: int, elapsed_seconds: float) -> None:
    with slot.container():
        cols = st.columns(3)
        cols[0].metric(t("TTFT"), fmt_seconds(ttft_seconds))
        cols[1].metric(t("≈ tokens / s"), fmt(chunks / elapsed_seconds if chunks and elapsed_seconds else None))
        cols[2].metric(t("Chunks so far"), chunks)
        st.caption(t("Live figures count streamed text chunks (about one per token); "
                     "the request's record below has the exact counts."))


def consume(stream: GenerationStream) -> dict[str, Any]:
    """Drain the stream into the page as it arrives; returns what to keep for later reruns.

    closing() ends the generator when the script is interrupted (the viewer left or rerun), which cancels
    the generation instead of spending the model on a page nobody sees.
    """
    st.markdown(f"**{t('Output')}**")
    output_slot, figures_slot = st.empty(), st.empty()
    output_slot.caption(t("Waiting for the first token…"))
    text, chunks, ttft_seconds, last_draw = "", 0, None, 0.0
    error = None
    try:
        with closing(iter(stream)) as deltas:
            for delta in deltas:
                text += delta
                chunks += 1
                if ttft_seconds is None:
                    ttft_seconds = stream.trace.elapsed_seconds()
                if time.monotonic() - last_draw >= REDRAW_SECONDS:
                    last_draw = time.monotonic()
                    with output_slot.container():
                        show_text(text)
                    live_figures(figures_slot, ttft_seconds, chunks, stream.trace.elapsed_seconds())
    except Exception as exc:  # noqa: BLE001 - the record (shown below) says what failed; the page stays up
        error = f"{type(exc).__name__}: {exc}"
    figures_slot.empty()
    with output_slot.container():  # the throttled loop may have skipped drawing the last chunks
        show_text(text)
    return {"output": text, "record": stream.record, "error": error}


def generate(body: dict[str, Any]) -> None:
    """Validate as the API does, admit, stream; keep the result in the session, or show why there is none."""
    st.session_state.pop(RESULT_KEY, None)
    trace = Trace()
    try:
        params = parse_generate_body(body, max_new_tokens_cap=m.settings.max_new_tokens_cap,
                                     max_prompt_chars=m.settings.max_prompt_chars)
    except InvalidRequest as exc:
        st.error(f"{t('Invalid request:')} {exc}", icon=":material/error:")
        return
    trace.add("validate", trace.start_seconds, trace.now())
    try:
        stream = m.runtime.stream(params, trace=trace, source="ui")
    except ModelNotReady as exc:
        st.warning(f"{t('The model is not ready:')} {exc}", icon=":material/hourglass_top:")
        st.page_link("views/settings.py", label=t("Open Settings"), icon=":material/settings:")
        return
    except RuntimeBusy:
        st.warning(t("The queue is full; try again in a few seconds."), icon=":material/hourglass_top:")
        return
    st.session_state[RESULT_KEY] = consume(stream)


st.title(t("Generate"))
info = m.runtime.info()
if info.get("is_demo"):
    st.info(t("This is the built-in demo model: a tiny offline model, so its answers are only for trying the monitor."),
            icon=":material/science:")
st.caption(f"{t('Model')}: {info['name']}")
model_notice(info)

with st.form("generate-form", border=True):
    prompt = st.text_area(t("Prompt"), key="generate-prompt", height=140, persist_state="session",
                          placeholder=t("Ask the model something…"))
    cols = st.columns(3)
    max_new_tokens = cols[0].number_input(t("Max new tokens"), min_value=1, max_value=m.settings.max_new_tokens_cap,
                                          value=DEFAULT_MAX_NEW_TOKENS, step=16, key="generate-max-new-tokens",
                                          persist_state="session")
    temperature = cols[1].slider(t("Temperature"), 0.0, MAX_TEMPERATURE, DEFAULT_TEMPERATURE, 0.05,
                                 key="generate-temperature", persist_state="session",
                                 help=t("0 is greedy decoding (deterministic)."))
    top_p = cols[2].slider(t("Top-p"), 0.05, 1.0, DEFAULT_TOP_P, 0.05, key="generate-top-p", persist_state="session",
                           help=t("Nucleus sampling: keep the smallest set of tokens whose probability adds up to p."))
    submitted = st.form_submit_button(t("Generate"), type="primary", icon=":material/send:", key="generate-submit")

if submitted:
    generate({"prompt": prompt, "max_new_tokens": int(max_new_tokens), "temperature": float(temperature),
              "top_p": float(top_p)})
elif RESULT_KEY in st.session_state:
    st.markdown(f"**{t('Output')}**")
    show_text(st.session_state[RESULT_KEY]["output"])

result = st.session_state.get(RESULT_KEY)
if result is not None and result["record"] is not None:  # its error, if the request failed, is part of it
    st.subheader(t("Request"))
    show_request(result["record"], key="generate-request")
elif result is not None and result["error"]:
    st.error(t("Generation failed:"), icon=":material/error:")
    show_text(result["error"])
