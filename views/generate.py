"""Generate: a chat with the monitored model through its instrumented runtime, streamed, each answer traced.

Every turn is validated by the API's own parser and admitted by the same runtime, so it counts in the request
statistics and shows in Traces like any API request. Text is written with st.code, never as Markdown (chat
bubbles would render it): the model's and the user's text must stay text. The details under an answer are
read back from the store, so they gain the relevance the background scorer adds after the answer.
"""

import time
from contextlib import closing
from typing import Any

import streamlit as st

from healthmon.generate_service import GenerateRefused
from healthmon.params import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TOP_P,
    MAX_REPETITION_PENALTY,
    MAX_TEMPERATURE,
    MIN_REPETITION_PENALTY,
)
from healthmon.target import ModelStatus, TokenStream
from healthmon.target_info import TargetInfo
from healthmon.ui.chat import Turn, relevance_pending, request_body
from healthmon.ui.format import escape_markdown, fmt, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.state import monitor
from healthmon.ui.widgets import model_caption, show_request, show_text

t = translator("generate")
m = monitor()
TURNS_KEY = "generate-turns"  # the conversation survives reruns and visits to other pages
REDRAW_SECONDS = 0.1  # at most ten redraws a second: each one is a message to the browser
PENDING_REFRESH_SECONDS = 1.0
# The page starts cooler than the API's 0.7: small chat models (SmolLM2's card suggests 0.2) wander when hotter.
PAGE_TEMPERATURE = 0.2


def model_notice(info: TargetInfo) -> None:
    """Say why a request would be refused before anyone sends it, and where to fix it."""
    messages = {ModelStatus.LOADING: t("The model is still loading. Follow its progress in Settings."),
                ModelStatus.NOT_LOADED: t("The model is not loaded. Load it from Settings."),
                ModelStatus.ERROR: t("The model failed to load. See the error and retry in Settings.")}
    if info.status in messages:
        st.warning(messages[info.status], icon=":material/hourglass_top:")
        st.page_link("views/settings.py", label=t("Open Settings"), icon=":material/settings:")


def live_figures(slot: Any, ttft_seconds: float | None, chunks: int, elapsed_seconds: float) -> None:
    with slot.container():
        cols = st.columns(3)
        cols[0].metric(t("TTFT"), fmt_seconds(ttft_seconds))
        cols[1].metric(t("≈ tokens / s"), fmt(chunks / elapsed_seconds if chunks and elapsed_seconds else None))
        cols[2].metric(t("Chunks so far"), chunks)
        st.caption(t("Live figures count streamed text chunks (about one per token); "
                     "the request's record below has the exact counts."))


def consume(stream: TokenStream) -> tuple[str, str | None]:
    """Drain the stream into the bubble as it arrives; the answer's text, and the error if it failed.

    closing() ends the generator when the script is interrupted (the viewer left or rerun), which cancels
    the generation instead of spending the model on a page nobody sees.
    """
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
    except Exception as exc:  # noqa: BLE001 - the record says what failed; the page stays up
        error = f"{type(exc).__name__}: {exc}"
    figures_slot.empty()
    with output_slot.container():  # the throttled loop may have skipped drawing the last chunks
        show_text(text)
    return text, error


def ask(turns: list[Turn], question: str, body: dict[str, Any]) -> None:
    """Through the generate service, as the API: rate limit, validate, admit, stream; refusals are recorded too."""
    turns.append(Turn("user", question))
    with st.chat_message("user"):
        show_text(question)
    # The same per-client bucket as the API's (keyed by address): the page is no way around the limit.
    address = st.context.ip_address  # None on a loopback host; not a string where no browser is (AppTest)
    client = address if isinstance(address, str) and address else "loopback"
    try:
        stream = m.generate.start(body, client=client, source="ui")
    except GenerateRefused as exc:
        turns[-1].error = refusal_message(exc)
        return
    with st.chat_message("assistant"):
        text, error = consume(stream)
    record = stream.record
    failed = error or (record.error if record is not None and not record.completed else None)
    turns.append(Turn("assistant", text, stream.trace_id, f"{t('Generation failed:')} {failed}" if failed else None))


def refusal_message(refusal: GenerateRefused) -> str:
    if refusal.reason == "rate_limited":
        return t("Rate limit reached; try again in {seconds} s.").format(seconds=refusal.headers["Retry-After"])
    if refusal.reason == "not_ready":
        return f"{t('The model is not ready:')} {refusal.message.removeprefix('model not ready: ')}"
    if refusal.reason == "busy":
        return t("The queue is full; try again in a few seconds.")
    return f"{t('Invalid request:')} {refusal.message}"


def answer_details(record: dict[str, Any] | None) -> None:
    """The stored record under an answer: one line of figures, the templated input, the whole request."""
    if record is None:
        st.caption(t("This request is no longer in history."))
        return
    st.caption(f"{fmt(record.get('output_tokens'), digits=0)} {t('tokens')} · {t('TTFT')} "
               f"{fmt_seconds(record.get('ttft_seconds'))} · {fmt(record.get('tokens_per_second'))} "
               f"{t('tokens / s')} · {t('finish')}: {record.get('finish_reason') or '—'}")
    if relevance_pending(record):
        st.caption(t("Relevance is being scored in the background…"))
    if record.get("prompt_text"):
        with st.expander(t("What the model received")):
            show_text(record["prompt_text"])
    with st.expander(t("Request")):
        show_request(record, key=f"generate-request-{record['trace_id']}")


# True while the whole page draws the pending fragment inline. Its rerun then would stop this run before it reads
# the chat input, and a question sent in that run was lost (the scorer finishing between show_turn's read and the
# fragment's; seen on a loaded machine). Only the fragment's own timed runs hand over to a rerun.
_DRAWING_PAGE = {"inline": False}


@st.fragment(run_every=PENDING_REFRESH_SECONDS)
def pending_answer_details(trace_id: str) -> None:
    """Refreshes until the background scorer has added relevance, then hands over to a plain rerun."""
    record = m.store.get_request(trace_id)
    if not relevance_pending(record) and not _DRAWING_PAGE["inline"]:
        st.rerun()
    answer_details(record)


def show_turn(turn: Turn, newest: bool) -> None:
    with st.chat_message(turn.role):
        show_text(turn.content)
        if turn.error:
            st.error(escape_markdown(turn.error), icon=":material/error:")  # may quote the request
            st.caption(t("Left out of the conversation the model sees."))
        if turn.role == "assistant" and turn.trace_id:
            record = m.store.get_request(turn.trace_id)
            if newest and relevance_pending(record):
                _DRAWING_PAGE["inline"] = True
                try:
                    pending_answer_details(turn.trace_id)
                finally:
                    _DRAWING_PAGE["inline"] = False
            else:
                answer_details(record)


st.title(t("Generate"))
info = m.target.info()
if info.is_demo:
    st.info(t("This is the built-in demo model: a tiny offline model, so its answers are only for trying the monitor."),
            icon=":material/science:")
model_caption(info)
model_notice(info)

with st.expander(t("Generation settings"), icon=":material/tune:"):
    system_prompt = st.text_area(t("System prompt"), key="generate-system", height=80, persist_state="session",
                                 help=t("Empty: the model's chat template decides (SmolLM2's adds a default system "
                                        "prompt of its own)."))
    cols = st.columns(4)
    settings = {
        "max_new_tokens": int(cols[0].number_input(
            t("Max new tokens"), min_value=1, max_value=m.settings.max_new_tokens_cap, value=DEFAULT_MAX_NEW_TOKENS,
            step=16, key="generate-max-new-tokens", persist_state="session")),
        "temperature": float(cols[1].slider(
            t("Temperature"), 0.0, MAX_TEMPERATURE, PAGE_TEMPERATURE, 0.05, key="generate-temperature",
            persist_state="session", help=t("0 is greedy decoding (deterministic)."))),
        "top_p": float(cols[2].slider(
            t("Top-p"), 0.05, 1.0, DEFAULT_TOP_P, 0.05, key="generate-top-p", persist_state="session",
            help=t("Nucleus sampling: keep the smallest set of tokens whose probability adds up to p."))),
        "repetition_penalty": float(cols[3].slider(
            t("Repetition penalty"), MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY, 1.0, 0.05,
            key="generate-repetition-penalty",
            persist_state="session", help=t("Above 1 makes tokens already in the text less likely; 1 is off."))),
        "stop": st.text_area(t("Stop strings"), key="generate-stop", height=68, persist_state="session",
                             help=t("One a line; the answer ends before the first one it produces. \\n stands for a "
                                    "newline.")),
    }

turns: list[Turn] = st.session_state.setdefault(TURNS_KEY, [])
if st.button(t("Clear conversation"), key="generate-clear", icon=":material/delete_sweep:", disabled=not turns):
    turns.clear()
if not turns:
    st.caption(t("Ask a question below: the whole conversation goes to the model each turn, and each answer is a "
                 "traced request."))
for index, turn in enumerate(turns):
    show_turn(turn, newest=index == len(turns) - 1)

question = st.chat_input(t("Ask the model something…"), key="generate-input")
if question is not None:
    ask(turns, question, request_body(turns + [Turn("user", question)], system_prompt, settings))
    st.rerun()  # draw the conversation from the session, with the stored details under the new answer
