"""Continuous batching: one decode loop over a left-padded KV cache that requests join and leave between steps.

Each step is one forward pass for every request in the batch (one new token each); a request that arrives while
others decode is prefilled on its own forward pass and joins at the next step; one that finishes, hits a stop
string or is cancelled leaves at once. Every request keeps its own sampling (greedy, or temperature and top-p with
a generator seeded from its own seed, so an answer does not depend on its batch-mates), repetition penalty, stop
strings and token budget, and the log-probability and entropy of each of its tokens under the raw logits.

Why a loop of our own (measured in DESIGN.md, "Serving under load"): on these 2 CPU cores a padded batch of 8 ran
several times the one-at-a-time tokens/s, where transformers' ContinuousBatchingManager (paged attention, built for
GPUs) ran 1.4x; and a loop of our own keeps the per-token logits and the per-request timings the monitor reads.

The cache is transformers' DynamicCache: per layer, keys and values of shape [batch, heads, positions, dim].
Rows are left-padded to one length; `attention_mask` marks real positions, and each row's position ids count its
real tokens only, so a padded row computes what it would alone (up to float rounding in batched matmuls).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache, GenerationConfig
from transformers.cache_utils import DynamicLayer

from healthmon.params import GenerationParams
from healthmon.runtime.prefix_cache import PrefixCache


def batching_unsupported(model: Any) -> str | None:
    """Why this model cannot join a padded batch (then it serves one request at a time), or None when it can."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return "not a decoder-only transformers model"
    try:
        layers = DynamicCache(config=config).layers
    except Exception as exc:  # noqa: BLE001 - any architecture the cache does not know
        return f"its KV cache cannot be built ({type(exc).__name__})"
    if any(type(layer) is not DynamicLayer for layer in layers):
        return "it has sliding-window or recurrent layers, whose caches cannot be padded and merged"
    try:  # the forward arguments the batch passes: a model whose forward refuses them serves one at a time
        device = next(model.parameters()).device
        ids = torch.zeros((2, 2), dtype=torch.long, device=device)
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=torch.tensor([[0, 1], [1, 1]], device=device),
                  position_ids=torch.tensor([[0, 0], [0, 1]], device=device),
                  past_key_values=DynamicCache(config=config), use_cache=True, logits_to_keep=1)
    except Exception as exc:  # noqa: BLE001 - whatever it is, the batch cannot drive this model
        return f"its forward pass does not take a padded batch ({type(exc).__name__}: {exc})"[:300]
    return None


def sampling_top_k(model: Any) -> int:
    """The top-k a sampled request gets, as `generate()` gives it: the model's generation config, else transformers'
    default (50); 0 keeps every token."""
    configured = getattr(getattr(model, "generation_config", None), "top_k", None)
    return int(configured if configured is not None else GenerationConfig._get_default_generation_params()["top_k"])


class Sampler:
    """One request's choice of its next token from the raw logits: repetition penalty, then greedy, or temperature,
    top-k and top-p (generate()'s order) on a generator of its own (seeded from the request's seed, so batch-mates
    never change it)."""

    def __init__(self, params: GenerationParams, device: torch.device, top_k: int = 0) -> None:
        self.greedy = params.greedy
        self.temperature, self.top_p, self.top_k = params.temperature, params.top_p, top_k
        self.repetition_penalty = params.repetition_penalty
        self.generator: torch.Generator | None = None
        if not self.greedy:
            self.generator = torch.Generator(device=device)
            if params.seed is not None:
                self.generator.manual_seed(params.seed)
            else:
                self.generator.seed()

    def penalize(self, logits: torch.Tensor, seen_ids: torch.Tensor) -> torch.Tensor:
        """transformers' RepetitionPenaltyLogitsProcessor: a seen token's logit divided (or, if negative,
        multiplied) by the penalty."""
        if self.repetition_penalty == 1.0:
            return logits
        picked = logits.gather(0, seen_ids)
        picked = torch.where(picked < 0, picked * self.repetition_penalty, picked / self.repetition_penalty)
        return logits.scatter(0, seen_ids, picked)

    def choose(self, logits: torch.Tensor) -> int:
        if self.greedy:
            return int(logits.argmax())
        logits = logits / self.temperature
        if 0 < self.top_k < logits.shape[-1]:  # transformers' TopKLogitsWarper: ties with the k-th token stay
            logits = logits.masked_fill(logits < torch.topk(logits, self.top_k).values[-1], float("-inf"))
        probs = F.softmax(logits, dim=-1)
        if self.top_p < 1.0:  # keep the smallest set of tokens whose mass reaches top_p (the top token always)
            sorted_probs, order = probs.sort(descending=True)
            outside = sorted_probs.cumsum(-1) - sorted_probs > self.top_p
            probs = probs.scatter(0, order, sorted_probs.masked_fill(outside, 0.0))
        return int(torch.multinomial(probs, 1, generator=self.generator))


@dataclass
class Row:
    """One request in the batch: what it was given and what it has produced so far."""

    key: Any  # the caller's handle for the request
    prompt_ids: list[int]
    max_new_tokens: int
    sampler: Sampler
    token_ids: list[int] = field(default_factory=list)  # generated, the end-of-turn token included
    token_times_seconds: list[float] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    token_entropies: list[float] = field(default_factory=list)
    seen_ids: torch.Tensor | None = None  # prompt and answer ids, for the repetition penalty
    reused_prompt_tokens: int = 0  # prompt tokens taken from the prefix cache instead of prefilled

    @property
    def reserved_tokens(self) -> int:
        """The KV positions this request may come to hold: its prompt and its whole token budget."""
        return len(self.prompt_ids) + self.max_new_tokens


class PaddedBatch:
    """The running batch: a left-padded DynamicCache, its attention mask, and one Row per request, in cache order."""

    def __init__(self, model: Any, clock: Callable[[], float], prefix_cache: PrefixCache | None = None) -> None:
        self.model = model
        self.prefix_cache = prefix_cache  # the worker's own: read and written between steps only
        self.device = next(model.parameters()).device
        self._clock = clock
        self.rows: list[Row] = []
        self._cache: DynamicCache | None = None
        self._mask = torch.zeros((0, 0), dtype=torch.long, device=self.device)
        # Plain ints the worker keeps up to date, so readers on other threads never touch (or sync on) a tensor.
        self.held_positions = 0  # rows x cache length, padding included: what the cache's memory holds

    def __len__(self) -> int:
        return len(self.rows)

    def _held(self) -> None:
        self.held_positions = int(self._mask.shape[0]) * int(self._mask.shape[1])

    @torch.inference_mode()
    def join(self, rows: Sequence[Row]) -> float:
        """Prefill the newcomers on one forward pass and add them to the batch; their first token is chosen and
        timed. A prompt beginning that the prefix cache holds is copied in, not run. Returns when it started."""
        started = self._clock()
        reused, cache = self._reused_prefix(rows)
        length = max(len(row.prompt_ids) for row in rows) - reused
        ids = torch.zeros((len(rows), length), dtype=torch.long, device=self.device)
        mask = torch.zeros((len(rows), reused + length), dtype=torch.long, device=self.device)
        mask[:, :reused] = 1
        for i, row in enumerate(rows):
            suffix = row.prompt_ids[reused:]
            ids[i, length - len(suffix):] = torch.tensor(suffix, device=self.device)
            mask[i, reused + length - len(suffix):] = 1
            row.seen_ids = torch.tensor(row.prompt_ids, dtype=torch.long, device=self.device)
            row.reused_prompt_tokens = reused
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, reused:]
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                            use_cache=True, logits_to_keep=1).logits[:, -1, :]
        self._advance(list(rows), logits)  # before joining: a newcomer that fails here leaves the batch as it was
        self._offer_prompts(rows, cache, mask)
        self._merge(cache, mask)
        self.rows.extend(rows)
        self._held()
        return started

    def _reused_prefix(self, rows: Sequence[Row]) -> tuple[int, DynamicCache]:
        """The prompt tokens every newcomer takes from the prefix cache (one length for all, so the group's cache
        stays left-padded and as long as its longest prompt: the KV reservation holds), and a cache holding them."""
        cache = DynamicCache(config=self.model.config)
        if self.prefix_cache is None:
            return 0, cache
        hits = [self.prefix_cache.lookup(row.prompt_ids) for row in rows]
        reused = min(hit.length if hit is not None else 0 for hit in hits)
        if reused:
            heads = [hit.prefix.head(reused) for hit in hits if hit is not None]
            for index, layer in enumerate(zip(*heads, strict=True)):
                cache.update(torch.cat([keys for keys, _ in layer]), torch.cat([values for _, values in layer]), index)
        return reused, cache

    def _offer_prompts(self, rows: Sequence[Row], cache: DynamicCache, mask: torch.Tensor) -> None:
        """Copy each newcomer's prompt KV into the prefix cache, unless it holds that prompt already."""
        if self.prefix_cache is None:
            return
        for i, row in enumerate(rows):
            if self.prefix_cache.holds(row.prompt_ids):
                continue
            positions = mask[i].nonzero().squeeze(1)[:self.prefix_cache.max_tokens]
            self.prefix_cache.offer(row.prompt_ids, [
                (layer.keys[i:i + 1].index_select(2, positions), layer.values[i:i + 1].index_select(2, positions))
                for layer in _layers(cache)])

    @torch.inference_mode()
    def step(self) -> list[Row]:
        """One decode step for every row; returns the rows, each with one more token."""
        last = torch.tensor([[row.token_ids[-1]] for row in self.rows], dtype=torch.long, device=self.device)
        ones = torch.ones((len(self.rows), 1), dtype=torch.long, device=self.device)
        positions = self._mask.sum(-1, keepdim=True)  # each row's next position counts its real tokens only
        self._mask = torch.cat([self._mask, ones], dim=1)
        logits = self.model(input_ids=last, attention_mask=self._mask, position_ids=positions,
                            past_key_values=self._cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
        self._advance(self.rows, logits)
        self._held()
        return self.rows

    def leave(self, leaving: Sequence[Row]) -> None:
        """Drop rows from the batch, and the cache positions no row uses any more (the longest one's padding)."""
        gone = {id(row) for row in leaving}
        keep = [i for i, row in enumerate(self.rows) if id(row) not in gone]
        self.rows = [self.rows[i] for i in keep]
        if not self.rows:
            self._cache, self._mask, self.held_positions = None, self._mask[:0, :0], 0
            return
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        mask = self._mask.index_select(0, index)
        used = mask.any(dim=0).nonzero()
        start = int(used[0]) if len(used) else mask.shape[1]
        self._mask = mask[:, start:]
        for layer in _layers(self._cache):
            layer.keys = layer.keys.index_select(0, index)[:, :, start:]
            layer.values = layer.values.index_select(0, index)[:, :, start:]
        self._held()

    def _merge(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Append a prefilled cache's rows to the batch's, left-padding whichever is shorter."""
        if self._cache is None or not self.rows:
            self._cache, self._mask = cache, mask
            return
        length = max(self._mask.shape[1], mask.shape[1])
        for mine, theirs in zip(_layers(self._cache), _layers(cache), strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)], dim=0)
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)], dim=0)
        self._mask = torch.cat([_left_pad(self._mask, length, dim=1), _left_pad(mask, length, dim=1)], dim=0)

    def _advance(self, rows: list[Row], logits: torch.Tensor) -> None:
        """Choose each row's next token, and keep its log-probability and entropy under the raw logits."""
        logits = logits.float()  # as generate() does: fp16 logits over a small temperature overflow to inf
        logprobs = torch.log_softmax(logits, dim=-1)
        entropies = torch.special.entr(logprobs.exp()).sum(-1).tolist()
        chosen = [row.sampler.choose(row.sampler.penalize(logits[i], row.seen_ids))  # type: ignore[arg-type]
                  for i, row in enumerate(rows)]
        chosen_logprobs = logprobs.gather(1, torch.tensor(chosen, device=self.device)[:, None]).squeeze(1).tolist()
        now = self._clock()  # one reading for the step: every row's token left the model at the same time
        for row, token, logprob, entropy in zip(rows, chosen, chosen_logprobs, entropies, strict=True):
            row.token_ids.append(token)
            row.token_times_seconds.append(now)
            row.token_logprobs.append(logprob if math.isfinite(logprob) else -1e4)
            row.token_entropies.append(entropy)
            if row.sampler.repetition_penalty != 1.0:
                row.seen_ids = torch.cat([row.seen_ids, torch.tensor([token], device=self.device)])  # type: ignore[list-item]


def _layers(cache: DynamicCache | None) -> list[Any]:
    """The cache's layers, each a DynamicLayer with `keys` and `values` (batching_unsupported checked that)."""
    assert cache is not None
    return list(cache.layers)


def _left_pad(tensor: torch.Tensor, length: int, dim: int = 2) -> torch.Tensor:
    missing = length - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
