"""Prompt prefixes already computed: their KV tensors, so a request that starts the same way skips them in prefill.

Chat prompts share their beginning: the template's system turn (24 tokens of SmolLM2's 39-53-token prompts in the
batching benchmark), and in a conversation every earlier turn. Prefill is compute-bound on a CPU, so the tokens a
request does not have to run through the model come straight off its time to first token, and off the decode
steps its batch-mates wait for during it. vLLM calls this automatic prefix caching; llama.cpp keeps each slot's
last prompt (`cache_prompt`). Here the store keeps the KV of recent whole prompts, least recently used first out,
within a token budget (HEALTHMON_PREFIX_CACHE_TOKENS); a newcomer reuses the longest prefix it shares with one of
them. Keys and values of a position depend only on the tokens up to it (causal attention, position ids counting
real tokens), so a reused prefix is what the request would compute itself, up to float rounding.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch only for annotations: the settings read DEFAULT_PREFIX_CACHE_TOKENS without loading it
    import torch

# The store's default budget: ~20 chat prompts of SmolLM2's size, or one conversation of 1,024 tokens; 47 MB of
# SmolLM2-135M's fp32 KV (30 layers x 3 KV heads x 64 x 2 x 4 bytes a token).
DEFAULT_PREFIX_CACHE_TOKENS = 1024
# Below this many shared tokens the bookkeeping (a copy per layer) costs about what the prefill saves.
MIN_REUSE_TOKENS = 8


@dataclass(frozen=True)
class CachedPrefix:
    """A prompt's first tokens and, per layer, their keys and values ([1, heads, positions, head_dim] each)."""

    token_ids: tuple[int, ...]
    layers: tuple[tuple[torch.Tensor, torch.Tensor], ...]

    def head(self, length: int) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        """Keys and values of the first `length` positions (views: nothing is copied)."""
        return tuple((keys[:, :, :length], values[:, :, :length]) for keys, values in self.layers)


@dataclass(frozen=True)
class PrefixHit:
    """What a prompt can reuse: the first `length` tokens of `prefix`."""

    prefix: CachedPrefix
    length: int


class PrefixCache:
    """Recent prompts' KV, at most `max_tokens` positions in all; lookups and offers come from the worker thread."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], CachedPrefix] = OrderedDict()
        self.tokens = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, prompt_ids: Sequence[int]) -> PrefixHit | None:
        """The longest cached prefix of this prompt, leaving at least its last token to run (its logits choose the
        first new token); None when under MIN_REUSE_TOKENS are shared."""
        best: PrefixHit | None = None
        limit = len(prompt_ids) - 1
        for key, entry in self._entries.items():
            shared = _common_prefix(key, prompt_ids, limit)
            if shared >= MIN_REUSE_TOKENS and (best is None or shared > best.length):
                best = PrefixHit(entry, shared)
        if best is not None:
            self._entries.move_to_end(best.prefix.token_ids)
        return best

    def holds(self, prompt_ids: Sequence[int]) -> bool:
        """Whether an entry already holds this prompt's first `max_tokens` tokens (then offering it copies nothing)."""
        ids = tuple(prompt_ids[:self.max_tokens])
        return any(key[:len(ids)] == ids for key in self._entries)

    def offer(self, prompt_ids: Sequence[int], layers: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Keep a prompt's KV (already copied out of the batch): it replaces entries it extends, is dropped when an
        entry already holds it, and pushes out the least recently used entries beyond the budget."""
        ids = tuple(prompt_ids[:self.max_tokens])
        if len(ids) < MIN_REUSE_TOKENS:
            return
        for key in list(self._entries):
            if key[:len(ids)] == ids:
                self._entries.move_to_end(key)
                return  # an entry holds this whole prompt already
            if ids[:len(key)] == key:
                self._drop(key)  # the new prompt extends this one: keep the longer only
        self._entries[ids] = CachedPrefix(ids, tuple((keys[:, :, :len(ids)], values[:, :, :len(ids)])
                                                     for keys, values in layers))
        self.tokens += len(ids)
        while self.tokens > self.max_tokens:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[int, ...]) -> None:
        del self._entries[key]
        self.tokens -= len(key)


def _common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    n = min(len(a), len(b), limit)
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
