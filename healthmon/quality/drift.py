"""Canary drift: the canary probe's output compared with the first one recorded for the same model.

The probe is greedy with a fixed prompt, so a healthy model answers it the same way every time (similarity
1.0, or just under on GPUs whose kernels are not deterministic). A swapped checkpoint, a broken tokenizer or
damaged weights change the answer, and the embedding similarity to the reference says how much. An empty
answer against a non-empty reference is 0.0: nothing of the reference is left.

References live in a small JSON file in the data directory, one per model name (the name the runtime
reports, such as `demo` or `hf:Qwen/Qwen2.5-0.5B-Instruct`):
    {"models": {"demo": {"prompt": "...", "response": "...", "recorded_at": 1700000000.0, "trace_id": "..."}}}
A reference recorded for another prompt is replaced, since the canary prompt itself changed. To accept a new
normal (a deliberate update under the same name), delete the model's entry or the file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from healthmon.quality.embedder import Embedder, similarity

REFERENCES_FILE = "canary_references.json"
REFERENCE_RECORDED = "this probe is the reference"


class CanaryReferences:
    """The first canary answer per model, kept in a JSON file; used from the scorer's thread only."""

    def __init__(self, path: Path, logger: logging.Logger | None = None) -> None:
        self.path = Path(path)
        self._log = logger or logging.getLogger("healthmon.quality")
        self._models: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._models is None:
            self._models = {}
            try:
                self._models = dict(json.loads(self.path.read_text(encoding="utf-8"))["models"])
            except FileNotFoundError:
                pass
            except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable: start over, say so
                self._log.warning("ignoring unreadable canary references %s: %s", self.path, exc)
        return self._models

    def reference(self, model: str, prompt: str) -> dict[str, Any] | None:
        """The model's reference for this prompt, or None when there is none yet."""
        entry = self._load().get(model)
        return entry if entry is not None and entry.get("prompt") == prompt else None

    def record(self, model: str, prompt: str, response: str, recorded_at: float, trace_id: str) -> None:
        """Make this answer the model's reference and write the file atomically (a crash leaves the old one)."""
        models = self._load()
        models[model] = {"prompt": prompt, "response": response, "recorded_at": recorded_at, "trace_id": trace_id}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"models": models}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)


def drift_similarity(embedder: Embedder, reference_response: str, response: str) -> float:
    """Cosine similarity of a canary answer to its reference; 1.0 when both are empty, 0.0 when one is."""
    if not reference_response.strip() or not response.strip():
        return 1.0 if reference_response.strip() == response.strip() else 0.0
    return similarity(embedder, reference_response, response)


def canary_drift(references: CanaryReferences, embedder: Embedder,
                 record: dict[str, Any]) -> tuple[float | None, str | None]:
    """(similarity to the model's reference, None), or (None, why not) for the probe that becomes the reference."""
    prompt, response = record.get("prompt") or "", record.get("response") or ""
    reference = references.reference(record["model"], prompt)
    if reference is None:
        references.record(record["model"], prompt, response, record["ts"], record["trace_id"])
        return None, REFERENCE_RECORDED
    return drift_similarity(embedder, reference["response"], response), None
