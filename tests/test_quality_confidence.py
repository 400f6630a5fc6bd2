"""The hallucination-risk flag `low_confidence`: the mean -log p of the answer's least likely tokens, on known inputs.

Token figures below are SmolLM2-135M's own (benchmarks/data/factual_answers.jsonl) where they say so."""

from __future__ import annotations

import math

import pytest

from healthmon.quality.metrics import text_quality
from healthmon.quality.uncertainty import (
    HEAD_TOKENS,
    LOW_CONFIDENCE_ABOVE,
    LOWEST_TOKENS,
    low_confidence,
    lowest_token_nll,
)

SURE = math.log(0.97)  # a token the model all but had to write

# SmolLM2's greedy answers: "The capital of Japan is Tokyo." (right) and "There are 126.125 Earths." (wrong,
# asked how many continents there are).
TOKYO = [-0.32, -0.02, -0.03, -0.0, -0.05, -0.07, -0.33]
EARTHS = [-1.25, -0.07, -1.17, -0.49, -0.57, -1.95, -2.0, -1.53, -1.86, -1.37, -1.96, -0.14, -1.06]


def _flags(prompt: str, answer: str, logprobs: list[float]) -> list[str]:
    return text_quality(prompt, answer, "stop", logprobs, [0.5] * len(logprobs))["flags"]


def test_a_confident_right_answer_is_not_flagged():
    assert lowest_token_nll(TOKYO) == pytest.approx((0.33 + 0.32 + 0.07 + 0.05 + 0.03) / 5)
    assert "low_confidence" not in _flags("What is the capital of Japan?", "The capital of Japan is Tokyo.", TOKYO)


def test_an_unsure_wrong_answer_is_flagged():
    assert lowest_token_nll(EARTHS) == pytest.approx((2.0 + 1.96 + 1.95 + 1.86 + 1.53) / 5)
    assert "low_confidence" in _flags("How many continents are there?", "There are 126.125 Earths.", EARTHS)


def test_one_very_unlikely_key_token_in_a_fluent_answer_is_flagged():
    # "The capital of Turkey is <a city the model gave 1 in 10,000>." Mean token entropy would not see it.
    logprobs = [SURE] * 5 + [math.log(1e-4)] + [SURE]
    assert lowest_token_nll(logprobs) > LOW_CONFIDENCE_ABOVE
    assert "low_confidence" in _flags("What is the capital of Turkey?", "The capital of Turkey is Smyrna.", logprobs)


def test_one_mildly_unlikely_token_is_not_enough():
    # The mean of the lowest few, not the single lowest: one token at p = 0.05 among sure ones stays unflagged.
    logprobs = [SURE] * 6 + [math.log(0.05)]
    assert -math.log(0.05) > LOW_CONFIDENCE_ABOVE > lowest_token_nll(logprobs)
    assert not low_confidence({"lowest_token_nll": lowest_token_nll(logprobs)})


def test_only_the_head_of_a_long_answer_is_read():
    unsure = [math.log(0.05)] * 100
    assert not low_confidence({"lowest_token_nll": lowest_token_nll([SURE] * HEAD_TOKENS + unsure)})
    assert low_confidence({"lowest_token_nll": lowest_token_nll([SURE] * (HEAD_TOKENS - LOWEST_TOKENS) + unsure)})


def test_a_short_answer_is_read_whole():
    assert lowest_token_nll([math.log(0.5), math.log(0.25)]) == pytest.approx((math.log(2) + math.log(4)) / 2)


def test_chinese_answers_are_read_by_their_token_figures():
    # A Han character is up to three byte-level tokens: an unlikely first byte, then continuation bytes the model
    # is sure of. The flag reads the figures, never the script.
    prompt = "日本的首都是哪里？"
    sure_answer = [SURE] * 9  # 日本的首都是东京。
    unsure_city = [SURE] * 6 + [math.log(0.002), SURE, SURE, math.log(0.01), SURE]  # 日本的首都是大阪。
    assert "low_confidence" not in _flags(prompt, "日本的首都是东京。", sure_answer)
    assert "low_confidence" in _flags(prompt, "日本的首都是大阪。", unsure_city)


def test_no_tokens_no_signal():
    assert lowest_token_nll(None) is None and lowest_token_nll([]) is None
    assert not low_confidence({"lowest_token_nll": None}) and not low_confidence({})
    assert text_quality("Hi?", "Hello.", "stop")["lowest_token_nll"] is None
