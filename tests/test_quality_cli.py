"""`python -m healthmon quality`: one JSON object, computed by the live path's functions, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from healthmon.quality.cli import score_text

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_FIELDS = {"relevance", "repetition_rate", "distinct_2", "language_match"}


def run_cli(*args: str, stdin: str | None = None, **env: str) -> list[dict]:
    completed = subprocess.run([sys.executable, "-m", "healthmon", "quality", *args], cwd=ROOT, capture_output=True,
                               text=True, timeout=180, input=stdin, env=os.environ | {"HF_HUB_OFFLINE": "1"} | env)
    assert completed.returncode == 0, completed.stderr
    return [json.loads(line) for line in completed.stdout.strip().splitlines()]


def test_cli_scores_relevance_offline_with_the_bundled_model():
    prompt, response = "How do I make soup?", "Boil water, add vegetables and salt, and simmer for twenty minutes."
    [quality] = run_cli("--prompt", prompt, "--response", response)
    assert CONTRACT_FIELDS <= quality.keys()
    assert quality["relevance"] > 0.85 and quality["relevance_reason"] is None and quality["flags"] == []
    assert quality["repetition_rate"] == 0.0 and quality["distinct_2"] == 1.0 and quality["language_match"] is True
    assert quality["perplexity"] is None  # needs the model that wrote the response


def test_cli_chinese_repetition_and_truncation_without_embeddings():
    [quality] = run_cli("--prompt", "今天天气怎么样？", "--response", "天气很好。天气很好。天气很好。",
                        "--finish-reason", "length", HEALTHMON_EMBEDDING_MODEL="off")
    assert quality == score_text("今天天气怎么样？", "天气很好。天气很好。天气很好。", "length", "off")
    assert quality["relevance"] is None and "off" in quality["relevance_reason"]
    assert quality["repetition_rate"] == 0.6 and quality["language_match"] is True and quality["truncated"] is True


def test_cli_scores_a_jsonl_file_and_reports_bad_lines_without_stopping(tmp_path):
    lines = [json.dumps({"prompt": "What is the capital of France?", "response": "The capital of France is Paris."}),
             "not json", json.dumps(["a list"]), "",
             json.dumps({"prompt": "用一句话介绍北京。", "response": "Beijing is a big city in the north of China.",
                         "finish_reason": "stop"}),
             json.dumps({"prompt": "p", "response": 3}),
             json.dumps({"prompt": "Loop?", "response": "yes, " * 40, "finish_reason": "length"})]
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = run_cli("--jsonl", str(path), HEALTHMON_EMBEDDING_MODEL="off")
    assert [r["line"] for r in results] == [1, 2, 3, 5, 6, 7]
    assert results[0]["flags"] == [] and results[0]["quality_score"] == 100.0
    assert "not JSON" in results[1]["error"] and "expected an object" in results[2]["error"]
    assert results[3]["flags"] == ["language_mismatch"]  # a Chinese prompt answered in English
    assert "must both be strings" in results[4]["error"]
    assert "degenerate" in results[5]["flags"] and "truncated" in results[5]["flags"]
    assert run_cli("--jsonl", "-", stdin=lines[0] + "\n", HEALTHMON_EMBEDDING_MODEL="off")[0]["line"] == 1
