"""Per-text quality metrics: pure functions from a prompt, a response and token log-probabilities to numbers.

Units. Degeneration is counted on units: every Han or kana character is one unit (Chinese and Japanese are
written without spaces, so a character is the nearest thing to a word), every other run of letters or
digits is one case-folded word. Mixed text mixes both, so "用GPU推理" is 用 / gpu / 推 / 理.

Degeneration. repetition_rate is rep-3 (Welleck et al. 2019): the share of 3-grams that repeat an earlier
one, 1 - distinct/total; distinct_n is distinct n-grams / n-grams (Li et al. 2016). Too short to have an
n-gram means None, not 0.

Language. A script detector, not a language model: each unit votes with the script of its first letter
(from its Unicode name), digits abstain, the majority wins. Han votes "zh" unless kana are at least a tenth
of the CJK units ("ja"); Hangul is "ko"; alphabetic scripts report the script ("latin" covers English,
French, German...; "cyrillic", "greek", "arabic"...), because the alphabet cannot tell English from French.
Known limits: code in an answer to a Chinese question reads "latin"; a translation request is a legitimate
mismatch.

Quality score (0-100): the weighted mean of the components that have data, weights renormalized, so a
response waiting for its relevance is scored on the rest; an empty response scores 0 whatever else.
  relevance    0.30  cosine 0.35 -> 100, 0.05 -> 0 (all-MiniLM-L6-v2 puts unrelated English pairs near 0 and
                     fitting answers at 0.35-0.6; it knows little Chinese, where unrelated pairs can reach 0.5)
  degeneration 0.25  repetition_rate 0.1 -> 100, 0.5 -> 0
  fluency      0.20  mean token log-probability -2.5 (perplexity ~12) -> 100, -5.5 (~245) -> 0
  language     0.15  100 when prompt and response scripts match, 0 when they differ
  completion   0.10  100 when the model stopped by itself, 50 when cut at max_new_tokens (cancelled: no data)
Curves are linear between their ends and flat outside (`analysis.score.Curve`); the health score's own
quality curve (80 good, 30 bad) sits on top of this.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from typing import Any, Mapping, Sequence

from healthmon.analysis.score import Curve

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK extension A, unified, compatibility
_UNIT = re.compile(rf"[{_CJK_CHARS}]|[^\W_{_CJK_CHARS}]+")
_SCRIPT_LANGUAGE = {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko"}
_WIDTH_PREFIXES = ("FULLWIDTH ", "HALFWIDTH ")
JAPANESE_KANA_SHARE = 0.1

RELEVANCE_CURVE = Curve(good=0.35, bad=0.05)
REPETITION_CURVE = Curve(good=0.1, bad=0.5)
MEAN_LOGPROB_CURVE = Curve(good=-2.5, bad=-5.5)
TRUNCATED_COMPLETION_SCORE = 50.0
WEIGHTS = {"relevance": 0.30, "degeneration": 0.25, "fluency": 0.20, "language": 0.15, "completion": 0.10}
RELEVANCE_PENDING = "pending"


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


def unit_script(unit: str) -> str | None:
    """The script of the unit's first letter as a language code ("zh", "ja", "ko") or script name ("latin")."""
    letter = next((ch for ch in unit if ch.isalpha()), None)
    return None if letter is None else _letter_script(letter)


@functools.lru_cache(maxsize=8192)  # a text repeats its letters: halves the time on Chinese text
def _letter_script(letter: str) -> str | None:
    name = unicodedata.name(letter, "")
    for prefix in _WIDTH_PREFIXES:
        name = name.removeprefix(prefix)
    script = name.split(" ")[0].split("-")[0]
    return _SCRIPT_LANGUAGE.get(script, script.lower() or None)


def detect_language(text: str) -> str | None:
    """Majority script of the text's units (see the module docstring); None when it has no letters."""
    return units_language(text_units(text))


def units_language(units: Sequence[str]) -> str | None:
    """detect_language for text already split into units."""
    votes = Counter(script for unit in units if (script := unit_script(unit)) is not None)
    if not votes:
        return None
    kana, han = votes.pop("ja", 0), votes.pop("zh", 0)
    if kana and kana >= JAPANESE_KANA_SHARE * (kana + han):
        votes["ja"] = kana + han  # Japanese writes kanji among its kana
    elif kana + han:
        votes["zh"] = kana + han
    return votes.most_common(1)[0][0]


def language_match(prompt_language: str | None, response_language: str | None) -> bool | None:
    """Whether the response is in the prompt's script; None when either has no letters to judge."""
    if prompt_language is None or response_language is None:
        return None
    return prompt_language == response_language


def fluency(token_logprobs: Sequence[float] | None) -> tuple[float | None, float | None]:
    """(mean token log-probability, perplexity = exp(-mean)) of the output under the model; None without tokens."""
    if not token_logprobs:
        return None, None
    mean = math.fsum(token_logprobs) / len(token_logprobs)
    return mean, math.exp(-mean)


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def text_quality(prompt: str, response: str, finish_reason: str | None,
                 token_logprobs: Sequence[float] | None = None) -> dict[str, Any]:
    """Everything measurable at answer time; relevance is left pending for the background scorer."""
    units = text_units(response)
    mean_logprob, perplexity = fluency(token_logprobs)
    prompt_language, response_language = detect_language(prompt), units_language(units)
    quality: dict[str, Any] = {
        "perplexity": _rounded(perplexity), "mean_logprob": _rounded(mean_logprob),
        "repetition_rate": _rounded(repetition_rate(units)), "distinct_1": _rounded(distinct_n(units, 1)),
        "distinct_2": _rounded(distinct_n(units, 2)), "response_units": len(units),
        "prompt_language": prompt_language, "response_language": response_language,
        "language_match": language_match(prompt_language, response_language),
        "empty": not response.strip(),
        "truncated": {"length": True, "stop": False}.get(finish_reason or ""),
        "relevance": None, "relevance_reason": RELEVANCE_PENDING,
    }
    quality["quality_score"] = quality_score(quality)
    return quality


def quality_score(quality: Mapping[str, Any]) -> float | None:
    """0-100 from the components present (curves and weights in the module docstring); None when none is."""
    if quality.get("empty"):
        return 0.0
    parts: dict[str, float] = {}
    if quality.get("relevance") is not None:
        parts["relevance"] = RELEVANCE_CURVE(quality["relevance"])
    if quality.get("repetition_rate") is not None:
        parts["degeneration"] = REPETITION_CURVE(quality["repetition_rate"])
    if quality.get("mean_logprob") is not None:
        parts["fluency"] = MEAN_LOGPROB_CURVE(quality["mean_logprob"])
    if quality.get("language_match") is not None:
        parts["language"] = 100.0 if quality["language_match"] else 0.0
    if quality.get("truncated") is not None:
        parts["completion"] = TRUNCATED_COMPLETION_SCORE if quality["truncated"] else 100.0
    if not parts:
        return None
    total = sum(WEIGHTS[name] for name in parts)
    return round(sum(WEIGHTS[name] * score for name, score in parts.items()) / total, 1)


def with_relevance(quality: Mapping[str, Any], relevance: float | None, reason: str | None) -> dict[str, Any]:
    """A copy with relevance (or the reason it has none) filled in and the score recomputed."""
    updated = dict(quality) | {"relevance": _rounded(relevance), "relevance_reason": reason}
    updated["quality_score"] = quality_score(updated)
    return updated
