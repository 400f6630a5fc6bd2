"""The fifth held-out set (benchmarks/heldout5_prompts.py, issue 26), written blind for the measurement after the
rules' latest change, stays what will be measured: its file is what its builder makes, shaped like
relevance_eval.jsonl (good and wrong_language rows only), labeled consistently, and held out: none of its prompts is
in the fourth, third or second held-out sets, the first ones, the tuning data, or the tables the parser was written
against. No model. Helpers are test_heldout2's."""

from __future__ import annotations

from collections import Counter

from benchmarks import heldout2_prompts, heldout3_prompts, heldout4_prompts, heldout5_prompts
from tests.test_heldout2 import DATA, KEYS, REQUEST_GROUPS, _key, _parametrized_strings, _rows, _said

EARLIER_DATA = ("relevance_eval", "relevance_heldout", "quality_eval", "factual_answers", "factual_answers_heldout")
EARLIER_HELDOUT = (
    heldout4_prompts.LANGUAGE_OUT,
    heldout3_prompts.LANGUAGE_OUT,
    heldout3_prompts.FACTUAL_OUT,
    heldout2_prompts.LANGUAGE_OUT,
    heldout2_prompts.FACTUAL_OUT,
)


def test_the_file_is_what_the_builder_makes_of_the_prompts():
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    assert _rows(heldout5_prompts.LANGUAGE_OUT) == heldout5_prompts.language_rows()


def test_language_rows_are_shaped_and_counted_as_the_brief_says():
    rows = _rows(heldout5_prompts.LANGUAGE_OUT)
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(row["finish_reason"] == "stop" and row["source"] == "written" for row in rows)
    counts = Counter((row["group"] in REQUEST_GROUPS, row["prompt_language"], row["label"]) for row in rows)
    for lang in ("en", "zh"):
        # 15 requests per prompt language (5 of them translations), each with a good and a wrong-language answer
        assert counts[True, lang, "good"] == counts[True, lang, "wrong_language"] == 15
        good_groups = Counter(row["group"] for row in rows if row["prompt_language"] == lang and row["label"] == "good")
        assert good_groups["translation"] == 5
        assert good_groups["cross_language"] == 10
        # 10 prompts per language with no request, answered in their own language
        assert counts[False, lang, "good"] == 10
        assert counts[False, lang, "wrong_language"] == 0
    assert {row["label"] for row in rows} == {"good", "wrong_language"}
    assert {row["group"] for row in rows} == {"cross_language", "translation", "questions"}


def test_answers_are_in_the_language_their_label_says():
    """A request's good answer is in the asked language and its wrong-language twin in the prompt's own; a
    prompt with no request is answered in its own."""
    for row in _rows(heldout5_prompts.LANGUAGE_OUT):
        asks = row["group"] in REQUEST_GROUPS
        assert (row["language"] != row["prompt_language"]) is asks, row["id"]
        assert _said(row["prompt"]) == row["prompt_language"], row["id"]
        expected = row["prompt_language"] if row["label"] == "wrong_language" else row["language"]
        assert _said(row["response"]) == expected, row["id"]


def test_no_prompt_was_seen_before():
    """Not in the fourth, third or second held-out sets, the first ones (relevance and factual), the tuning data,
    nor the parser's and the confidence rules' test tables: the set measures rules tuned on all of those, so it
    must be new to them."""
    from tests import test_quality_confidence
    from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS

    mine = {_key(row["prompt"]) for row in _rows(heldout5_prompts.LANGUAGE_OUT)}
    assert len(mine) == 50  # 30 requests and 20 questions, no two the same
    earlier = [row for name in EARLIER_DATA for row in _rows(DATA / f"{name}.jsonl")]
    earlier += [row for path in EARLIER_HELDOUT for row in _rows(path)]
    seen = {_key(row["prompt"]) for row in earlier}
    seen |= {_key(prompt) for prompt, _ in REQUESTS} | {_key(prompt) for prompt in NOT_REQUESTS}
    seen |= {_key(text) for text in _parametrized_strings(test_quality_confidence)}
    collisions = sorted(mine & seen)  # named so that a failure shows only this set's prompts, never the others
    assert not collisions, collisions

    # Answers: only the longer ones (a translation of a stock phrase has one right answer; the prompt must be new)
    answers = {row["response"].strip() for row in _rows(heldout5_prompts.LANGUAGE_OUT) if len(row["response"]) > 30}
    seen_answers = {row["response"].strip() for row in earlier if "response" in row}
    repeated = sorted(answers & seen_answers)
    assert not repeated, repeated
