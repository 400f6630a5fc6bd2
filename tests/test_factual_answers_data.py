"""The labeled factual answers (benchmarks/data/factual_answers*.jsonl) match the questions and rules that made them.

bench_confidence.py reads these files without the model, so a question edited, an OVERRIDES entry added without
`make_factual_answers.py --relabel`, or a held-out id reused from the main set would change its figures silently.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETS = ["main", "heldout"]


@pytest.fixture(scope="module")
def maker() -> ModuleType:
    # The script puts benchmarks/ first on sys.path (its own imports need it); put the path back so that
    # benchmarks/models.py cannot shadow another `models` for the rest of the session.
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("make_factual_answers", ROOT / "benchmarks" /
                                                      "make_factual_answers.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def rows(maker: ModuleType, name: str) -> list[dict]:
    path = maker.QUESTION_SETS[name][1]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("name", SETS)
def test_each_file_answers_exactly_its_questions_in_both_languages(maker: ModuleType, name: str):
    questions = maker.QUESTION_SETS[name][0]()
    stored = rows(maker, name)
    keys = ["id", "language", "category", "prompt", "answers"]
    assert [{k: row[k] for k in keys} for row in stored] == questions
    assert {row["language"] for row in stored} == {"en", "zh"}


@pytest.mark.parametrize("name", SETS)
def test_each_answer_has_one_figure_per_token_and_its_current_label(maker: ModuleType, name: str):
    for row in rows(maker, name):
        n = len(row["token_ids"])
        assert n > 0, row["id"]
        for key in ("token_texts", "token_logprobs", "token_entropies", "second_logprobs"):
            assert len(row[key]) == n, (row["id"], key)
        assert row["finish_reason"] in ("stop", "length"), row["id"]
        assert (row["label"], row["label_reason"]) == maker.label(row), row["id"]


def test_held_out_questions_share_no_id_or_prompt_with_the_main_set_and_every_override_is_used(maker: ModuleType):
    main, heldout = rows(maker, "main"), rows(maker, "heldout")
    assert not {r["id"] for r in main} & {r["id"] for r in heldout}
    assert not {r["prompt"] for r in main} & {r["prompt"] for r in heldout}
    assert set(maker.OVERRIDES) <= {r["id"] for r in main + heldout}
