"""The held-out relevance set (benchmarks/data/relevance_heldout.jsonl, issue 26) stays what BENCHMARKS.md
measured: built from benchmarks/relevance_heldout_prompts.py by `make_relevance_eval.py --heldout`, shaped like
relevance_eval.jsonl, labeled consistently, and held out: none of its prompts or answers is in the files the
off_topic lines and language rules were set on. No model is loaded."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from benchmarks import make_relevance_eval, relevance_heldout_prompts

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
HELDOUT = DATA / "relevance_heldout.jsonl"
KEYS = {"id", "group", "prompt_language", "prompt", "response", "finish_reason", "language", "label", "source"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _chinese_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum("\u4e00" <= ch <= "\u9fff" for ch in letters) / len(letters) if letters else 0.0


def test_the_file_is_what_the_builder_makes_of_the_prompts():
    """Edited prompts without a rebuild, or a hand-edited file, would make the figures describe another set."""
    built = make_relevance_eval.build([], relevance_heldout_prompts.prompts(), relevance_heldout_prompts.WRONG_LANGUAGE)
    assert _rows(HELDOUT) == built


def test_rows_are_shaped_and_labeled_like_relevance_eval():
    rows = _rows(HELDOUT)
    assert set(_rows(DATA / "relevance_eval.jsonl")[0]) == KEYS
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert {row["label"] for row in rows} == {"good", "off_topic", "wrong_language"}
    assert {row["group"] for row in rows} == set(relevance_heldout_prompts.GROUPS)
    counts = Counter((row["group"], row["prompt_language"], row["label"]) for row in rows)
    for group in relevance_heldout_prompts.GROUPS:
        for lang in ("en", "zh"):
            assert counts[group, lang, "good"] >= 10
            assert counts[group, lang, "off_topic"] == counts[group, lang, "good"]  # one pairing per answer
            wrong = counts[group, lang, "wrong_language"]
            assert wrong == (counts[group, lang, "good"] if group == "cross_language" else 0)


def test_answers_are_in_the_language_their_label_says():
    """A cross-language answer is in the asked language and its wrong-language twin in the prompt's own; an
    off-topic row is a good answer of the same group moved to another prompt, never to its own."""
    rows = _rows(HELDOUT)
    good = {row["response"]: row for row in rows if row["label"] == "good"}
    for row in rows:
        if row["group"] == "cross_language":
            said = "zh" if _chinese_share(row["response"]) > 0.5 else "en"
            expected = row["prompt_language"] if row["label"] == "wrong_language" else row["language"]
            assert said == expected, row["id"]
            assert row["language"] != row["prompt_language"], row["id"]
        if row["label"] == "off_topic":
            origin = good[row["response"]]
            assert origin["prompt"] != row["prompt"] and origin["group"] == row["group"], row["id"]


def test_nothing_in_it_was_seen_when_the_lines_and_rules_were_set():
    rows = _rows(HELDOUT)
    seen = _rows(DATA / "relevance_eval.jsonl") + _rows(DATA / "quality_eval.jsonl")
    seen_prompts = {row["prompt"].strip().lower() for row in seen}
    seen_answers = {row["response"].strip() for row in seen}
    assert not {row["prompt"].strip().lower() for row in rows} & seen_prompts
    assert not {row["response"].strip() for row in rows if len(row["response"]) > 12} & seen_answers
    from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS

    table = {prompt.lower() for prompt, _ in REQUESTS} | {prompt.lower() for prompt in NOT_REQUESTS}
    assert not {row["prompt"].lower() for row in rows} & table
