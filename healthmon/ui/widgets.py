"""What the Alerts, Traces, Generate and Settings pages share: pure table builders and the request view.

Prompts, model output and error texts go through st.code or st.text only (show_text), never Markdown or HTML: a
model can be talked into printing `<script>` or a Markdown image link, and the page must show those characters,
not act on them. Where such text must sit in a Markdown element (a caption, a metric, an alert box), it goes
through format.escape_markdown first.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from healthmon.analysis.rules import METRICS, BaselineRule, ForecastRule, Rule, ThresholdRule, format_value
from healthmon.catalog import spec
from healthmon.charts import LEVEL_COLORS, waterfall
from healthmon.monitor import Monitor
from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.quality.metrics import RELEVANCE_PENDING
from healthmon.runtime.sources import ModelSpec
from healthmon.ui.format import NO_DATA, escape_markdown, fmt, fmt_seconds
from healthmon.ui.i18n import translator

Translate = Callable[[str], str]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LAYERS = ("system", "model", "service", "quality")
METRIC_LAYERS = {  # every metric a rule may watch, by its catalog layer; the Alerts page files GPUs under system
    metric: "system" if spec(metric).layer == "gpu" else spec(metric).layer for metric in METRICS}
OPEN_STATES = ("pending", "firing")
REQUEST_TABLE_COLUMNS = ("time", "source", "status", "latency_ms", "ttft_ms", "prompt_tokens", "output_tokens",
                         "tokens_per_second", "finish_reason", "quality_score", "trace_id")

t = translator("widgets")


# ---- time -------------------------------------------------------------------------------------------------
def viewer_timezone() -> tzinfo:
    """The browser's zone when it reported one, else the server's: times should read as the viewer's clock."""
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:
            pass  # a zone this server's tzdata does not know: the server's own zone is the next best
    return datetime.now().astimezone().tzinfo or UTC


def local_time(ts: float | None, zone: tzinfo) -> str | None:
    """Unix seconds as a readable local time; None (shown as a dash) where there is no time."""
    if ts is None or pd.isna(ts):
        return None
    return datetime.fromtimestamp(float(ts), zone).strftime(TIME_FORMAT)


# ---- alerts -----------------------------------------------------------------------------------------------
def alert_layer(metric: str) -> str:
    return METRIC_LAYERS.get(metric, "other")


def layer_options(alerts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The three layers, plus any other an old stored alert names, so no alert can be filtered out for good."""
    extra = sorted({alert_layer(a["metric"]) for a in alerts} - set(LAYERS))
    return [*LAYERS, *extra]


def filter_alerts(alerts: Iterable[Mapping[str, Any]], levels: Iterable[str], layers: Iterable[str]
                  ) -> list[Mapping[str, Any]]:
    levels, layers = set(levels), set(layers)
    return [a for a in alerts if a["level"] in levels and alert_layer(a["metric"]) in layers]


def alerts_frame(alerts: Sequence[Mapping[str, Any]], zone: tzinfo) -> pd.DataFrame:
    """One row per alert in the given order; stored alerts lack the live-only keys, hence the .get()s."""
    rows = [{
        "level": a["level"], "layer": alert_layer(a["metric"]), "kind": a["kind"], "state": a["state"],
        "rule": a["rule"], "message": a["message"], "started": local_time(a.get("started_at"), zone),
        "ended": local_time(a.get("resolved_at"), zone), "acknowledged": bool(a.get("acknowledged")),
        "silenced_until": local_time(a.get("silenced_until"), zone), "id": a["id"],
    } for a in alerts]
    return pd.DataFrame(rows, columns=["level", "layer", "kind", "state", "rule", "message", "started", "ended",
                                       "acknowledged", "silenced_until", "id"])


def level_badge(level: str) -> None:
    """A pill in the level's one color (LEVEL_COLORS); the text is escaped, so only the color is HTML."""
    color = LEVEL_COLORS.get(level, LEVEL_COLORS["no_data"])
    st.markdown(f"<span style='background:{color};color:white;padding:0.15rem 0.6rem;border-radius:1rem;"
                f"font-weight:600;font-size:0.85rem;white-space:nowrap'>{html.escape(t(level))}</span>",
                unsafe_allow_html=True)


def level_css(levels: Iterable[str]) -> list[str]:
    """Per-cell CSS for a level column, for a pandas Styler."""
    return [f"color: {LEVEL_COLORS.get(level, LEVEL_COLORS['no_data'])}; font-weight: 600" for level in levels]


def watched_rules(m: Monitor) -> list[Rule]:
    """The rules the monitor's engine evaluates."""
    return m.alerts.engine.rules


def rule_condition(rule: Rule, words: Translate) -> str:
    """A rule's firing condition in one line, with units: what a person needs to judge an alert."""
    held = f"{words('for')} ≥ {rule.for_samples} {words('samples')}, {rule.for_seconds:g} s"
    if isinstance(rule, ThresholdRule):
        back = "<" if rule.op == ">" else ">"
        return (f"{rule.op} {format_value(rule.metric, rule.fire)} · {words('resolve')} {back} "
                f"{format_value(rule.metric, rule.resolve)} · {held}")
    if isinstance(rule, BaselineRule):
        direction = words("worse when higher") if rule.bad_direction == "up" else words("worse when lower")
        return f"{words('learned baseline')}, {direction}, z > {rule.threshold:g} · {held}"
    assert isinstance(rule, ForecastRule)
    return (f"{words('predicted')} {rule.op} {format_value(rule.metric, rule.threshold)} {words('within')} "
            f"{rule.horizon_seconds / 60:g} min · {held}")


def rules_frame(rules: Iterable[Rule]) -> pd.DataFrame:
    """The rules watched, one row each, conditions in the viewer's language (kinds and levels left as codes)."""
    rows = [{"rule": r.name, "kind": r.kind, "metric": r.metric, "layer": alert_layer(r.metric), "level": r.level,
             "condition": rule_condition(r, t), "reason": r.reason} for r in rules]
    return pd.DataFrame(rows, columns=["rule", "kind", "metric", "layer", "level", "condition", "reason"])


def silence_matchers(rules: Iterable[Rule]) -> list[str]:
    """What a silence may name: every rule, then every metric with rules (the engine accepts nothing else)."""
    rules = list(rules)
    return [*(r.name for r in rules), *dict.fromkeys(r.metric for r in rules)]


# ---- requests ---------------------------------------------------------------------------------------------
def requests_table(frame: pd.DataFrame, zone: tzinfo) -> pd.DataFrame:
    """The store's request rows (in the given order) as the Traces table shows them: local time, milliseconds."""
    return pd.DataFrame({
        "time": [local_time(ts, zone) for ts in frame["ts"]], "source": frame["source"], "status": frame["status"],
        "latency_ms": frame["latency_seconds"] * 1000, "ttft_ms": frame["ttft_seconds"] * 1000,
        "prompt_tokens": frame["prompt_tokens"], "output_tokens": frame["output_tokens"],
        "tokens_per_second": frame["tokens_per_second"], "finish_reason": frame["finish_reason"],
        "quality_score": quality_scores(frame["quality"]) if "quality" in frame else float("nan"),
        "trace_id": frame["trace_id"],
    }, columns=list(REQUEST_TABLE_COLUMNS))


def quality_score_of(quality: Any) -> float | None:
    """The quality score from a request's quality: a dict (get_request) or its JSON text (requests_frame)."""
    if isinstance(quality, str) and quality:
        try:
            quality = json.loads(quality)
        except ValueError:
            return None
    score = quality.get("quality_score") if isinstance(quality, dict) else None
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


def quality_scores(qualities: pd.Series) -> pd.Series:
    """quality_score_of for a column of request qualities, as floats (NaN where a request has none)."""
    return qualities.map(quality_score_of).astype("float64")


def selected_id(previous_ids: Sequence[str], rows: Sequence[int]) -> str | None:
    """The request a row selection meant: positions refer to the table the viewer saw when clicking."""
    return previous_ids[rows[0]] if rows and 0 <= rows[0] < len(previous_ids) else None


def reselect_rows(row_ids: Sequence[str], wanted_id: str | None) -> list[int]:
    """Where the selected request sits in the refreshed table (nowhere once it has left the window)."""
    return [list(row_ids).index(wanted_id)] if wanted_id is not None and wanted_id in row_ids else []


def keep_selection(table_key: str, row_ids: list[str]) -> str | None:
    """Call before rendering a live single-row table: a row selection is a position, and every refresh that
    adds a request shifts the rows, so follow the selected request by its id and move the selection with it."""
    ids_key = f"{table_key}-row-ids"
    state = st.session_state.get(table_key)
    rows = list(state["selection"]["rows"]) if state else []
    wanted = reselect_rows(row_ids, selected_id(st.session_state.get(ids_key, []), rows))
    if wanted != rows:
        st.session_state[table_key] = {"selection": {"rows": wanted, "columns": [], "cells": []}}
    st.session_state[ids_key] = row_ids
    return row_ids[wanted[0]] if wanted else None


def show_text(text: str | None) -> None:
    """Model text or a prompt, verbatim and inert (see the module docstring)."""
    st.code(text if text else t("(empty)"), language=None, wrap_lines=True)


def show_request(record: Mapping[str, Any], key: str) -> None:
    """One request's record: its figures, spans waterfall, parameters, and its prompt and response as text."""
    cols = st.columns(7)
    cols[0].metric(t("Status"), t(record["status"]))
    cols[1].metric(t("Latency"), fmt_seconds(record.get("latency_seconds")))
    cols[2].metric(t("TTFT"), fmt_seconds(record.get("ttft_seconds")))
    cols[3].metric(t("Prompt tokens"), fmt(record.get("prompt_tokens"), digits=0))
    cols[4].metric(t("Output tokens"), fmt(record.get("output_tokens"), digits=0))
    cols[5].metric(t("Tokens / s"), fmt(record.get("tokens_per_second")))
    cols[6].metric(t("Finish reason"), escape_markdown(record.get("finish_reason") or NO_DATA))
    st.text(f"{t('Trace id')}: {record['trace_id']}    {t('Source')}: {record.get('source')}    "
            f"{t('Model')}: {record.get('model')}")
    if record.get("error"):
        notice = st.warning if record["status"] == "rejected" else st.error
        notice(t("The request was rejected:") if record["status"] == "rejected" else t("The request failed:"))
        show_text(record["error"])
    show_quality(record.get("quality"))
    spans = record.get("spans") or []
    st.markdown(f"**{t('Spans')}**")
    if spans:
        figure = waterfall(spans)
        figure.update_layout(xaxis_title=t("ms since the request arrived"))
        st.plotly_chart(figure, key=f"{key}-waterfall")
    else:
        st.caption(t("No spans: the request never reached the model."))
    prompt_col, response_col = st.columns(2)
    with prompt_col:
        st.markdown(f"**{t('Prompt')}**")
        show_text(record.get("prompt"))
    with response_col:
        st.markdown(f"**{t('Response')}**")
        show_text(record.get("response"))
    st.markdown(f"**{t('Parameters')}**")
    st.json(record.get("params") or {}, expanded=True)


def _yes_no(value: bool | None) -> str:
    return NO_DATA if value is None else t("yes") if value else t("no")


def quality_facts(quality: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, help) for one request's quality, in the page's language: numbers first, then verdicts,
    then a canary probe's drift. A relevance still to come reads "pending"; a value that never comes, a dash."""
    relevance = quality.get("relevance")
    if relevance is not None:
        relevance_text = fmt(relevance, digits=3)
    else:
        relevance_text = t("pending") if quality.get("relevance_reason") == RELEVANCE_PENDING else NO_DATA
    match = quality.get("language_match")
    facts = [
        (t("Quality score"), fmt(quality.get("quality_score")),
         t("0-100 from degeneration, relevance, language, completion and confidence, weighted, then capped by the "
           "worst flag.")),
        (t("Flags"), ", ".join(t(flag) for flag in quality.get("flags") or []) or t("none"), ""),
        (t("Degeneration"), fmt(quality.get("degeneration_score")),
         t("0-100 from repeated 3-grams, compression ratio and a loop at the end: under 50 is degenerate.")),
        (t("Relevance"), relevance_text, t("Cosine similarity of the prompt's and the response's sentence "
                                           "embeddings, computed in the background.")),
        (t("Perplexity"), fmt(quality.get("perplexity"), digits=2),
         t("exp(-mean token log-probability) of the response under the model itself: lower reads more fluent "
           "to it.")),
        (t("Repetition"), fmt(quality.get("repetition_rate"), digits=2),
         t("Share of 3-grams that repeat an earlier one (words; characters for Chinese): a looping model climbs "
           "to 1.")),
        (t("Distinct-2"), fmt(quality.get("distinct_2"), digits=2),
         t("Distinct 2-grams over all 2-grams: 1 never repeats, near 0 loops.")),
        (t("Entropy"), fmt(quality.get("mean_token_entropy"), digits=2),
         t("Mean entropy (nats) of the model's distribution at each generated token: high means it was unsure, a "
           "hallucination risk.")),
        (t("Language"), NO_DATA if match is None else t("match") if match else t("mismatch"),
         t("Whether the answer is in the language the prompt asks for, or is written in; code and numbers carry "
           "none.")),
        (t("Empty"), _yes_no(quality.get("empty")), t("The response has no text.")),
        (t("Truncated"), _yes_no(quality.get("truncated")),
         t("Cut at max_new_tokens rather than stopped by the model itself.")),
    ]
    if "drift_similarity" in quality or "drift_reason" in quality:  # canary probes, once scored
        drift, reason = quality.get("drift_similarity"), quality.get("drift_reason")
        facts.append((t("Canary drift"), fmt(drift, digits=3) if drift is not None else
                      t("reference") if reason == REFERENCE_RECORDED else NO_DATA,
                      t("Embedding similarity of this canary answer to the first one recorded for the model; below "
                        "0.8 warns.")))
    return facts


def quality_notes(quality: Mapping[str, Any]) -> list[str]:
    """Plain-text lines under the quality figures: the detected languages, and why a value is missing."""
    asked = f" ({t('asked for')})" if quality.get("language_asked") else ""
    notes = [f"{t('Language')}: {t('expected')} {quality.get('expected_language') or NO_DATA}{asked} → "
             f"{t('answer')} {quality.get('response_language') or NO_DATA}"]
    reason = quality.get("relevance_reason")
    if quality.get("relevance") is None and reason:
        notes.append(f"{t('Relevance')}: {t('pending')}: {t('the background scorer has not reached this request yet')}"
                     if reason == RELEVANCE_PENDING else f"{t('Relevance')}: {t('not scored')}: {reason}")
    drift_reason = quality.get("drift_reason")
    if quality.get("drift_similarity") is None and drift_reason:
        reference = t("this probe's answer is the reference the next ones are compared with")
        notes.append(f"{t('Canary drift')}: {t('reference')}: {reference}" if drift_reason == REFERENCE_RECORDED
                     else f"{t('Canary drift')}: {t('not scored')}: {drift_reason}")
    return notes


def show_quality(quality: Mapping[str, Any] | None, columns: int = 5) -> None:
    """A request's generation quality as figures (not its raw JSON), and why a figure is missing, as plain text."""
    st.markdown(f"**{t('Quality')}**")
    if not isinstance(quality, Mapping):
        st.caption(t("No quality for this request: it is measured on successful generations only."))
        return
    facts = quality_facts(quality)
    for start in range(0, len(facts), columns):
        cols = st.columns(columns)
        for col, (label, value, help_text) in zip(cols, facts[start:start + columns], strict=False):
            col.metric(label, value, help=help_text)
    st.text("\n".join(quality_notes(quality)))  # reasons come from the scorer and may quote any error text


def model_caption(info: Mapping[str, Any]) -> None:
    """The model's name, and why it was chosen when the setting left the choice to us, as text: a model source
    is the user's and may hold Markdown."""
    reason = f" ({t(info['chosen_because'])})" if info.get("chosen_because") else ""
    st.caption(escape_markdown(f"{t('Model')}: {info['name']}{reason}"))


# ---- settings ---------------------------------------------------------------------------------------------
def spec_text(spec: ModelSpec) -> str:
    """A ModelSpec written back the way HEALTHMON_MODEL takes it, to prefill the model source field."""
    if spec.kind in ("demo", "packaged"):
        return spec.kind
    if spec.kind == "local":
        return spec.ref
    return f"{spec.kind}:{spec.ref}" + (f":{spec.file}" if spec.file else "")


def config_frame(public: Mapping[str, Any]) -> pd.DataFrame:
    """Settings.public_dict() as rows with the variable that sets each; secrets appear only as `*_set` flags."""
    rows = [{"setting": name, "value": ", ".join(map(str, value)) if isinstance(value, list) else str(value),
             "variable": "HEALTHMON_" + name.removesuffix("_set").upper()} for name, value in public.items()]
    return pd.DataFrame(rows, columns=["setting", "value", "variable"])
