"""Every pattern the request path and the scorer run on client or model text takes time linear in the text.

A quadratic pattern froze the app: `<\\/?\\w+[^>]*>$` on a line of "<" and a long run of word characters took
3.2 s at 64k characters, holding the GIL, so every page, /api and /metrics waited. These tests time each pattern
on adversarial texts of n and 4n characters in one run, best of a few: linear work grows ~4x, quadratic 16x.
They compare the two sizes side by side instead of asserting a time, and count the thread's CPU time, so a busy
machine does not move them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from healthmon.quality import language, metrics, relevance
from healthmon.quality.degeneration import tail_loop

SIZE = 10_000
GROWTH = 4
LINEAR_AT_MOST = 8.0  # linear: ~4; quadratic: ~16


def _seconds(work: Callable[[], object]) -> float:
    """CPU seconds of this thread: time other processes take on a busy machine is not counted."""
    started = time.thread_time()
    work()
    return max(time.thread_time() - started, 1e-6)


def _growth(run: Callable[[str], object], make: Callable[[int], str], repeats: int = 3) -> float:
    """Best time at 4n over best time at n, the two sizes taking turns, so that a busy machine's quiet moments
    fall to both alike."""
    small, large = make(SIZE), make(SIZE * GROWTH)
    run(small)  # warm caches (compiled patterns, the identifier's model) outside the timing
    best_small = best_large = float("inf")
    for _ in range(repeats):
        best_small = min(best_small, _seconds(lambda: run(small)))
        best_large = min(best_large, _seconds(lambda: run(large)))
    return best_large / best_small


ADVERSARIAL = {
    "lt_then_word_run": lambda n: "<" + "a" * n,
    "lt_word_runs": lambda n: ("<" + "a" * 50) * (n // 51),
    "for_without_colon": lambda n: "for " + "a " * (n // 2),
    "if_many_colons": lambda n: "if " + "a:" * (n // 2),
    "from_without_import": lambda n: "from " + "a" * n,
    "answer_in_no_language": lambda n: "answer " * (n // 7),
    "translate_no_target": lambda n: "translate " * (n // 10),
    "zh_ask_no_language": lambda n: "用" * n,
    # the request parser reads a bounded window around every language name: many names, many cues
    "language_names": lambda n: "english " * (n // 8),
    "answer_in_language_run": lambda n: "answer in english " * (n // 18),
    "in_modifiers_then_language": lambda n: "answer in " + "simple " * (n // 7) + "english",
    "translate_then_targets": lambda n: "translate " + "into french " * (n // 12),
    "clause_ends_between_names": lambda n: ". (in german" * (n // 12),
    "zh_names_run": lambda n: "请用英文" * (n // 4),
    "zh_translate_run": lambda n: "翻译成" * (n // 3) + "英文",
    "glued_names": lambda n: "中文" * (n // 2),
    "backticks": lambda n: "`" * n,
    "fences": lambda n: "```a" * (n // 4),
    "url_run": lambda n: "http://" + "a" * n,
    "digits_dots": lambda n: "1." * (n // 2),
    "one_word_loop": lambda n: "la " * (n // 3),
    "cjk_loop": lambda n: "上海是" * (n // 3),
    "two_word_loop_cut": lambda n: ("la francine " * (n // 12)) + "la fr",
    # the relevance and fact-question patterns: clauses after colons, questions, sums
    "colons": lambda n: ":" * n,
    "colons_spaced": lambda n: ": " * (n // 2),
    "full_width_colons": lambda n: "：" * n,
    "what_is_the_run": lambda n: ": what is the " * (n // 14),
    "who_run": lambda n: "who " * (n // 4),
    "digit_spaces": lambda n: "1 " * (n // 2),
    "zh_de_run": lambda n: "的" * n,
    "space_run": lambda n: "a" + " " * n + "b",
    # quotations and asides, cut before judging a text's language
    "quote_run": lambda n: '"' * n,
    "unclosed_quotes": lambda n: '"a' * (n // 2),
    "open_parens": lambda n: "（(" * (n // 2),
    # the request classes of the held-out set (issue 26): typos, "X translation", how-to-say questions, 中译英
    "misspelt_verbs": lambda n: "answr trnaslate " * (n // 16),
    "long_words": lambda n: ("a" * 11 + " ") * (n // 12),
    "translation_please_run": lambda n: "chinese translation please: " * (n // 28),
    "whats_the_translation_run": lambda n: "what's the french translation of " * (n // 33),
    "how_do_you_say_run": lambda n: "how do you say " * (n // 15),
    "say_in_run": lambda n: "say it in " * (n // 10) + "a" * (n // 2),
    "chinese_characters_run": lambda n: "in chinese characters " * (n // 22),
    "zh_pairs": lambda n: "中译英" * (n // 3),
    "zh_how_to_say_run": lambda n: "用英文怎么说" * (n // 6),
    "zh_after_answer_run": lambda n: "回答用英语就行" * (n // 7),
    "question_marks_spaces": lambda n: "translate into french ?" + " ?" * (n // 2),
    # translation_source's "say X in <language>" and quotes on a translation request (issue 26 review): a run of
    # punctuation before a failing end, and a line of quotes that never close
    "say_in_then_exclamations": lambda n: "Translate into French. say x in " + "!" * n + " a",
    "say_in_then_mixed_punctuation": lambda n: "Translate into French. express x into " + ",;!." * (n // 4) + " a b",
    "say_in_runs": lambda n: "Translate into French. " + "say x in !!!! " * (n // 14) + "a",
    "unclosed_curly_quotes": lambda n: "Translate into French " + "“" * n,
    "unclosed_corner_quotes": lambda n: "翻译成英文" + "「" * n,
    "unclosed_single_curly_quotes": lambda n: "Translate into French " + "‘a" * (n // 2),
    # misspelt names, quoted phrases with apostrophes, "what's the X for '…'", 英译： (issue 26, fourth blind set)
    "misspelt_names": lambda n: "respond in chineese " * (n // 20),
    "apostrophes_in_open_quotes": lambda n: "Translate into French " + " 'a'a" * (n // 5),
    "whats_the_name_for_quote_run": lambda n: "what's the chinese for '" * (n // 24),
    "zh_into_one_run": lambda n: "英译：" * (n // 3),
    "zh_quoted_how_to_say_run": lambda n: "英文里“" * (n // 4),
    "comma_in_language_run": lambda n: ", in chinese thx" * (n // 16),
    "zh_modal_runs": lambda n: "可以全程英文版的" * (n // 8),
    "but_name_only_run": lambda n: "but chinese only " * (n // 17),
    # a sum needs a number after its operator: long runs between the two
    "number_word_operator_runs": lambda n: "three" + " " * (n // 2) + "-" + " " * (n // 2) + "x",
    "zh_numeral_operator_spaces": lambda n: "一" + " " * (n // 2) + "加" + " " * (n // 2),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_language_patterns_are_linear(name):
    make = ADVERSARIAL[name]

    def run(text: str) -> object:
        return (language.asked_language(text), language.prose(text), language.detect(text, lambda _: None),
                language.without_echo(text[: len(text) // 2], text),
                language.judge(text, text, relevance.translation_source, lambda _: None))

    assert _growth(run, make) < LINEAR_AT_MOST


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_units_and_the_loop_detector_are_linear(name):
    make = ADVERSARIAL[name]
    assert _growth(lambda text: tail_loop(metrics.text_units(text)), make) < LINEAR_AT_MOST


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_relevance_and_fact_question_patterns_are_linear(name):
    make = ADVERSARIAL[name]

    def run(text: str) -> object:
        return (relevance.asks_for_fact(text), relevance.short_answer_fits(text, text, 3),
                relevance.without_request(text), relevance.translation_source(text))

    assert _growth(run, make) < LINEAR_AT_MOST


def test_the_old_code_line_pattern_is_what_these_tests_catch():
    """The timing comparison itself tells quadratic from linear: the pattern that froze the app fails it."""
    import re

    quadratic = re.compile(r"^\s*(?:<\/?\w+[^>]*>$)")
    assert _growth(quadratic.match, ADVERSARIAL["lt_then_word_run"]) > LINEAR_AT_MOST


def test_the_scorer_reads_a_bounded_text_whatever_the_answer_size():
    """A 2 MB answer costs what a 16 k-character one does: the answer-time measures read its head and tail."""
    answer = "<" + "word " * 400_000
    quality = metrics.text_quality("Say a word.", answer, "length", identify_language=lambda text: ("en", 1.0))
    assert quality["response_unread_chars"] == len(answer) - metrics.SCORED_TEXT_MAX_CHARS
    assert quality["response_units"] <= metrics.SCORED_TEXT_MAX_CHARS
    assert "degenerate" in quality["flags"]  # the loop at its end is still seen
    assert metrics.text_quality("Hi", "Hello there, friend.", "stop",
                                identify_language=lambda text: ("en", 1.0))["response_unread_chars"] == 0


def test_a_bounded_text_keeps_its_head_and_its_tail():
    text = "A" * 10 + "B" * 100 + "C" * 10
    kept = metrics.bounded_text(text, max_chars=20)
    assert kept == "A" * 10 + "\n" + "C" * 10
    assert metrics.bounded_text("short", max_chars=20) == "short"
