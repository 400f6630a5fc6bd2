"""The third held-out set (benchmarks/heldout3_prompts.py, issue 26), written blind for the final figures, stays what
BENCHMARKS.md measured: both data files are what its builders make, shaped like relevance_eval.jsonl (language,
good and wrong_language rows only) and {id, language, prompt, factual} (factual), labeled consistently, and held
out: none of its prompts is in the second held-out set, the first ones, the tuning data, or the tables the parser
and asks_for_fact were written against. No model. Checks are test_heldout2's, shared with the later sets."""

from __future__ import annotations

from collections import Counter

from benchmarks import heldout2_prompts, heldout3_prompts
from tests.test_heldout2 import (
    _rows,
    _said,
    check_answer_languages,
    check_nothing_seen_before,
    check_written_language_set,
)


def test_the_files_are_what_the_builders_make_of_the_prompts():
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    assert _rows(heldout3_prompts.LANGUAGE_OUT) == heldout3_prompts.language_rows()
    assert _rows(heldout3_prompts.FACTUAL_OUT) == heldout3_prompts.factual_rows()


def test_language_rows_are_shaped_and_counted_as_the_brief_says():
    check_written_language_set(_rows(heldout3_prompts.LANGUAGE_OUT))


def test_answers_are_in_the_language_their_label_says():
    check_answer_languages(_rows(heldout3_prompts.LANGUAGE_OUT))


def test_factual_rows_are_shaped_and_counted():
    rows = _rows(heldout3_prompts.FACTUAL_OUT)
    assert all(set(row) == {"id", "language", "prompt", "factual"} for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert Counter((row["language"], row["factual"]) for row in rows) == {
        ("en", True): 13, ("zh", True): 12, ("en", False): 13, ("zh", False): 12}
    assert all(_said(row["prompt"]) == row["language"] for row in rows)


def test_no_prompt_was_seen_before():
    """Not in the second held-out set, the first ones (relevance and factual), the tuning data, nor the parser's
    and asks_for_fact's test tables: the set measures rules tuned on all of those, so it must be new to them. 50
    language prompts and 50 factual ones, no two the same."""
    rows = _rows(heldout3_prompts.LANGUAGE_OUT) + _rows(heldout3_prompts.FACTUAL_OUT)
    check_nothing_seen_before(rows, [heldout2_prompts.LANGUAGE_OUT, heldout2_prompts.FACTUAL_OUT], 100)
