"""Per-answer quality: pure functions from a prompt, an answer and the generation's token statistics to numbers,
named flags and one 0-100 quality_score.

Calibrated on benchmarks/data/quality_eval.jsonl (real SmolLM2-135M-Instruct answers in English and Chinese,
and written cases; benchmarks/bench_quality_eval.py prints the AUROCs). What each part reads:
  degeneration  degeneration.py: rep-3, compression ratio and a loop at the end, on text units (words, or
                characters for Chinese); flag `degenerate` when its score is under 50
  relevance     relevance.py: prompt (or the text to translate) and answer embeddings, computed in the
                background; flag `off_topic` below the line for the model and the kind of pair
  language      language.py: the language the prompt asks for, or is written in, against the answer's prose
                (code and numbers carry none); flag `language_mismatch`
  completion    `truncated` when cut at max_new_tokens
  confidence    uncertainty.py, from the generation's own logits (LM-Polygraph's unsupervised estimators):
                mean token entropy for the score; flag `low_confidence`, a hallucination risk, when the prompt is a
                short factual question (relevance.asks_for_fact) and the answer's first sentence, its claim,
                was unlikely (first_sentence_nll)
  empty         nothing but white space: score 0
Perplexity is reported, and judged against the model's own learned baseline by the alert rules, never as
"lower is better": a looping answer is the model's most confident one.

Score: the weighted mean of the parts present (weights renormalized, so an answer still waiting for its
relevance is scored on the rest), then capped by the worst flag: a degenerate, off-topic or wrong-language
answer cannot score as a fair one, however fluent.

Units. Every Han or kana character is one unit (Chinese and Japanese are written without spaces, so a
character is the nearest thing to a word), every other run of letters or digits one case-folded word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from healthmon.quality.degeneration import DEGENERATE_BELOW, compression_ratio, degeneration_score, tail_loop
from healthmon.quality.language import Identify, detect, identify, judge
from healthmon.quality.relevance import (
    asks_for_fact,
    is_off_topic,
    relevance_part,
    short_answer_fits,
    translation_source,
)
from healthmon.quality.uncertainty import CONFIDENCE_CURVE, low_confidence, uncertainty

if TYPE_CHECKING:
    from healthmon.records import GenerationOutcome

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK extension A, unified, compatibility
_UNIT = re.compile(rf"[{_CJK_CHARS}]|[^\W_{_CJK_CHARS}]+")

TRUNCATED_COMPLETION_SCORE = 50.0
WEIGHTS = {"degeneration": 0.35, "relevance": 0.30, "language": 0.20, "completion": 0.10, "confidence": 0.05}
FLAG_CAPS = {"degenerate": 25.0, "off_topic": 35.0, "language_mismatch": 35.0}
FLAGS = ("degenerate", "off_topic", "language_mismatch", "empty", "truncated", "low_confidence")
RELEVANCE_PENDING = "pending"
# What the answer-time measures read of a prompt or an answer: they run on the request path, holding the GIL, so a
# 20 MB answer must not cost seconds. Head and tail both: the language is read from the start, a loop at the end.
SCORED_TEXT_MAX_CHARS = 16_000


def text_units(text: str) -> list[str]:
    """Characters for Han and kana, case-folded words for everything else; punctuation and spaces dropped."""
    return [unit.casefold() for unit in _UNIT.findall(text)]


def ngrams(units: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]


def distinct_n(units: Sequence[str], n: int) -> float | None:
    """Distinct n-grams over all n-grams: 1.0 never repeats, near 0 loops; None when there is no n-gram."""
    grams = ngrams(units, n)
    return len(set(grams)) / len(grams) if grams else None


def repetition_rate(units: Sequence[str], n: int = 3) -> float | None:
    """rep-n: the share of n-grams that repeat an earlier one; a looping model climbs toward 1."""
    distinct = distinct_n(units, n)
    return None if distinct is None else 1.0 - distinct


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def answer_quality(prompt: str, outcome: GenerationOutcome) -> dict[str, Any]:
    """`text_quality` of a finished generation: the `records.AnswerQuality` the targets hand to build_record."""
    return text_quality(prompt, outcome.text, outcome.finish_reason, outcome.token_logprobs, outcome.token_entropies,
                        first_sentence_tokens=outcome.first_sentence_tokens)


def bounded_text(text: str, max_chars: int = SCORED_TEXT_MAX_CHARS) -> str:
    """The text itself, or its first and last max_chars/2 characters joined by a line break."""
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return f"{text[:half]}\n{text[-half:]}"


def text_quality(prompt: str, response: str, finish_reason: str | None,
                 token_logprobs: Sequence[float] | None = None, token_entropies: Sequence[float] | None = None, *,
                 first_sentence_tokens: int | None = None, identify_language: Identify = identify) -> dict[str, Any]:
    """Everything measurable at answer time, on at most SCORED_TEXT_MAX_CHARS of prompt and of answer; relevance
    is left pending for the background scorer."""
    unread_chars = max(0, len(response) - SCORED_TEXT_MAX_CHARS)
    prompt, response = bounded_text(prompt), bounded_text(response)
    units = text_units(response)
    repetition, compression, loop = repetition_rate(units), compression_ratio(response), tail_loop(units)
    verdict = judge(prompt, response, translation_source, identify_language)
    quality: dict[str, Any] = {
        **uncertainty(token_logprobs, token_entropies, first_sentence_tokens),
        "repetition_rate": _rounded(repetition), "distinct_1": _rounded(distinct_n(units, 1)),
        "distinct_2": _rounded(distinct_n(units, 2)), "compression_ratio": _rounded(compression, 3),
        "loop_share": round(loop.share, 3), "loop_period_units": loop.period_units,
        "degeneration_score": degeneration_score(len(units), repetition, compression, loop.share),
        "response_units": len(units), "response_unread_chars": unread_chars,
        "short_answer_fits": short_answer_fits(prompt, response, len(units)),
        "asks_for_fact": asks_for_fact(prompt),
        "prompt_language": detect(prompt, identify_language),
        "expected_language": verdict.expected, "language_asked": verdict.asked,
        "response_language": verdict.detected,
        "language_match": None if verdict.mismatch is None else not verdict.mismatch,
        "empty": not response.strip(),
        "truncated": {"length": True, "stop": False}.get(finish_reason or ""),
        "relevance": None, "relevance_reason": RELEVANCE_PENDING,
    }
    return _scored(quality)


def flags(quality: Mapping[str, Any]) -> list[str]:
    """The named problems of one answer, in FLAGS order."""
    found = {
        "degenerate": (quality.get("degeneration_score") is not None
                       and quality["degeneration_score"] < DEGENERATE_BELOW),
        "off_topic": is_off_topic(quality),
        "language_mismatch": quality.get("language_match") is False,
        "empty": bool(quality.get("empty")),
        "truncated": bool(quality.get("truncated")),
        "low_confidence": low_confidence(quality),
    }
    return [name for name in FLAGS if found[name]]


def quality_score(quality: Mapping[str, Any]) -> float | None:
    """0-100 from the parts present, capped by the flags (module docstring); None when no part is."""
    if quality.get("empty"):
        return 0.0
    parts: dict[str, float] = {}
    if (relevance := relevance_part(quality)) is not None:
        parts["relevance"] = relevance
    if quality.get("degeneration_score") is not None:
        parts["degeneration"] = quality["degeneration_score"]
    if quality.get("language_match") is not None:
        parts["language"] = 100.0 if quality["language_match"] else 0.0
    if quality.get("truncated") is not None:
        parts["completion"] = TRUNCATED_COMPLETION_SCORE if quality["truncated"] else 100.0
    if quality.get("mean_token_entropy") is not None:
        parts["confidence"] = CONFIDENCE_CURVE(quality["mean_token_entropy"])
    if not parts:
        return None
    total = sum(WEIGHTS[name] for name in parts)
    score = sum(WEIGHTS[name] * value for name, value in parts.items()) / total
    for flag in flags(quality):
        score = min(score, FLAG_CAPS.get(flag, score))
    return round(score, 1)


def _scored(quality: dict[str, Any]) -> dict[str, Any]:
    quality["flags"] = flags(quality)
    quality["quality_score"] = quality_score(quality)
    return quality


def with_relevance(quality: Mapping[str, Any], relevance: float | None, reason: str | None,
                   model: str | None = None, method: str | None = None) -> dict[str, Any]:
    """A copy with relevance (or the reason it has none) filled in, and the flags and score recomputed; method
    is how it was measured (relevance.QUESTION or TRANSLATION)."""
    updated = dict(quality) | {"relevance": _rounded(relevance), "relevance_reason": reason}
    if model is not None:
        updated["relevance_model"] = model
    if method is not None:
        updated["relevance_method"] = method
    return _scored(updated)
