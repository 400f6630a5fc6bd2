"""The sixth held-out set (benchmarks/heldout6_prompts.py, issue 26), written blind for the next language rules,
stays what will be measured: its file is what the builder makes, shaped like relevance_eval.jsonl (good and
wrong_language rows only), labeled consistently, and held out: none of its prompts is in the earlier held-out
sets, the tuning data, or the tables the parser was written against. No model. Helpers are test_heldout2's."""

from __future__ import annotations

from collections import Counter

from benchmarks import heldout2_prompts, heldout3_prompts, heldout4_prompts, heldout5_prompts, heldout6_prompts
from tests.test_heldout2 import DATA, KEYS, REQUEST_GROUPS, _key, _parametrized_strings, _rows, _said


def test_the_file_is_what_the_builder_makes_of_the_prompts():
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    assert _rows(heldout6_prompts.LANGUAGE_OUT) == heldout6_prompts.language_rows()


def test_rows_are_shaped_and_counted_as_the_brief_says():
    rows = _rows(heldout6_prompts.LANGUAGE_OUT)
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows) == 80
    assert all(row["finish_reason"] == "stop" and row["source"] == "written" for row in rows)
    counts = Counter((row["group"] in REQUEST_GROUPS, row["prompt_language"], row["label"]) for row in rows)
    for lang in ("en", "zh"):
        # 15 requests per prompt language (5 of them translations), each with a good and a wrong-language answer
        assert counts[True, lang, "good"] == counts[True, lang, "wrong_language"] == 15
        assert Counter(row["group"] for row in rows if row["prompt_language"] == lang
                       and row["label"] == "good")["translation"] == 5
        # 10 prompts per language with no request, answered in their own language
        assert counts[False, lang, "good"] == 10
        assert counts[False, lang, "wrong_language"] == 0
    assert {row["label"] for row in rows} == {"good", "wrong_language"}
    assert {row["group"] for row in rows} == {"cross_language", "translation", "questions"}


def test_answers_are_in_the_language_their_label_says():
    """A request's good answer is in the asked language and its wrong-language twin in the prompt's own; a
    prompt with no request is answered in its own."""
    for row in _rows(heldout6_prompts.LANGUAGE_OUT):
        asks = row["group"] in REQUEST_GROUPS
        assert (row["language"] != row["prompt_language"]) is asks, row["id"]
        assert _said(row["prompt"]) == row["prompt_language"], row["id"]
        expected = row["prompt_language"] if row["label"] == "wrong_language" else row["language"]
        assert _said(row["response"]) == expected, row["id"]


def test_no_prompt_was_seen_before():
    """Not in the five earlier held-out sets, the first ones (relevance and factual), the tuning data, nor the
    parser's and asks_for_fact's test tables: the set measures rules tuned on all of those, so it must be new to
    them. On failure only this set's colliding prompts are named, never the earlier sets'."""
    from tests import test_quality_confidence
    from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS

    rows = _rows(heldout6_prompts.LANGUAGE_OUT)
    mine = {_key(row["prompt"]): row["prompt"] for row in rows}
    assert len(mine) == 50  # 30 requests and 20 questions, no two the same
    earlier = [DATA / f"{name}.jsonl" for name in ("relevance_eval", "relevance_heldout", "quality_eval",
                                                   "factual_answers", "factual_answers_heldout")]
    earlier += [heldout2_prompts.LANGUAGE_OUT, heldout2_prompts.FACTUAL_OUT, heldout3_prompts.LANGUAGE_OUT,
                heldout3_prompts.FACTUAL_OUT, heldout4_prompts.LANGUAGE_OUT, heldout5_prompts.LANGUAGE_OUT]
    seen = {_key(row["prompt"]) for path in earlier for row in _rows(path)}
    seen |= {_key(prompt) for prompt, _ in REQUESTS} | {_key(prompt) for prompt in NOT_REQUESTS}
    seen |= {_key(text) for text in _parametrized_strings(test_quality_confidence)}
    colliding = sorted(prompt for key, prompt in mine.items() if key in seen)
    assert not colliding

    # Answers: only the longer ones (a translation of a stock phrase has one right answer; the prompt must be new)
    answers = {row["response"].strip() for row in rows if len(row["response"]) > 30}
    seen_answers = {row["response"].strip() for path in earlier if "factual" not in path.name for row in _rows(path)}
    colliding_answers = sorted(answers & seen_answers)  # the same strings as this set's, so safe to show
    assert not colliding_answers
