"""The fourth, fifth and sixth held-out sets (benchmarks/heldout4..6_prompts.py, issue 26), each written blind for
the answer-language rules as they stood before it was read, stay what was measured: each language file is what its
builder makes, shaped like relevance_eval.jsonl (good and wrong_language rows only), labeled consistently, and held
out: none of its prompts is in an earlier held-out set, the first ones, the tuning data, or the tables the parser
was written against. No model. Checks are test_heldout2's."""

from __future__ import annotations

import pytest

from benchmarks import heldout2_prompts, heldout3_prompts, heldout4_prompts, heldout5_prompts, heldout6_prompts
from tests.test_heldout2 import _rows, check_answer_languages, check_nothing_seen_before, check_written_language_set

SETS = [heldout4_prompts, heldout5_prompts, heldout6_prompts]  # in the order they were written
BEFORE_THEM = [heldout2_prompts.LANGUAGE_OUT, heldout2_prompts.FACTUAL_OUT, heldout3_prompts.LANGUAGE_OUT,
               heldout3_prompts.FACTUAL_OUT]
NAMES = [module.__name__.rsplit(".", 1)[-1] for module in SETS]


@pytest.mark.parametrize("index", range(len(SETS)), ids=NAMES)
def test_the_file_is_what_the_builder_makes_of_the_prompts(index):
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    assert _rows(SETS[index].LANGUAGE_OUT) == SETS[index].language_rows()


@pytest.mark.parametrize("index", range(len(SETS)), ids=NAMES)
def test_rows_are_shaped_and_counted_as_the_brief_says(index):
    check_written_language_set(_rows(SETS[index].LANGUAGE_OUT))


@pytest.mark.parametrize("index", range(len(SETS)), ids=NAMES)
def test_answers_are_in_the_language_their_label_says(index):
    check_answer_languages(_rows(SETS[index].LANGUAGE_OUT))


@pytest.mark.parametrize("index", range(len(SETS)), ids=NAMES)
def test_no_prompt_was_seen_before(index):
    """Not in any set written before it: 30 requests and 20 questions, no two the same."""
    earlier = BEFORE_THEM + [module.LANGUAGE_OUT for module in SETS[:index]]
    check_nothing_seen_before(_rows(SETS[index].LANGUAGE_OUT), earlier, 50)
