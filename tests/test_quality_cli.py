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


def run_cli(*args: str, **env: str) -> dict:
    completed = subprocess.run([sys.executable, "-m", "healthmon", "quality", *args], cwd=ROOT, capture_output=True,
                               text=True, timeout=180, env=os.environ | {"HF_HUB_OFFLINE": "1"} | env)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1, completed.stdout
    return json.loads(lines[0])


def test_cli_scores_relevance_offline_with_the_bundled_model():
    prompt, response = "How do I make soup?", "Boil water, add vegetables and salt, and simmer for twenty minutes."
    quality = run_cli("--prompt", prompt, "--response", response)
    assert CONTRACT_FIELDS <= quality.keys()
    assert quality["relevance"] > 0.3 and quality["relevance_reason"] is None
    assert quality["repetition_rate"] == 0.0 and quality["distinct_2"] == 1.0 and quality["language_match"] is True
    assert quality["perplexity"] is None  # needs the model that wrote the response


def test_cli_chinese_repetition_and_truncation_without_embeddings():
    quality = run_cli("--prompt", "今天天气怎么样？", "--response", "天气很好。天气很好。天气很好。",
                      "--finish-reason", "length", HEALTHMON_EMBEDDING_MODEL="off")
    assert quality == score_text("今天天气怎么样？", "天气很好。天气很好。天气很好。", "length", "off")
    assert quality["relevance"] is None and "off" in quality["relevance_reason"]
    assert quality["repetition_rate"] == 0.6 and quality["language_match"] is True and quality["truncated"] is True
