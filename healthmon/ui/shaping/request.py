"""One request's quality as widgets.show_request shows it on the Traces and Generate pages: its figures with
their help texts, and the plain-text notes under them. Worded through widgets' `t`, whose locale holds the texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.quality.metrics import RELEVANCE_PENDING
from healthmon.ui.format import NO_DATA, fmt
from healthmon.ui.shaping import Translate


def _yes_no(value: bool | None, words: Translate) -> str:
    return NO_DATA if value is None else words("yes") if value else words("no")


def quality_facts(quality: Mapping[str, Any], words: Translate) -> list[tuple[str, str, str]]:
    """(label, value, help) for one request's quality, in the page's language: numbers first, then verdicts,
    then a canary probe's drift. A relevance still to come reads "pending"; a value that never comes, a dash."""
    relevance = quality.get("relevance")
    if relevance is not None:
        relevance_text = fmt(relevance, digits=3)
    else:
        relevance_text = words("pending") if quality.get("relevance_reason") == RELEVANCE_PENDING else NO_DATA
    match = quality.get("language_match")
    facts = [
        (words("Quality score"), fmt(quality.get("quality_score")),
         words("0-100 from degeneration, relevance, language, completion and confidence, weighted, then capped by "
               "the worst flag.")),
        (words("Flags"), ", ".join(words(flag) for flag in quality.get("flags") or []) or words("none"), ""),
        (words("Degeneration"), fmt(quality.get("degeneration_score")),
         words("0-100 from repeated 3-grams, compression ratio and a loop at the end: under 50 is degenerate.")),
        (words("Relevance"), relevance_text, words("Cosine similarity of the prompt's and the response's sentence "
                                                   "embeddings, computed in the background.")),
        (words("Perplexity"), fmt(quality.get("perplexity"), digits=2),
         words("exp(-mean token log-probability) of the response under the model itself: lower reads more fluent "
               "to it.")),
        (words("Repetition"), fmt(quality.get("repetition_rate"), digits=2),
         words("Share of 3-grams that repeat an earlier one (words; characters for Chinese): a looping model "
               "climbs to 1.")),
        (words("Distinct-2"), fmt(quality.get("distinct_2"), digits=2),
         words("Distinct 2-grams over all 2-grams: 1 never repeats, near 0 loops.")),
        (words("Entropy"), fmt(quality.get("mean_token_entropy"), digits=2),
         words("Mean entropy (nats) of the model's distribution at each generated token: high means it was unsure, "
               "a hallucination risk.")),
        (words("Language"), NO_DATA if match is None else words("match") if match else words("mismatch"),
         words("Whether the answer is in the language the prompt asks for, or is written in; code and numbers "
               "carry none.")),
        (words("Empty"), _yes_no(quality.get("empty"), words), words("The response has no text.")),
        (words("Truncated"), _yes_no(quality.get("truncated"), words),
         words("Cut at max_new_tokens rather than stopped by the model itself.")),
    ]
    if "drift_similarity" in quality or "drift_reason" in quality:  # canary probes, once scored
        drift, reason = quality.get("drift_similarity"), quality.get("drift_reason")
        facts.append((words("Canary drift"), fmt(drift, digits=3) if drift is not None else
                      words("reference") if reason == REFERENCE_RECORDED else NO_DATA,
                      words("Embedding similarity of this canary answer to the first one recorded for the model; "
                            "below 0.8 warns.")))
    return facts


def quality_notes(quality: Mapping[str, Any], words: Translate) -> list[str]:
    """Plain-text lines under the quality figures: the detected languages, and why a value is missing."""
    asked = f" ({words('asked for')})" if quality.get("language_asked") else ""
    notes = [f"{words('Language')}: {words('expected')} {quality.get('expected_language') or NO_DATA}{asked} → "
             f"{words('answer')} {quality.get('response_language') or NO_DATA}"]
    reason = quality.get("relevance_reason")
    if quality.get("relevance") is None and reason:
        pending = words("the background scorer has not reached this request yet")
        notes.append(f"{words('Relevance')}: {words('pending')}: {pending}" if reason == RELEVANCE_PENDING
                     else f"{words('Relevance')}: {words('not scored')}: {reason}")
    drift_reason = quality.get("drift_reason")
    if quality.get("drift_similarity") is None and drift_reason:
        reference = words("this probe's answer is the reference the next ones are compared with")
        notes.append(f"{words('Canary drift')}: {words('reference')}: {reference}" if drift_reason == REFERENCE_RECORDED
                     else f"{words('Canary drift')}: {words('not scored')}: {drift_reason}")
    return notes
