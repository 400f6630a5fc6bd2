"""Pure quality metrics on known inputs: units, degeneration, language, fluency, the score and the layer summary."""

from __future__ import annotations

import math

import pytest

from healthmon.quality.metrics import (
    detect_language, distinct_n, fluency, language_match, quality_score, repetition_rate, text_quality, text_units,
    with_relevance,
)
from healthmon.quality.window import QualityWindow, summarize


def test_units_are_words_for_spaced_text_and_characters_for_chinese():
    assert text_units("The GPU is busy, the GPU!") == ["the", "gpu", "is", "busy", "the", "gpu"]
    assert text_units("内存很重要。") == ["内", "存", "很", "重", "要"]
    assert text_units("用GPU推理") == ["用", "gpu", "推", "理"]
    assert text_units("  ...  ") == []


def test_repetition_rate_and_distinct_on_a_loop():
    units = text_units("a b c a b c a b c")
    assert repetition_rate(units) == pytest.approx(4 / 7)  # 7 trigrams, 3 distinct
    assert distinct_n(units, 1) == pytest.approx(3 / 9)
    assert distinct_n(units, 2) == pytest.approx(3 / 8)


def test_no_repetition_and_too_short_to_judge():
    assert repetition_rate(text_units("one two three four five")) == 0.0
    assert distinct_n(text_units("one two three four five"), 2) == 1.0
    assert repetition_rate(text_units("two words")) is None
    assert distinct_n([], 1) is None


def test_chinese_repetition_counts_characters():
    looping = text_units("天气很好。天气很好。天气很好。")
    assert len(looping) == 12
    assert repetition_rate(looping) == pytest.approx(1 - 4 / 10)  # 10 trigrams, 4 distinct
    assert repetition_rate(text_units("今天的天气非常好")) == 0.0


@pytest.mark.parametrize("text, language", [
    ("How is the weather today?", "latin"),
    ("今天天气怎么样？", "zh"),
    ("请用GPU跑这个模型", "zh"),  # an English term inside Chinese stays Chinese
    ("What does 模型 mean in this sentence?", "latin"),
    ("今日はいい天気ですね", "ja"),
    ("오늘 날씨가 좋네요", "ko"),
    ("Какая сегодня погода?", "cyrillic"),
    ("ＧＰＵ ｉｓ ｂｕｓｙ", "latin"),  # full-width Latin
    ("12345 678", None),
    ("", None),
])
def test_script_based_language(text, language):
    assert detect_language(text) == language


def test_language_match_needs_both_sides():
    assert language_match("zh", "zh") is True
    assert language_match("zh", "latin") is False
    assert language_match("zh", None) is None


def test_fluency_is_mean_logprob_and_its_perplexity():
    mean, perplexity = fluency([-1.0, -2.0, -3.0])
    assert mean == pytest.approx(-2.0) and perplexity == pytest.approx(math.exp(2.0))
    assert fluency([]) == (None, None) and fluency(None) == (None, None)


def test_text_quality_of_a_good_english_answer():
    quality = text_quality("What is latency?", "Latency is the time a request takes from start to end.", "stop",
                           [-0.5, -1.0, -1.5])
    assert quality["perplexity"] == pytest.approx(math.exp(1.0), abs=1e-4) and quality["mean_logprob"] == -1.0
    assert quality["repetition_rate"] == 0.0 and quality["distinct_2"] == 1.0
    assert quality["language_match"] is True and quality["empty"] is False and quality["truncated"] is False
    assert quality["relevance"] is None and quality["relevance_reason"] == "pending"
    assert quality["quality_score"] == 100.0  # scored on what is known so far


def test_text_quality_flags_empty_truncated_and_mismatched():
    empty = text_quality("What is latency?", "   ", "stop")
    assert empty["empty"] is True and empty["quality_score"] == 0.0 and empty["language_match"] is None
    truncated = text_quality("What is latency?", "Latency is the time", "length")
    assert truncated["truncated"] is True
    assert text_quality("p", "r", "cancelled")["truncated"] is None
    mismatch = text_quality("内存为什么重要？", "Memory matters because the model must fit.", "stop")
    assert mismatch["prompt_language"] == "zh" and mismatch["response_language"] == "latin"
    assert mismatch["language_match"] is False


def test_quality_score_combines_components_with_documented_curves():
    base = {"repetition_rate": 0.0, "mean_logprob": -1.0, "language_match": True, "truncated": False}
    assert quality_score(base) == 100.0
    assert quality_score(base | {"repetition_rate": 0.3}) == pytest.approx(round((50 * 0.25 + 100 * 0.45) / 0.70, 1))
    assert quality_score(base | {"language_match": False}) == pytest.approx(round(100 * 0.55 / 0.70, 1))
    assert quality_score(base | {"truncated": True}) == pytest.approx(round((100 * 0.6 + 50 * 0.1) / 0.70, 1))
    assert quality_score({}) is None


def test_relevance_joins_the_score_when_it_arrives():
    quality = text_quality("How do I make soup?", "Boil water, add vegetables and salt.", "stop")
    assert with_relevance(quality, 0.5, None)["quality_score"] == 100.0
    unrelated = with_relevance(quality, 0.0, None)
    assert unrelated["relevance"] == 0.0  # relevance 0 of weight 0.30, degeneration/language/completion 100:
    assert unrelated["quality_score"] == pytest.approx(round(100 * 0.50 / 0.80, 1))
    missing = with_relevance(quality, None, "embedding model unavailable")
    assert missing["relevance"] is None and missing["relevance_reason"] == "embedding model unavailable"
    assert quality["relevance_reason"] == "pending"  # the original is not modified


def test_layer_summary_means_and_percents():
    qualities = [
        {"quality_score": 80.0, "relevance": 0.4, "repetition_rate": 0.0, "language_match": True, "empty": False,
         "truncated": True},
        {"quality_score": 40.0, "relevance": None, "repetition_rate": 0.5, "language_match": False, "empty": False,
         "truncated": False},
    ]
    sample = summarize(qualities, [0.99, 0.4])
    assert sample["quality_requests"] == 2 and sample["quality_score"] == 60.0 and sample["relevance"] == 0.4
    assert sample["repetition_rate"] == 0.25 and sample["perplexity"] is None
    assert sample["language_mismatch_percent"] == 50.0 and sample["empty_response_percent"] == 0.0
    assert sample["truncated_percent"] == 50.0 and sample["canary_drift_similarity"] == 0.4
    assert summarize([], [])["quality_score"] is None


def test_window_counts_user_requests_and_takes_only_drift_from_probes():
    window = QualityWindow()
    window.add({"synthetic": False, "quality": {"quality_score": 90.0, "empty": False}})
    window.add({"synthetic": True, "quality": {"quality_score": 10.0, "drift_similarity": 0.7}})
    window.add({"synthetic": False})  # no quality measured
    sample = window.drain()
    assert sample["quality_requests"] == 1 and sample["quality_score"] == 90.0
    assert sample["canary_drift_similarity"] == 0.7
    assert window.drain()["quality_requests"] == 0
