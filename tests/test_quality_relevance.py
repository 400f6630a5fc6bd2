"""off_topic across languages and lengths (issue 26): the prompt's language request cut out, translations compared with
their source, short answers on their own line, and a wrong-language answer named once; with the bundled e5."""

import pytest

from healthmon.quality.embedder import load_embedder
from healthmon.quality.metrics import text_quality, with_relevance
from healthmon.quality.relevance import (
    OFF_TOPIC_LINES,
    QUESTION,
    TRANSLATION,
    off_topic_line,
    relevance,
    short_answer_fits,
    translation_source,
    without_request,
)

E5 = "multilingual-e5-small"


@pytest.fixture(scope="module")
def e5():
    return load_embedder(E5)


def judged(e5, prompt: str, answer: str) -> list[str]:
    measured = relevance(e5, prompt, answer)
    return with_relevance(text_quality(prompt, answer, "stop"), measured.value, measured.reason, e5.name,
                          measured.method)["flags"]


@pytest.mark.parametrize(("prompt", "asks_about"), [
    ("Answer in Chinese: what is a cat?", "Answer: what is a cat?"),
    ("Explain in Chinese what a computer is.", "Explain what a computer is."),
    ("In Chinese, describe the Great Wall.", "describe the Great Wall."),
    ("请用英语介绍一下长城。", "介绍一下长城。"),
    ("用英文回答：什么是太阳？", "回答：什么是太阳？"),
    ("What is Chinese food?", "What is Chinese food?"),  # a language as a topic stays
])
def test_the_language_request_is_cut_out_of_the_prompt(prompt, asks_about):
    assert without_request(prompt) == asks_about


@pytest.mark.parametrize(("prompt", "source"), [
    ("Translate 'good morning' into Chinese.", "good morning"),
    ("Translate into Chinese: The weather is nice today.", "The weather is nice today."),
    ("把“谢谢你的帮助”翻译成英文。", "谢谢你的帮助"),
    ("翻译成英文：今天很冷。", "今天很冷。"),
    ("Answer in Chinese: what is a cat?", None),  # no translation asked
    ("What does 'translation' mean?", None),  # no language asked
])
def test_the_text_to_translate_is_found(prompt, source):
    assert translation_source(prompt) == source


def test_each_kind_of_pair_has_its_line():
    lines = OFF_TOPIC_LINES[E5]
    base = {"relevance_model": E5, "relevance_method": QUESTION, "response_units": 30,
            "prompt_language": "en", "response_language": "en"}
    assert off_topic_line(base) == lines.question
    assert off_topic_line(base | {"response_language": "zh"}) == lines.cross_language
    assert off_topic_line(base | {"response_units": 1}) == lines.short
    assert off_topic_line(base | {"relevance_method": TRANSLATION}) == lines.translation


@pytest.mark.parametrize(("prompt", "answer", "fits"), [
    ("What is 17 times 23?", "391", True),
    ("What is 17 times 23?", "Tokyo.", False),  # a sum answered without a number
    ("12 加 30 等于几？", "不会。", False),
    ("Who wrote Romeo and Juliet?", "25", False),  # a number to who, where, yes or no
    ("日本的首都是哪里？", "391", False),
    ("What is the largest planet in our solar system?", "Yes.", False),  # yes or no to a wh-question
    ("太阳系最大的行星是哪颗？", "是的。", False),
    ("企鹅会飞吗？", "不会。", True),
    ("Do you know what time it is?", "No.", True),
    ("What year did the war end?", "1945", None),  # a number may answer "what"
    ("What is the capital of France?", "Paris", None),
])
def test_a_bare_answer_of_the_wrong_kind_does_not_fit(prompt, answer, fits):
    assert short_answer_fits(prompt, answer, units=1) is fits


def test_a_longer_answer_is_left_to_the_embedding():
    assert short_answer_fits("What is 17 times 23?", "Tokyo is the capital of Japan.", units=6) is None
    assert short_answer_fits("Who wrote Hamlet?", "1" + " " * 20_000 + "xyz", units=2) is None


@pytest.mark.parametrize("answer", ["391", "8条", "3.14", "-5", "1,000", "25."])
def test_numbers_read_as_bare_numbers(answer):
    assert short_answer_fits("Who wrote Hamlet?", answer, units=1) is False


@pytest.mark.parametrize(("prompt", "right", "unrelated"), [
    ("请用英语介绍一下长城。",  # cross-language: a Chinese prompt asking for English
     "The Great Wall is a series of ancient fortifications in northern China, built to protect against invasions.",
     "Giant pandas eat mostly bamboo, many kilograms of it a day, and now and then small animals or fruit."),
    ("Answer in Chinese: what is a cat?",
     "猫是一种小型的家养哺乳动物，身体柔软，善于抓老鼠，常被人们当作宠物饲养。",
     "植物主要靠根从土壤中吸收水分，水再通过茎里的导管运到叶子。"),
    ("Translate into Chinese: The weather is nice today.", "今天天气很好。", "我哥哥是一名医生。"),
    ("翻译成英文：今天很冷。", "It is very cold today.", "The children are playing in the park."),
    ("What is the capital of France?", "Paris", "Blue."),
    ("Can penguins fly?", "No.", "42"),
    ("What is 12 plus 30?", "42", "Shakespeare"),
    ("What is 17 times 23?", "391", "Tokyo."),
    ("法国的首都是哪里？", "巴黎", "Oxygen"),
])
def test_a_right_answer_is_on_topic_and_an_unrelated_one_is_not(e5, prompt, right, unrelated):
    assert judged(e5, prompt, right) == []
    assert "off_topic" in judged(e5, prompt, unrelated)


@pytest.mark.parametrize(("prompt", "answer"), [
    ("请用英语介绍一下长城。", "长城是中国古代为了抵御外敌入侵而修建的军事工程，绵延数千公里。"),
    ("What is photosynthesis?", "光合作用是植物利用阳光、水和二氧化碳制造糖并释放氧气的过程。"),
    ("天空为什么是蓝色的？", "The sky looks blue because air scatters blue sunlight more than red light."),
])
def test_an_on_topic_answer_in_the_wrong_language_is_only_a_language_mismatch(e5, prompt, answer):
    assert judged(e5, prompt, answer) == ["language_mismatch"]
