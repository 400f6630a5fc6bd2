"""The second held-out set (benchmarks/heldout2_prompts.py, issue 26), written blind, stays what BENCHMARKS.md
measured: both data files are what its builders make, shaped like relevance_eval.jsonl (language) and {id,
language, prompt, factual} (factual), labeled consistently, and held out: none of its prompts is in the first
held-out sets, the tuning data, or the tables the parser and asks_for_fact were written against. No model."""

from __future__ import annotations

import inspect
import json
import re
from collections import Counter
from pathlib import Path

from benchmarks import heldout2_prompts

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
KEYS = {"id", "group", "prompt_language", "prompt", "response", "finish_reason", "language", "label", "source"}
REQUEST_GROUPS = ("cross_language", "translation")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _said(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    return "zh" if sum("\u4e00" <= ch <= "\u9fff" for ch in letters) / len(letters) > 0.5 else "en"


def _key(text: str) -> str:
    """Case and punctuation do not make a prompt new."""
    return re.sub(r"[\W_]+", "", text.lower())


def check_written_language_set(rows: list[dict]) -> None:
    """A later held-out set's language file as its brief says (heldout3 on): 15 requests per prompt language, 5 of
    them translations, each with a good and a wrong-language answer; 10 prompts per language with no request."""
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows) == 80
    assert all(row["finish_reason"] == "stop" and row["source"] == "written" for row in rows)
    counts = Counter((row["group"] in REQUEST_GROUPS, row["prompt_language"], row["label"]) for row in rows)
    for lang in ("en", "zh"):
        assert counts[True, lang, "good"] == counts[True, lang, "wrong_language"] == 15
        good_groups = Counter(row["group"] for row in rows if row["prompt_language"] == lang and row["label"] == "good")
        assert good_groups["translation"] == 5 and good_groups["cross_language"] == 10
        assert counts[False, lang, "good"] == 10
        assert counts[False, lang, "wrong_language"] == 0
    assert {row["label"] for row in rows} == {"good", "wrong_language"}
    assert {row["group"] for row in rows} == {"cross_language", "translation", "questions"}


def check_answer_languages(rows: list[dict]) -> None:
    """A request's good answer is in the asked language and its wrong-language twin in the prompt's own; a
    prompt with no request is answered in its own."""
    for row in rows:
        asks = row["group"] in REQUEST_GROUPS
        assert (row["language"] != row["prompt_language"]) is asks, row["id"]
        assert _said(row["prompt"]) == row["prompt_language"], row["id"]
        expected = row["prompt_language"] if row["label"] == "wrong_language" else row["language"]
        assert _said(row["response"]) == expected, row["id"]


def check_nothing_seen_before(rows: list[dict], earlier: list[Path], distinct_prompts: int) -> None:
    """distinct_prompts prompts, no two the same, none of them in the earlier files, the tuning data, or the
    parser's and asks_for_fact's test tables; no longer answer (over 30 characters: a stock phrase's translation has
    one right answer) among their answers. A failure names only rows' own prompts and answers, never the earlier
    sets'."""
    from tests import test_quality_confidence
    from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS

    paths = [DATA / f"{name}.jsonl" for name in ("relevance_eval", "relevance_heldout", "quality_eval",
                                                 "factual_answers", "factual_answers_heldout")] + earlier
    seen_rows = [row for path in paths for row in _rows(path)]
    seen = {_key(row["prompt"]) for row in seen_rows}
    seen |= {_key(prompt) for prompt, _ in REQUESTS} | {_key(prompt) for prompt in NOT_REQUESTS}
    seen |= {_key(text) for text in _parametrized_strings(test_quality_confidence)}
    assert len({_key(row["prompt"]) for row in rows}) == distinct_prompts
    colliding = sorted({row["prompt"] for row in rows if _key(row["prompt"]) in seen})
    assert not colliding, colliding
    answers = {row["response"].strip() for row in rows if len(row.get("response", "")) > 30}
    repeated = sorted(answers & {row["response"].strip() for row in seen_rows if "response" in row})
    assert not repeated, repeated


def test_the_files_are_what_the_builders_make_of_the_prompts():
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    assert _rows(heldout2_prompts.LANGUAGE_OUT) == heldout2_prompts.language_rows()
    assert _rows(heldout2_prompts.FACTUAL_OUT) == heldout2_prompts.factual_rows()


def test_language_rows_are_shaped_and_counted_as_the_brief_says():
    rows = _rows(heldout2_prompts.LANGUAGE_OUT)
    assert set(_rows(DATA / "relevance_eval.jsonl")[0]) == KEYS
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    counts = Counter((row["group"] in REQUEST_GROUPS, row["prompt_language"], row["label"]) for row in rows)
    for lang in ("en", "zh"):
        # 20 requests per prompt language, each good, wrong-language and moved to another prompt
        assert counts[True, lang, "good"] == counts[True, lang, "wrong_language"] == 20
        assert counts[True, lang, "off_topic"] == 20
        # 10 prompts per language that only name one
        assert counts[False, lang, "good"] == counts[False, lang, "off_topic"] == 10
        assert counts[False, lang, "wrong_language"] == 0
    assert {row["group"] for row in rows} == {"cross_language", "translation", "questions"}


def test_answers_are_in_the_language_their_label_says():
    """A request's good answer is in the asked language and its wrong-language twin in the prompt's own; a
    prompt that only names a language is answered in its own; an off-topic row is a good answer of the same
    group moved to another prompt."""
    rows = _rows(heldout2_prompts.LANGUAGE_OUT)
    good = {row["response"]: row for row in rows if row["label"] == "good"}
    for row in rows:
        asks = row["group"] in REQUEST_GROUPS
        assert (row["language"] != row["prompt_language"]) is asks, row["id"]
        assert _said(row["prompt"]) == row["prompt_language"], row["id"]
        expected = row["prompt_language"] if row["label"] == "wrong_language" else row["language"]
        if row["label"] != "off_topic":
            assert _said(row["response"]) == expected, row["id"]
        else:
            origin = good[row["response"]]
            assert origin["prompt"] != row["prompt"] and origin["group"] == row["group"], row["id"]


def test_factual_rows_are_shaped_and_counted():
    rows = _rows(heldout2_prompts.FACTUAL_OUT)
    assert all(set(row) == {"id", "language", "prompt", "factual"} for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert Counter((row["language"], row["factual"]) for row in rows) == {
        ("en", True): 20, ("zh", True): 20, ("en", False): 20, ("zh", False): 20}
    assert all(_said(row["prompt"]) == row["language"] for row in rows)


def _parametrized_strings(module) -> set[str]:
    """Every string a test module's parametrize tables hold (the cases a rule was written against)."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for _, function in inspect.getmembers(module, inspect.isfunction):
        for mark in getattr(function, "pytestmark", []):
            if mark.name == "parametrize":
                walk(list(mark.args[1:]))
    return found


def test_no_prompt_was_seen_before():
    """Not in the first held-out sets (relevance and factual), the tuning data, nor the parser's and
    asks_for_fact's test tables: the set measures the changes made on those, so it must be new to them."""
    from tests import test_quality_confidence
    from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS

    mine = {_key(row["prompt"]) for path in (heldout2_prompts.LANGUAGE_OUT, heldout2_prompts.FACTUAL_OUT)
            for row in _rows(path)}
    assert len(mine) == 140  # 60 language prompts and 80 factual ones, no two the same
    # factual_answers*.jsonl answer exactly factual_questions*.py's questions (test_factual_answers_data.py)
    seen = {_key(row["prompt"]) for name in ("relevance_eval", "relevance_heldout", "quality_eval",
                                             "factual_answers", "factual_answers_heldout")
            for row in _rows(DATA / f"{name}.jsonl")}
    seen |= {_key(prompt) for prompt, _ in REQUESTS} | {_key(prompt) for prompt in NOT_REQUESTS}
    seen |= {_key(text) for text in _parametrized_strings(test_quality_confidence)}
    assert not mine & seen

    # Answers: only the longer ones. Two short common phrases were found (after the data was committed) to be
    # answers in earlier sets too, to other prompts ("Thank you for your help.", "Happy birthday!"): a
    # translation of a stock phrase has one right answer, so the prompt, not the answer, is what must be new.
    answers = {row["response"].strip() for row in _rows(heldout2_prompts.LANGUAGE_OUT) if len(row["response"]) > 30}
    seen_answers = {row["response"].strip() for name in ("relevance_eval", "relevance_heldout", "quality_eval")
                    for row in _rows(DATA / f"{name}.jsonl")}
    assert not answers & seen_answers
