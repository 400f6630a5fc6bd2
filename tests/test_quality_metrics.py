"""Pure quality metrics on known inputs: units, degeneration, language, fluency, the score and the layer summary."""

from __future__ import annotations

import math

import pytest

from healthmon.quality.language import detect, expected_language, language_mismatch
from healthmon.quality.metrics import (
    distinct_n,
    quality_score,
    repetition_rate,
    text_quality,
    text_units,
    with_relevance,
)
from healthmon.quality.uncertainty import uncertainty
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


@pytest.mark.parametrize("prompt, expected", [
    ("How is the weather today?", ("en", False)),
    ("今天天气怎么样？", ("zh", False)),
    ("Answer in Chinese: what is a cat?", ("zh", True)),
    ("Please reply only in French. What is rain?", ("fr", True)),
    ("Translate 'thank you' into Chinese.", ("zh", True)),
    ("用英文回答：什么是太阳？", ("en", True)),
    ("请用英语介绍一下你自己。", ("en", True)),
    ("把“早上好”翻译成英文。", ("en", True)),
    ("12345 678", (None, False)),
])
def test_the_expected_language_is_asked_for_or_the_prompts_own(prompt, expected):
    assert expected_language(prompt) == expected


@pytest.mark.parametrize("text, language", [
    ("The capital of France is Paris, and it is known for its museums.", "en"),
    ("北京是中国的首都，有着三千多年的历史。", "zh"),
    ("请用GPU跑这个模型", "zh"),  # an English term inside Chinese stays Chinese
    ("Bonjour, je m'appelle Marie et j'habite à Paris.", "fr"),
    ("今日はいい天気ですね", "ja"),
    ("def add(a, b):\n    return a + b", None),  # code carries no language
    ("SELECT COUNT(*) FROM users;", None),
    ("391", None), ("17 x 23 = 391", None), ("", None),
    ("```python\nprint('hi')\n```\nThis prints a short greeting on the screen.", "en"),  # the prose around code
    ("The answer is 90.", "latin"),  # too short for an identifier: its script alone
    ("Il Coriobella, Italy.", "latin"),  # which would otherwise read Italian
])
def test_the_answers_language_is_read_from_its_prose(text, language):
    assert detect(text) == language


def test_fluency_is_mean_logprob_and_its_perplexity():
    figures = uncertainty([-1.0, -2.0, -3.0], [0.5, 1.5, 1.0])
    assert figures["mean_logprob"] == -2.0 and figures["perplexity"] == pytest.approx(math.exp(2.0), abs=1e-4)
    assert figures["sequence_logprob"] == -6.0 and figures["min_token_logprob"] == -3.0
    assert figures["mean_token_entropy"] == 1.0
    assert set(uncertainty([], None).values()) == {None}


def test_text_quality_of_a_good_english_answer():
    quality = text_quality("What is latency, in simple words?",
                           "Latency is the time a request takes from start to end.", "stop",
                           [-0.5, -1.0, -1.5], [0.4, 0.6, 0.5])
    assert quality["perplexity"] == pytest.approx(math.exp(1.0), abs=1e-4) and quality["mean_logprob"] == -1.0
    assert quality["repetition_rate"] == 0.0 and quality["distinct_2"] == 1.0 and quality["loop_share"] == 0.0
    assert quality["language_match"] is True and quality["empty"] is False and quality["truncated"] is False
    assert quality["relevance"] is None and quality["relevance_reason"] == "pending"
    assert quality["flags"] == [] and quality["quality_score"] == 100.0  # scored on what is known so far


def test_text_quality_flags_empty_truncated_mismatched_and_degenerate():
    empty = text_quality("What is latency?", "   ", "stop")
    assert empty["flags"] == ["empty"] and empty["quality_score"] == 0.0 and empty["language_match"] is None
    truncated = text_quality("What is latency?", "Latency is the time", "length")
    assert truncated["flags"] == ["truncated"] and truncated["quality_score"] < 100
    assert text_quality("p", "r", "cancelled")["truncated"] is None
    mismatch = text_quality("内存为什么重要？", "Memory matters because the model must fit in memory.", "stop")
    assert mismatch["expected_language"] == "zh" and mismatch["response_language"] == "en"
    assert mismatch["flags"] == ["language_mismatch"] and mismatch["quality_score"] <= 35
    asked = text_quality("用英文回答：内存为什么重要？", "Memory matters because the model must fit in memory.", "stop")
    assert asked["language_match"] is True and asked["language_asked"] is True
    loop = text_quality("What is the capital of France?",
                        "The capital is Paris, la Francine, la Francine, la Francine, la Francine, la Francine, "
                        "la Fran", "length")
    assert "degenerate" in loop["flags"] and loop["quality_score"] <= 25
    punctuation = text_quality("上海呢？", "上海是" + "？" * 60, "length")  # units drop punctuation; zlib does not
    assert "degenerate" in punctuation["flags"]
    code = text_quality("Write a Python function that adds two numbers.", "def add(a, b):\n    return a + b", "stop")
    assert code["language_match"] is None and code["flags"] == []


def test_a_short_answer_is_judged_by_its_script():
    assert language_mismatch("zh", "latin") is True  # Latin letters are not Chinese, however short
    assert language_mismatch("en", "latin") is None and language_mismatch("latin", "fr") is None
    assert language_mismatch("latin", "zh") is True and language_mismatch("en", "fr") is True
    short = text_quality("17 乘以 23 等于多少？", "17 * 23 = 391\n\nThe answer is 391.", "stop")
    assert short["response_language"] == "latin" and "language_mismatch" in short["flags"]


def test_quality_score_combines_parts_and_caps_by_flag():
    base = {"degeneration_score": 100.0, "language_match": True, "truncated": False}
    assert quality_score(base) == 100.0
    weighted = round((60 * 0.35 + 100 * 0.30) / 0.65, 1)
    assert quality_score(base | {"degeneration_score": 60.0}) == pytest.approx(weighted)
    assert quality_score(base | {"degeneration_score": 40.0}) == 25.0  # degenerate: capped
    assert quality_score(base | {"language_match": False}) == 35.0
    assert quality_score(base | {"truncated": True}) == pytest.approx(round((100 * 0.55 + 50 * 0.1) / 0.65, 1))
    assert quality_score(base | {"mean_token_entropy": 2.4}) == pytest.approx(round(100 * 0.65 / 0.70, 1))
    assert quality_score({}) is None


def test_relevance_joins_the_score_on_its_models_scale():
    quality = text_quality("How do I make soup?", "Boil water, add vegetables and salt, then simmer it.", "stop")
    assert with_relevance(quality, 0.9, None, "multilingual-e5-small")["quality_score"] == 100.0
    unrelated = with_relevance(quality, 0.78, None, "multilingual-e5-small")
    assert unrelated["flags"] == ["off_topic"] and unrelated["quality_score"] == 35.0
    assert with_relevance(quality, 0.5, None, "all-MiniLM-L6-v2")["quality_score"] == 100.0  # MiniLM's scale
    missing = with_relevance(quality, None, "embedding model unavailable")
    assert missing["relevance"] is None and missing["relevance_reason"] == "embedding model unavailable"
    assert quality["relevance_reason"] == "pending"  # the original is not modified


def test_layer_summary_means_percents_and_streaks():
    qualities = [
        {"quality_score": 80.0, "relevance": 0.4, "repetition_rate": 0.0, "language_match": True, "empty": False,
         "truncated": True, "flags": ["truncated"]},
        {"quality_score": 40.0, "relevance": None, "repetition_rate": 0.5, "language_match": False, "empty": False,
         "truncated": False, "flags": ["degenerate", "language_mismatch"]},
    ]
    sample = summarize(qualities, [0.99, 0.4])
    assert sample["quality_requests"] == 2 and sample["quality_score"] == 60.0 and sample["relevance"] == 0.4
    assert sample["repetition_rate"] == 0.25 and sample["perplexity"] is None
    assert sample["language_mismatch_percent"] == 50.0 and sample["empty_response_percent"] == 0.0
    assert sample["truncated_percent"] == 50.0 and sample["canary_drift_similarity"] == 0.4
    assert sample["degenerate_recent"] == 1 and sample["language_mismatch_recent"] == 1
    assert summarize([], [])["quality_score"] is None and summarize([], [])["degenerate_recent"] is None


def answer(trace_id: str, *flags: str, score: float = 90.0, synthetic: bool = False) -> dict:
    return {"trace_id": trace_id, "synthetic": synthetic, "quality": {"quality_score": score, "flags": list(flags)}}


def test_the_window_keeps_quality_while_it_holds_answers_and_counts_streaks():
    window = QualityWindow(window_seconds=300)
    window.add(answer("a"), ts=0.0)
    window.add({"synthetic": True, "quality": {"quality_score": 10.0, "drift_similarity": 0.7}}, ts=1.0)
    window.add({"synthetic": False}, ts=1.0)  # no quality measured
    first = window.sample(10.0)
    assert first["quality_requests"] == 1 and first["quality_score"] == 90.0 and first["canary_drift_similarity"] == 0.7
    second = window.sample(20.0)  # no new answer: quality is still there, no flapping; the probe was per cycle
    assert second["quality_requests"] == 1 and second["canary_drift_similarity"] is None
    for index, flags in enumerate([("degenerate",), (), ("degenerate",), ("degenerate",)]):
        window.add(answer(f"d{index}", *flags, score=20.0 if flags else 90.0), ts=30.0 + index)
    streak = window.sample(40.0)
    assert streak["degenerate_recent"] == 3 and streak["language_mismatch_recent"] == 0
    assert window.evidence(40.0)["degenerate_recent"] == ["d0", "d2", "d3"]
    assert window.evidence(40.0)["quality_score"][:3] == ["d0", "d2", "d3"]  # the lowest first
    assert window.sample(400.0)["quality_requests"] == 0  # all older than the window
