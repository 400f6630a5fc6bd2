"""How sure the model was of its own answer, from the generation's own logits: a hallucination-risk signal.

The unsupervised estimators LM-Polygraph benchmarks, computed from what fluency.TokenLogprobRecorder keeps
(each generated token's log-probability and the entropy of the distribution it was drawn from, under the raw
logits):
  mean_token_entropy   mean entropy (nats) of the per-token distributions (LM-Polygraph MeanTokenEntropy)
  min_token_logprob    the least likely token the model chose
  sequence_logprob     sum of the token log-probabilities; minus it is Maximum Sequence Probability
  mean_logprob         the length-normalized form; perplexity = exp(-mean_logprob)
A wrong factual answer tends to be one the model was unsure of. The flag `low_confidence` is raised above
LOW_CONFIDENCE_ABOVE, calibrated on the factual questions of the evaluation set (bench_quality_eval.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from healthmon.curve import Curve

LOW_CONFIDENCE_ABOVE = 1.6  # nats of mean token entropy
CONFIDENCE_CURVE = Curve(good=0.6, bad=2.4)


def uncertainty(token_logprobs: Sequence[float] | None, token_entropies: Sequence[float] | None) -> dict[str, Any]:
    """The estimators above, None where the generation did not measure them (or produced no token)."""
    logprobs = list(token_logprobs or [])
    entropies = list(token_entropies or [])
    mean = math.fsum(logprobs) / len(logprobs) if logprobs else None
    return {
        "mean_logprob": None if mean is None else round(mean, 4),
        "perplexity": None if mean is None else round(math.exp(-mean), 4),
        "sequence_logprob": round(math.fsum(logprobs), 3) if logprobs else None,
        "min_token_logprob": round(min(logprobs), 4) if logprobs else None,
        "mean_token_entropy": round(math.fsum(entropies) / len(entropies), 4) if entropies else None,
    }
