"""Log-probability and entropy of each generated token under the model itself, from the generation's own
forward passes.

No second forward pass and no per-step vocabulary-sized tensors kept (`output_scores` for 1,000 tokens of a
150k-vocabulary Qwen would hold 600 MB): while a generation runs, the output embeddings' forward is wrapped
to keep a reference to the last position's logits of each call, and when the streamer hands over the token
that call produced, `log_softmax(logits)[token]` and the distribution's entropy are kept as 0-d tensors and
the logits are let go (the entropy costs one more pass over the vocabulary, ~50 us at 49k tokens). These
are the raw logits, before temperature, top-p or repetition penalties, so the figure is the model's own
fluency and does not move with sampling settings. One `.tolist()` at the end synchronizes with the device
once, not per step.

A wrapper rather than `register_forward_hook`: any hook sends every call of the module through torch's slow
path, measured at 10 us per call against 3 us for the wrapper on the demo model's head, whose whole decode
step takes 0.7 ms. accelerate wraps `forward` the same way; a wrapper of its is wrapped in turn and restored.

Forward calls and tokens are paired first in, first out: generation on Apple's MPS hands each token over
one step late (transformers' DeferredStopCheck), so a forward call may run ahead of its token. Batch size 1.
Models that post-process logits after the output embeddings (Gemma's soft-capping) read slightly differently.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch


class TokenLogprobRecorder:
    """Context manager: wraps the model's output embeddings for one generation, restores them on exit.

    >>> with TokenLogprobRecorder(model) as recorder:   # doctest: +SKIP
    ...     model.generate(ids, streamer=streamer)     # the streamer calls recorder.observe(new_ids)
    >>> recorder.token_logprobs()                      # doctest: +SKIP
    [-0.12, -2.3, ...]
    """

    def __init__(self, model: Any) -> None:
        self._head = model.get_output_embeddings()
        self._previous_forward: Any = None  # an instance-level forward already there (accelerate's), to restore
        self._pending: deque[torch.Tensor] = deque()
        self._logprobs: list[torch.Tensor] = []
        self._entropies: list[torch.Tensor] = []

    def __enter__(self) -> TokenLogprobRecorder:
        if self._head is not None:
            inner, pending = self._head.forward, self._pending
            self._previous_forward = self._head.__dict__.get("forward")

            def forward(*args: Any, **kwargs: Any) -> torch.Tensor:
                output = inner(*args, **kwargs)
                pending.append(output[0, -1])  # a view: the forward's own output, no copy
                return output

            self._head.forward = forward
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._head is not None:
            if self._previous_forward is None:
                del self._head.forward
            else:
                self._head.forward = self._previous_forward
        self._pending.clear()

    def observe(self, token_ids: list[int]) -> None:
        """The streamer's new token(s): score each against the logits of the forward call that produced it."""
        for token_id in token_ids:
            if not self._pending:
                return  # a token without its forward call (not seen in greedy or sampled decoding): leave it out
            logprobs = torch.log_softmax(self._pending.popleft(), dim=-1, dtype=torch.float32)
            self._logprobs.append(logprobs[token_id].clone())  # the bare index is a view pinning the whole row
            self._entropies.append(torch.special.entr(logprobs.exp()).sum())  # entr(0) = 0, where p log p is nan

    def token_logprobs(self) -> list[float] | None:
        """Per-token log-probabilities in generation order; None for a model without output embeddings."""
        if self._head is None:
            return None
        return torch.stack(self._logprobs).tolist() if self._logprobs else []

    def token_entropies(self) -> list[float] | None:
        """Per-token entropy (nats) of the model's distribution at each step; None without output embeddings."""
        if self._head is None:
            return None
        return torch.stack(self._entropies).tolist() if self._entropies else []
