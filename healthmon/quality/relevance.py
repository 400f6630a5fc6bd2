"""Whether an answer is on the prompt's topic, across languages and lengths.

Relevance is multilingual-e5's cosine of the prompt (as a query) and the answer (as a passage), but one line
(0.83) called right answers off-topic where e5 scores them lower: an answer in the language the prompt asked for
when that is not the prompt's, a translation, and a bare short answer ("Paris", "391"). So:
- the prompt is embedded without its language request ("Answer in Chinese:", "用英文"; the words found by
  language.requests): the request is about the answer's form, not its topic;
- a translation request is judged as the text to translate against the answer, both passages (e5 was trained
  on parallel text, so a translation sits close to its source);
- the line depends on the pair: an answer in another script than the prompt's, a short answer (at most
  SHORT_ANSWER_UNITS units) and a translation each have their own;
- a bare answer whose kind cannot answer the question is off-topic whatever its cosine (short_answer_fits: a
  number to who, where or yes-or-no, no number for a sum, yes or no to a wh-question);
- an answer in the wrong language is language_mismatch only: the cosine across languages is too low to read,
  and the language flag already names (and caps) it.
Measured with benchmarks/bench_relevance.py on benchmarks/data/relevance_eval.jsonl (written and real SmolLM2
answers) and the good, off-topic and wrong-language rows of quality_eval.jsonl, false alarms on good answers /
off-topic caught, one line -> this: cross-language 6/25, 28/29 -> 0/25, 23/29; translation 0/24, 15/24 ->
0/24, 23/24; short 11/27, 23/27 -> 0/27, 19/27 (11 by the line, 8 more by kind); the questions of quality_eval
2/117, 102/112 -> 0/117, 102/112; on-topic answers in the wrong language also called off-topic 23/75 ->
0/75. The lines and kinds were set on these rows (in-sample). A bare answer is the weak spot: e5 separates
right from unrelated ones at AUROC 0.86 only, so a bare answer of a fitting kind ("Oxygen" to how many legs a
spider has) passes; so do two real English texts about Shanghai asked for the Forbidden City and West Lake.
No cross-encoder was measured: the rerankers on PyPI fetch their weights from the Hugging Face hub.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from healthmon.curve import Curve
from healthmon.quality.embedder import Embedder
from healthmon.quality.language import asks_translation, fix_typos, requests, script_of

# the words that carry a language request, just before the language's name: "answer in X", "use X", "请用X"
_EN_LEAD = re.compile(r"(?:\b(?:in|into|to|using|use)\s+(?:(?:plain|simple|traditional|simplified|standard|"
                      r"formal|the|only)\s+)*)$", re.IGNORECASE)
_ZH_LEAD = re.compile(r"(?:请你?|麻烦)?\s*(?:用|以|使用|采用|改用)\s*$")
LEAD_WINDOW_CHARS = 80  # "answer only in plain simple traditional" and the like fit; a longer run is no request
_SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<!\s)\s+([,.:;?!，。：；？！])")  # one try per run of spaces: linear
_TRANSLATE = re.compile(r"translat|翻译|译成|译为", re.IGNORECASE)
# what to translate: a quoted text, else what follows the instruction's colon. A paired quote's text excludes its
# opening mark too: else each of a line of unclosed "“" read to the line's end (quadratic: 0.5 s at 8,000)
# 'I'm allergic to peanuts': an apostrophe between letters is inside the quotation (bounded: from each opening
# quote the first alternative reads at most 200 characters, so a line of "'a'a'a…" stays linear)
_QUOTED = re.compile(r"(?<![A-Za-z])'((?:[^'\n]|(?<=[A-Za-z])'(?=[A-Za-z])){1,200})'(?![A-Za-z])|"
                     r"(?<![A-Za-z])'([^'\n]+)'(?![A-Za-z])|\"([^\"\n]+)\"|“([^“”\n]+)”|「([^「」\n]+)」|"
                     r"‘([^‘’\n]+)’")
_AFTER_COLON = re.compile(r"[:：]\s*(.+)$", re.DOTALL)
# "How do you say hello in French?": the words between "say" and the language (bounded). The language is \w+, not
# \S+: \S+ and \W* both take punctuation, so a run of "!" before a failing end was split every way (quadratic:
# 3.4 s at 16,000)
_SAY_WHAT = re.compile(r"\b(?:say|translate|express)\s+([^\n?？]{1,60}?)\s+(?:in|into)\s+\w+\W*$", re.IGNORECASE)
# "Could you render this sentence in Chinese? The museum is closed on Mondays.": the sentence after the request
_NEXT_SENTENCE = re.compile(r"[?？.。!！]\s*(\S.*)$", re.DOTALL)
# What a bare answer is, and what the question asks for: a number ("391", "8条"), yes or no, a sum of numbers, a
# wh-question. e5 cannot tell "391" from "Tokyo" under "What is 17 times 23?"; their kinds can.
_BARE_NUMBER = re.compile(r"^\W*[-+]?\d+(?:[.,]\d+)*(?:\s?[^\W\d]{1,2})?\W*$")  # no two parts overlap: linear
_YES_NO = re.compile(r"^\W*(?:yes|no|yeah|nope|是的?|不是|对|不对|会|不会|能|不能|可以|不可以)\W*$", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_ASKS_NUMBER = re.compile(r"\d|\bhow\s+(?:many|much|old|long|far)\b|多少|几", re.IGNORECASE)
# questions no number answers: who, where, yes or no ("What year…", "Which floor…" may well want one)
_ASKS_NO_NUMBER = re.compile(r"^\W*(?:who|whom|whose|where|is|are|was|were|can|could|does|do|did|will|would|has|"
                             r"have|should)\b|谁|哪里|哪儿|什么颜色|吗\W*$", re.IGNORECASE)
# a number word is a whole word: "OnePlus", "someone", "often" hold none
_EN_NUMBER = (r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
              r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)\b")
_NUMBER = rf"(?:\d|{_EN_NUMBER})"
_ZH_NUMBER = r"[\d一二两三四五六七八九十百千万零]"
# A sum is a number, an operator and a number. A sign needs a number after it ("a four-day week", "a 3-day trip"),
# and between number words spaces around a hyphen ("thirty-five", "fifty-fifty" are one number); a word operator
# too ("three times a week", "two times a day" are how often); so does a Chinese one ("千万加油" is no sum).
_ARITHMETIC = re.compile(rf"\d\s*[-+*/×÷]\s*{_NUMBER}|{_EN_NUMBER}(?:\s*[+*/×÷]\s*|\s+-\s+){_NUMBER}|"
                         rf"{_NUMBER}\s*(?:times|plus|minus|multiplied\s+by|divided\s+by)\s+{_NUMBER}|"
                         rf"{_ZH_NUMBER}\s*(?:乘以|乘|加上|加|减去|减|除以)\s*{_ZH_NUMBER}", re.IGNORECASE)
_WH_QUESTION = re.compile(r"^\W*(?:what|which|who|whom|whose|where|when|how|why)\b|什么|哪|谁|多少|几|怎么|为什么",
                          re.IGNORECASE)


def without_request(prompt: str) -> str:
    """The prompt without the words asking for an answer language ("in Chinese", "用英文"): what it asks about.

    Each request's lead words ("answer in", "请用") are looked for in the LEAD_WINDOW_CHARS before its language's
    name only, and the kept pieces joined once: a prompt of many requests costs time linear in its length."""
    pieces: list[str] = []
    kept_from = 0
    for _language, start, end in requests(prompt):
        window = max(kept_from, start - LEAD_WINDOW_CHARS)
        before = prompt[window:start]
        lead = _EN_LEAD.search(before) or _ZH_LEAD.search(before)
        pieces.append(prompt[kept_from:window + lead.start() if lead else start].strip())
        kept_from = end
    pieces.append(prompt[kept_from:].strip())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(pieces)).strip(" \t\n,，、")


def translation_source(prompt: str) -> str | None:
    """The text a prompt asks to have translated ("Translate 'good morning' into Chinese.", "翻译成英文：今天很冷。",
    "中译英：…", "How do I say 'happy birthday' in Chinese?"), or None when it asks for no translation or the text
    cannot be told from the instruction."""
    if not asks_translation(prompt) and not (requests(prompt) and _TRANSLATE.search(fix_typos(prompt))):
        return None
    quoted = _QUOTED.search(prompt)
    if quoted:
        return next(group for group in quoted.groups() if group).strip() or None
    after = _AFTER_COLON.search(prompt)
    if after:
        return after.group(1).strip() or None
    said = _SAY_WHAT.search(prompt)
    if said:
        return said.group(1).strip() or None
    last = requests(prompt)[-1:] if requests(prompt) else []
    following = _NEXT_SENTENCE.search(prompt, last[0][2]) if last else None
    return following.group(1).strip() or None if following else None


QUESTION, TRANSLATION = "question", "translation"
SHORT_ANSWER_UNITS = 4  # "Paris", "391", "是的。", "曹雪芹": too few words for an embedding to place
BARE_ANSWER_MAX_CHARS = 64  # a few units padded with 20 kB of punctuation is no bare answer


@dataclass(frozen=True)
class Lines:
    """Off-topic below these cosines, one per kind of pair: e5's scale differs between them."""

    question: float
    cross_language: float
    short: float
    translation: float


@dataclass(frozen=True)
class Relevance:
    """A relevance cosine and how it was measured (QUESTION or TRANSLATION), or None and the reason."""

    value: float | None
    reason: str | None
    method: str | None = None


OFF_TOPIC_LINES = {"multilingual-e5-small": Lines(question=0.83, cross_language=0.77, short=0.775, translation=0.82),
                   # English only, never measured on the other pairs: one line
                   "all-MiniLM-L6-v2": Lines(question=0.15, cross_language=0.15, short=0.15, translation=0.15)}
RELEVANCE_CURVES = {"multilingual-e5-small": Curve(good=0.88, bad=0.80), "all-MiniLM-L6-v2": Curve(good=0.35, bad=0.05)}
DEFAULT_RELEVANCE_MODEL = "all-MiniLM-L6-v2"  # sentence-transformers models are on MiniLM's scale more or less


def relevance(embedder: Embedder, prompt: str, response: str) -> Relevance:
    """How close the answer is to what the prompt asks: to the text to translate (passage . passage) when the
    prompt asks for a translation, else to the prompt without its language request (query . passage)."""
    if not response.strip():
        return Relevance(None, "empty response")
    if not prompt.strip():
        return Relevance(None, "empty prompt")
    answer = embedder.passage(response)
    source = translation_source(prompt)
    if source is not None:
        return Relevance(_cosine(embedder.passage(source), answer), None, TRANSLATION)
    return Relevance(_cosine(embedder.query(without_request(prompt) or prompt), answer), None, QUESTION)


def short_answer_fits(prompt: str, answer: str, units: int) -> bool | None:
    """For a bare answer (at most SHORT_ANSWER_UNITS units): False when its kind cannot answer the question (a
    number to who, where or yes-or-no, no number for a sum, yes or no to a wh-question), True when it can; None
    for longer answers and where no kind is known."""
    if units > SHORT_ANSWER_UNITS or len(answer) > BARE_ANSWER_MAX_CHARS or not answer.strip():
        return None
    if _BARE_NUMBER.match(answer):
        if _ASKS_NUMBER.search(prompt):
            return True
        return False if _ASKS_NO_NUMBER.search(prompt) else None
    if _ARITHMETIC.search(prompt) and not _DIGIT.search(answer):
        return False
    if _YES_NO.match(answer):
        return not (_WH_QUESTION.search(prompt) and not prompt.rstrip(" ？?").endswith("吗"))
    return None


def _cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.clip(np.dot(first, second), -1.0, 1.0))


def off_topic_line(quality: Mapping[str, Any]) -> float:
    """The cosine below which this answer is off-topic: by its model, and by the kind of pair it is."""
    lines = OFF_TOPIC_LINES.get(quality.get("relevance_model") or "", OFF_TOPIC_LINES[DEFAULT_RELEVANCE_MODEL])
    if quality.get("relevance_method") == TRANSLATION:
        return lines.translation
    units = quality.get("response_units")
    if units is not None and units <= SHORT_ANSWER_UNITS:
        return lines.short
    prompt_language, response_language = quality.get("prompt_language"), quality.get("response_language")
    if prompt_language and response_language and script_of(prompt_language) != script_of(response_language):
        return lines.cross_language
    return lines.question


def is_off_topic(quality: Mapping[str, Any]) -> bool:
    """A bare answer of the wrong kind, or a relevance below its line; never beside a language mismatch: that
    flag names the problem, and a cosine across two languages is too low to read either way."""
    if quality.get("language_match") is False:
        return False
    if quality.get("short_answer_fits") is False:
        return True
    return quality.get("relevance") is not None and bool(quality["relevance"] < off_topic_line(quality))


def relevance_part(quality: Mapping[str, Any]) -> float | None:
    """0-100 for the quality score: the model's curve, moved by as much as this pair's line is moved."""
    if quality.get("relevance") is None:
        return None
    model = quality.get("relevance_model") or ""
    curve = RELEVANCE_CURVES.get(model, RELEVANCE_CURVES[DEFAULT_RELEVANCE_MODEL])
    base = OFF_TOPIC_LINES.get(model, OFF_TOPIC_LINES[DEFAULT_RELEVANCE_MODEL]).question
    return curve(quality["relevance"] + base - off_topic_line(quality))


# A question whose answer is one checkable fact: a sum, a count or amount, a who / where / when / which, a year,
# "the X of Y" ("the capital of France", "the chemical symbol for gold"), "X的Y是什么". Definitions ("What is
# photosynthesis?", "什么是光合作用？"), how and why, and "有什么好处" ask for an explanation: no one fact to be
# wrong on.
_ASKS_AMOUNT = re.compile(r"\bhow\s+(?:many|much|old|long|far)\b|多少|几[个条颗天年岁次]|有几|等于几|\d\s*−\s*\d",
                          re.IGNORECASE)
# The English ones are matched at the start of each clause (the question's start, or after a colon: "Question:
# who ..."), one anchored match per clause: searched for after every colon, `\W*` re-read each run of colons and
# took 9 s on 16,000 of them (tests/test_quality_linear_time.py).
_ASKS_ENTITY = re.compile(r"\W*(?:(?:in|at|on|from|by)\s+)?(?:who|whom|whose|where|when|which|"
                          r"what\s+(?:year|temperature|date|day|country|city|planet|language|force|gas|element|organ|"
                          r"metal|continent|ocean|river|mountain|currency))\b", re.IGNORECASE)
# Not 什么力量 / 什么力气 ("是什么力量让你坚持下去？"), not "有什么元素" (a song's), and no bare 什么城市 / 什么国家:
# "你想去什么国家旅游？" asks a wish ("X的首都是什么城市" is _ZH_WHAT_IS_IT's)
_ZH_ASKS_ENTITY = re.compile(r"谁|哪里|哪儿|哪一|哪[个颗座种国位年]|"
                             r"什么(?:力(?!量|气)|气体|器官|金属|星球|行星|海洋)|(?<!有)什么元素")
# "what is the X of Y", any X, as it was read before the command forms came (and "what's")
_ASKS_THE_X_OF = re.compile(r"\W*what(?:\s+(?:is|was|are|were)|['’]s)\s+the\s+"
                            r"(?:\w+est\b|[\w\s]{1,40}?\b(?:of|for|in|on)\b)", re.IGNORECASE)
# The same asked as a command ("Name the capital of Vietnam.", "Tell me the boiling point of water."), only of an
# attribute a fact is asked of: "Tell me the story of ...", "Give me the recipe for ...", "Give me the best tips"
# ask for a text. A superlative only of a thing that has one ("Name the largest planet ..."), not "the latest news".
_ATTRIBUTE = (r"(?:capital(?:\s+city)?|author|writer|inventor|founder|creator|discoverer|composer|painter|architect|"
              r"(?:chemical\s+|atomic\s+)?symbol|(?:chemical\s+|molecular\s+)?formula|population|currency|area|height|"
              r"length|depth|diameter|distance|(?:boiling|melting|freezing)\s+point|year|date|speed\s+of\s+(?:light|sound)|"
              r"(?:square|cube)\s+root|atomic\s+(?:number|weight|mass)|official\s+language|national\s+(?:animal|flower)|"
              r"\w+est\s+(?:planet|star|moon|city|country|state|ocean|sea|lake|river|mountain|volcano|desert|island|"
              r"continent|animal|mammal|bird|fish|organ|bone|muscle|element|metal|building|waterfall|bridge))\b")
_NAME_THE_X = re.compile(rf"\W*(?:please\s+)?(?:name|tell\s+me|give\s+me|state)\s+the\s+"
                         rf"(?:(?:official|current|approximate|exact)\s+)?{_ATTRIBUTE}", re.IGNORECASE)
# "What is Nigeria's capital?": a possessive with one of the attributes a fact is asked of
_ASKS_POSSESSIVE = re.compile(r"\W*what(?:\s+(?:is|was|are|were)|['’]s)\s+[\w\s]{1,40}?['’]s\s+"
                              r"(?:capital|population|currency|area|height|length|founder|author|inventor|birthday|birthplace|symbol|formula|"
                              r"official\s+language|largest\s+city|highest\s+mountain|longest\s+river)\W*$",
                              re.IGNORECASE)
# "请说出越南的首都。", "告诉我智利的首都": the Chinese command form of "the X of Y", of an attribute a fact is
# asked of only (not "请说出你的想法", "告诉我一个有趣的故事", "请指出这篇文章的优点和缺点", "告诉我今天的新闻")
_ZH_ATTRIBUTE = (r"(?:首都|首府|省会|作者|发明者|发明人|创始人|创立者|发现者|面积|人口|货币|官方语言|"
                 r"化学符号|元素符号|化学式|分子式|沸点|熔点|生日|出生地|出生年份|高度|海拔|长度|深度|"
                 r"最高峰|原名|原子序数)")
_ZH_NAME_THE_X_OF = re.compile(rf"\W*(?:请你?)?(?:说出|告诉我|写出|指出)(?!你|我|他|她|自己|一[个首篇段]|这|那)"
                               rf"[^，。？?！!,]{{1,16}}的{_ZH_ATTRIBUTE}\W*$")
_CLAUSE_BREAK = re.compile(r"[:：]")
# not of "你的" / "我的": "你的名字叫什么？" asks the assistant, no fact of the world
_ZH_WHAT_IS_IT = re.compile(r"(?<!你)(?<!我)(?<!您)(?<!你们)(?<!我们)的[^，。？?！!,]{1,12}(?:是|叫)什么"
                            r"(?:城市|名字|地方|国家)?\W*$")
FACT_QUESTION_UNITS = 16  # a longer prompt is an instruction with a question in it, not a question


def asks_for_fact(prompt: str) -> bool:
    """Whether the prompt (without its language request) is a short question with one checkable answer: the
    questions on which a low-probability answer is a hallucination risk rather than a free choice of words."""
    question = without_request(prompt) or prompt
    if len(re.findall(r"\w+", question)) + len(re.findall(r"[\u4e00-\u9fff]", question)) // 2 > FACT_QUESTION_UNITS:
        return False
    clauses = _CLAUSE_BREAK.split(question)
    return bool(_ARITHMETIC.search(question) or _ASKS_AMOUNT.search(question) or _ZH_ASKS_ENTITY.search(question)
                or any(_ASKS_ENTITY.match(clause) or _ASKS_THE_X_OF.match(clause) or _NAME_THE_X.match(clause)
                       or _ASKS_POSSESSIVE.match(clause)
                       or _ZH_NAME_THE_X_OF.match(clause) for clause in clauses)
                or _ZH_WHAT_IS_IT.search(question))
