"""The hallucination-risk flag `low_confidence`: -sum log p of the answer's first sentence, its claim, on known inputs.

Token figures below are SmolLM2-135M's own (benchmarks/data/factual_answers.jsonl) where they say so."""

from __future__ import annotations

import math

import pytest

from healthmon.quality.metrics import text_quality
from healthmon.quality.relevance import asks_for_fact
from healthmon.quality.uncertainty import (
    HEAD_TOKENS,
    LOW_CONFIDENCE_ABOVE,
    first_sentence_nll,
    first_sentence_tokens,
    low_confidence,
    lowest_token_nll,
    token_texts_of,
)

SURE = math.log(0.97)  # a token the model all but had to write

# SmolLM2's greedy answers: "The capital of Japan is Tokyo." (right) and "There are 126.125 Earths." (wrong,
# asked how many continents there are).
TOKYO = [-0.32, -0.02, -0.03, -0.0, -0.05, -0.07, -0.33]
EARTHS = [-1.25, -0.07, -1.17, -0.49, -0.57, -1.95, -2.0, -1.53, -1.86, -1.37, -1.96, -0.14, -1.06]


def _flags(prompt: str, answer: str, logprobs: list[float], sentence_tokens: int | None = None) -> list[str]:
    return text_quality(prompt, answer, "stop", logprobs, [0.5] * len(logprobs),
                        first_sentence_tokens=sentence_tokens)["flags"]


def test_a_confident_right_answer_is_not_flagged():
    assert first_sentence_nll(TOKYO, 7) == pytest.approx(0.32 + 0.02 + 0.03 + 0.0 + 0.05 + 0.07 + 0.33)
    assert "low_confidence" not in _flags("What is the capital of Japan?", "The capital of Japan is Tokyo.", TOKYO, 7)


def test_an_unsure_wrong_answer_is_flagged():
    assert first_sentence_nll(EARTHS, 13) == pytest.approx(-math.fsum(EARTHS))
    assert "low_confidence" in _flags("How many continents are there?", "There are 126.125 Earths.", EARTHS, 13)


def test_one_very_unlikely_key_token_in_a_fluent_answer_is_flagged():
    # "The capital of Turkey is <a city the model gave 1 in 100,000>." Mean token entropy would not see it.
    logprobs = [SURE] * 5 + [math.log(1e-5)] + [SURE]
    assert first_sentence_nll(logprobs, 7) > LOW_CONFIDENCE_ABOVE
    assert "low_confidence" in _flags("What is the capital of Turkey?", "The capital of Turkey is Smyrna.", logprobs)


def test_one_mildly_unlikely_token_is_not_enough():
    # A claim of ten tokens the model was fairly sure of, one of them at p = 0.05, stays unflagged.
    logprobs = [math.log(0.8)] * 9 + [math.log(0.05)]
    assert LOW_CONFIDENCE_ABOVE > first_sentence_nll(logprobs, 10)
    assert not low_confidence({"asks_for_fact": True, "first_sentence_nll": first_sentence_nll(logprobs, 10)})


def test_filler_after_the_claim_is_not_read():
    # "The chemical symbol for gold is Au." then filler of unlikely words: the claim was sure.
    claim, filler = [SURE] * 8, [math.log(0.05)] * 20
    prompt, answer = "What is the chemical symbol for gold?", "The chemical symbol for gold is Au. It is a metal ..."
    assert "low_confidence" not in _flags(prompt, answer, claim + filler, 8)
    assert "low_confidence" in _flags(prompt, answer, claim + filler)  # no sentence known: the whole head


def test_only_the_head_of_a_long_answer_is_read():
    unsure = [math.log(0.05)] * 100
    assert first_sentence_nll([SURE] * HEAD_TOKENS + unsure, None) == pytest.approx(-SURE * HEAD_TOKENS)
    assert first_sentence_nll([SURE] * HEAD_TOKENS + unsure, 500) == pytest.approx(-SURE * HEAD_TOKENS)


def test_a_short_answer_is_read_whole():
    assert lowest_token_nll([math.log(0.5), math.log(0.25)]) == pytest.approx((math.log(2) + math.log(4)) / 2)
    assert first_sentence_nll([math.log(0.5), math.log(0.25)], None) == pytest.approx(math.log(8))


def test_chinese_answers_are_read_by_their_token_figures():
    # A Han character is up to three byte-level tokens: an unlikely first byte, then continuation bytes the model
    # is sure of. The flag reads the figures, never the script.
    prompt = "日本的首都是哪里？"
    sure_answer = [SURE] * 9  # 日本的首都是东京。
    unsure_city = [SURE] * 6 + [math.log(0.002), SURE, SURE, math.log(0.01), SURE]  # 日本的首都是大阪。
    assert "low_confidence" not in _flags(prompt, "日本的首都是东京。", sure_answer, 9)
    assert "low_confidence" in _flags(prompt, "日本的首都是大阪。", unsure_city, 11)


def test_no_tokens_no_signal():
    assert lowest_token_nll(None) is None and lowest_token_nll([]) is None
    assert first_sentence_nll(None, None) is None and first_sentence_nll([], 3) is None
    assert not low_confidence({"first_sentence_nll": None}) and not low_confidence({})
    assert text_quality("Hi?", "Hello.", "stop")["first_sentence_nll"] is None


# Unsure tokens a free answer is full of: SmolLM2 sampled "Why is the sky blue?" at lowest_token_nll 4.5.
FREE_WORDS = [SURE, math.log(0.02), SURE, math.log(0.03), math.log(0.01), SURE, math.log(0.05), math.log(0.02)]


@pytest.mark.parametrize("prompt, answer", [
    ("Why is the sky blue?", "The sky is a brilliant example of Rayleigh scattering at work."),
    ("What is photosynthesis?", "Photosynthesis is how plants turn light into sugar."),
    ("Give me three tips for sleeping better.", "Keep a schedule, skip late coffee, and dim the lights."),
    ("天空为什么是蓝色的？", "阳光中的蓝光被空气散射得最多。"),
    ("什么是光合作用？", "植物利用光能把二氧化碳和水变成糖。"),
    ("写一首关于大海的短诗。", "海风轻拂，浪花低语。"),
])
def test_an_open_answer_with_unlikely_words_is_not_flagged(prompt: str, answer: str):
    assert first_sentence_nll(FREE_WORDS, None) > LOW_CONFIDENCE_ABOVE
    assert not asks_for_fact(prompt)
    assert "low_confidence" not in _flags(prompt, answer, FREE_WORDS)


@pytest.mark.parametrize("prompt, answer", [
    ("How many continents are there?", "There are 126.125 Earths."),
    ("Who wrote Pride and Prejudice?", "Pride and Prejudice was written by Charles Brontë."),
    ("In what year did the Berlin Wall fall?", "The Berlin Wall fell in 1991."),
    ("What is the chemical symbol for gold?", "The chemical symbol for gold is Ag."),
    ("What is 100 − 37?", "100 − 37 = 73."),
    ("Answer in Chinese: what is the capital of Italy?", "意大利的首都是米兰。"),
    ("《红楼梦》的作者是谁？", "《红楼梦》的作者是鲁迅。"),
    ("一小时有多少分钟？", "一小时有一百分钟。"),
    ("水的化学式是什么？", "水的化学式是HO2。"),
    ("意大利的首都是哪里？", "意大利的首都是米兰。"),
])
def test_a_factual_question_with_an_unsure_answer_is_flagged(prompt: str, answer: str):
    assert asks_for_fact(prompt)
    assert "low_confidence" in _flags(prompt, answer, EARTHS)


def test_the_flag_needs_both_the_question_and_the_unsure_tokens():
    assert not low_confidence({"asks_for_fact": False, "first_sentence_nll": 20.0})
    assert not low_confidence({"asks_for_fact": True, "first_sentence_nll": 1.0})
    assert low_confidence({"asks_for_fact": True, "first_sentence_nll": 20.0})


def test_a_question_inside_a_long_instruction_is_not_a_factual_question():
    assert not asks_for_fact("Write a short story for children in which a girl asks her grandmother who built the "
                             "old lighthouse and why it still stands on the cliff above the sea.")


# Token texts as SmolLM2's tokenizer decodes them one by one (benchmarks/data/factual_answers.jsonl).
@pytest.mark.parametrize(("texts", "sentence"), [
    (["The", " chemical", " symbol", " for", " gold", " is", " Au", ".", " It", " is", " a", " metal"], 8),
    (["The", " value", " is", " 3", ".", "1", "4", ".", " It"], 8),  # a decimal point ends nothing
    (["1", ".", " Paris", ".", "\n", "2"], 4),  # nor does a list's number
    (["北", "京", "是", "首", "都", "。", "它"], 6),
    (["法", "\ufffd", "\ufffd", "的", ":", "\n", "\n", "法"], 6),  # a loop's first line
    (["Paris"], 1),
    (["The", " answer", " is", " 42"], 4),  # no end: all of it
    ([], 0),
])
def test_the_first_sentence_ends_where_the_claim_does(texts, sentence):
    assert first_sentence_tokens(texts) == sentence


def test_the_head_can_be_shorter_than_head_tokens_but_never_longer():
    filler = [math.log(0.05)] * 20
    assert lowest_token_nll(TOKYO + filler, len(TOKYO)) == lowest_token_nll(TOKYO)
    assert lowest_token_nll([SURE] * HEAD_TOKENS + filler, 10_000) == pytest.approx(-SURE)


# Phrasings a first held-out set found unread (benchmarks/factual_questions_heldout.py), in wordings of their own.
@pytest.mark.parametrize("prompt", [
    "Name the capital of Peru.", "Tell me the author of Don Quixote.", "Please give me the boiling point of water.",
    "What is Kenya's capital?", "What was Edison's birthplace?",
    "What is nine times six?", "What is forty plus twelve?", "三乘以九等于几？",
    "What gas makes up most of the air?", "What metal is liquid at room temperature?", "是什么气体让面包发起来？",
    "请说出日本的首都。", "告诉我秘鲁的首都", "葡萄牙的首都叫什么？", "意大利的首都是什么城市？",
    "化学符号 O 代表什么元素？",
    # the same forms kept beside the review's open prompts (issue 26)
    "State the chemical symbol for gold.", "Name the longest river in Africa.", "What's the theme of Hamlet?",
    "What is twelve divided by three?", "What is 7 multiplied by 6?", "What is nine - four?", "十除以二等于几？",
    "是什么力使苹果落地？", "智利的首都是什么城市？", "他的名字叫什么？", "请告诉我食盐的化学式。",
])
def test_a_fact_asked_as_a_command_a_possessive_or_in_number_words_is_factual(prompt: str):
    assert asks_for_fact(prompt)


@pytest.mark.parametrize("prompt", [
    "Name three benefits of exercise.", "Tell me about the history of Rome.", "Tell me the difference between a virus "
    "and a bacterium.", "What is Python's approach to memory management?", "What is one thing you would change?",
    "请说出你的想法。", "告诉我一个笑话", "你叫什么名字？", "请说出你的理由。",
    # found in review (issue 26): a command of a text, not of an attribute
    "Tell me the story of Cinderella.", "Tell me the history of Rome.", "Give me the recipe for pancakes.",
    "Give me the pros and cons of remote work.", "Name the benefits of exercise.",
    "Give me the best tips for studying.", "Tell me the latest news.",
    # number words that are no sum: how often, an age, a half, a brand
    "I exercise three times a week, is that enough?", "Is it OK to eat eggs two times a day?",
    "I'm thirty-five, should I change careers?", "fifty-fifty", "Should I buy a OnePlus or a Pixel?",
    "千万加油啊，你觉得呢？",
    "告诉我一个有趣的故事。", "请写出一首关于春天的诗。", "请指出这篇文章的优点和缺点。", "告诉我今天的新闻。",
    "请写出这段代码的注释。",
    "是什么力量让你坚持下去？", "你最喜欢什么城市？为什么？", "你想去什么国家旅游？", "这首歌有什么元素？",
    "你的名字叫什么？",
])
def test_open_requests_in_those_forms_are_not(prompt: str):
    assert not asks_for_fact(prompt)


def test_a_sign_between_a_number_and_a_word_is_no_sum():
    assert not asks_for_fact("What do you think about a five-day school week?")
    assert not asks_for_fact("Can you plan a 2-day visit to Rome for me?")
    assert asks_for_fact("What's nine minus four?") and asks_for_fact("What's the longest river in Asia?")


def test_token_texts_are_what_each_token_adds_to_the_decoded_text():
    # A SentencePiece tokenizer (Llama's) drops a token's leading space when it decodes it alone ("Au." "It"):
    # the prefixes keep it, so the period before " It" ends the sentence.
    prefixes = ["The", "The symbol", "The symbol is", "The symbol is Au.", "The symbol is Au. It", "The symbol is Au. "
                "It is"]
    texts = token_texts_of(prefixes)
    assert texts == ["The", " symbol", " is", " Au.", " It", " is"]
    assert first_sentence_tokens(texts) == 4
    # SmolLM2's "！" is two byte tokens: U+FFFD, then the whole character replaces it
    texts = token_texts_of(["巴黎", "巴黎\ufffd", "巴黎！", "巴黎！它"])
    assert texts == ["巴黎", "\ufffd", "！", "它"]
    assert first_sentence_tokens(texts) == 3


@pytest.mark.parametrize(("texts", "sentence"), [
    (["The", " highest", " is", " Mt", ".", " Everest", ".", " It"], 7),
    (["Written", " by", " Dr", ".", " Seuss", ".", " Yes"], 6),
    (["He", " said", ' "', "Paris", '."', " Then"], 5),  # the sentence ends inside the quotation
    (["Paris", "\n", "The", " capital"], 2),  # a one-word first line
])
def test_abbreviations_quotations_and_short_lines(texts, sentence):
    assert first_sentence_tokens(texts) == sentence


def test_an_echoed_question_is_not_the_claim():
    # SmolLM2 often repeats a Chinese question before answering it; the pieces of split characters stay U+FFFD
    texts = ["法", "\ufffd", "国", "的", "首", "都", "是", "哪", "里", "？", "\n", "巴", "黎", "。", "它"]
    assert first_sentence_tokens(texts) == 10
    assert first_sentence_tokens(texts, "法国的首都是哪里？") == 14
    loop = texts[:11] * 4  # an echo and nothing else: all of it
    assert first_sentence_tokens(loop, "法国的首都是哪里？") == len(loop)


def test_an_empty_answer_is_empty_not_unsure():
    assert text_quality("What is 2 + 2?", "  ", "stop", [-3.0] * 6, [0.5] * 6, first_sentence_tokens=6)["flags"] == [
        "empty"]
