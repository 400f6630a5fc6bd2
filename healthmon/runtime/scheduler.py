"""The batch scheduler: which waiting requests join the running batch, and when each one leaves it.

Between two decode steps, waiting requests are admitted in arrival order while the batch has room (HEALTHMON_MAX_BATCH
rows) and the KV cache can hold what the batch may come to need (every row padded to the longest prompt and token
budget among them); then every
running request gets one token. A request leaves as soon as it ends: its end-of-turn token, a stop string, its token
budget, or its client gone. Its record is built from its own token times, so queue time (arrival to the step that
first carries it), TTFT and time per token are its own, not the batch's.

The scheduler runs on the runtime's one worker thread; the counters it keeps are read by `info()` under the
runtime's state lock (the `figures` lock passed in), the cache's size as a plain int.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from healthmon.params import InvalidRequest, resolve_max_new_tokens
from healthmon.records import GenerationOutcome
from healthmon.runtime.batching import PaddedBatch, Row, Sampler, sampling_top_k
from healthmon.runtime.generate import (
    _encode,
    context_window_tokens,
    cut_at_stop,
    decode_whole_characters,
    eos_token_ids,
    first_sentence_length,
)
from healthmon.runtime.prefix_cache import PrefixCache
from healthmon.target_info import SchedulerCounters as SchedulerCounters  # declared in the leaf module


class BatchScheduler:
    """Runs admitted GenerationStreams through one PaddedBatch; `finish(stream, outcome, error)` records each."""

    def __init__(self, model: Any, tokenizer: Any, *, max_batch: int, kv_cache_tokens: int, max_new_tokens_cap: int,
                 clock: Callable[[], float], counters: SchedulerCounters, figures: threading.Lock,
                 finish: Callable[..., None],
                 on_admitted: Callable[[int], None], on_left: Callable[[int], None],
                 prefix_cache_tokens: int = 0) -> None:
        self.batch = PaddedBatch(model, clock, PrefixCache(prefix_cache_tokens) if prefix_cache_tokens else None)
        self._tokenizer = tokenizer
        self.max_batch, self.kv_cache_tokens = max_batch, kv_cache_tokens
        self._cap = max_new_tokens_cap
        self._context = context_window_tokens(model)
        self._eos = eos_token_ids(model, tokenizer)
        self._top_k = sampling_top_k(model)
        self._clock = clock
        self._figures = figures
        self._finish, self._on_admitted, self._on_left = finish, on_admitted, on_left
        self.waiting: deque[Any] = deque()
        self._step_waited = False  # the last turn joined newcomers and left its step for this one
        self.counters = counters

    @property
    def model(self) -> Any:
        return self.batch.model

    @property
    def busy(self) -> bool:
        return bool(self.waiting) or bool(len(self.batch))

    def held_positions(self) -> int:
        """KV positions the batch's cache holds now, padding included (a plain int: safe from any thread)."""
        return self.batch.held_positions

    def run_once(self, arrived_meanwhile: Callable[[], bool] = lambda: False) -> None:
        """Admit who can join, then one decode step for the batch; whoever ended leaves with its record.

        When requests arrived during a prefill and a row is free, the step waits one turn so they join first:
        their first token then costs one prefill, not a prefill and a decode step (vLLM, too, schedules prefills
        first). Never two turns in a row, so running requests keep their pace under a stream of arrivals."""
        joining = self._admit()
        if joining:
            try:
                started = self.batch.join(joining)
            except Exception as exc:  # noqa: BLE001 - join changes the batch only once it succeeded: the
                for row in joining:     # newcomers end here with the error, the running rows go on
                    self._on_left(1)
                    self._finish(row.key, None, exc)
                joining = []
            prompt_tokens = sum(len(row.prompt_ids) for row in joining)
            reused_tokens = sum(row.reused_prompt_tokens for row in joining)
            with self._figures:
                self.counters.prefill_passes_total += 1
                self.counters.step_tokens_total += prompt_tokens - reused_tokens
                self.counters.prefix_cache_queried_tokens_total += prompt_tokens
                self.counters.prefix_cache_hit_tokens_total += reused_tokens
            for row in joining:
                row.key.generate_start_seconds = started
                row.key.trace.add("prefill", started, row.token_times_seconds[0], batch_size=len(self.batch),
                                  cached_prompt_tokens=row.reused_prompt_tokens)
            self._settle(joining)
        if joining and not self._step_waited and len(self.batch) < self.max_batch and arrived_meanwhile():
            self._step_waited = True
            return
        self._step_waited = False
        if len(self.batch):
            rows = len(self.batch)
            self._settle(list(self.batch.step()))
            with self._figures:
                self.counters.decode_steps_total += 1
                self.counters.decode_step_requests_total += rows
                self.counters.step_tokens_total += rows

    def fail_all(self, error: BaseException) -> None:
        """Every running and waiting request ends with `error` (the model went away, or a step raised)."""
        running, self.batch.rows = list(self.batch.rows), []
        self.batch.leave([])
        for row in running:
            self._on_left(1)
            self._finish(row.key, None, error)
        while self.waiting:
            self._finish(self.waiting.popleft(), None, error, was_waiting=True)

    def _admit(self) -> list[Row]:
        """Waiting requests, in arrival order, while a row is free and the KV cache has room for them."""
        joining: list[Row] = []
        while self.waiting and self._rows_free(joining, self.waiting[0]):
            stream = self.waiting[0]
            started = stream.trace.now()
            if stream.cancelled.is_set():  # its client left while it waited: nothing to run
                self.waiting.popleft()
                stream.trace.add("queue", stream.queued_at_seconds, started)
                self._finish(stream, self._nothing_run(stream, started), None, was_waiting=True)
                continue
            try:
                row = self._row(stream)
            except Exception as exc:  # noqa: BLE001 - an invalid (or untokenizable) request ends alone
                self.waiting.popleft()
                stream.trace.add("queue", stream.queued_at_seconds, started)
                self._finish(stream, None, exc, was_waiting=True)
                continue
            if not self._fits([*self.batch.rows, *joining, row]) and (len(self.batch) or joining):
                if not getattr(stream, "deferred", False):
                    stream.deferred = True
                    with self._figures:
                        self.counters.kv_cache_deferred_total += 1
                break  # first come, first served: later requests do not overtake it
            self.waiting.popleft()
            tokenized_at, tokenized_seconds = stream.tokenized
            # One who waited for cache room was tokenized on its first try: that span lies inside its queue.
            stream.trace.add("queue", stream.queued_at_seconds, started)
            stream.trace.add("tokenize", tokenized_at, tokenized_at + tokenized_seconds,
                             prompt_tokens=len(row.prompt_ids))
            joining.append(row)
            self._on_admitted(1)
        return joining

    def _fits(self, rows: list[Row]) -> bool:
        """Whether these rows' cache, padded to the longest reservation, stays within the KV cache's room."""
        return len(rows) * max(row.reserved_tokens for row in rows) <= self.kv_cache_tokens

    def _rows_free(self, joining: list[Row], stream: Any) -> bool:
        """A row for this request: max_batch user requests, and a canary probe on top (it never displaces a user)."""
        if stream.synthetic:
            return True
        users = sum(not row.key.synthetic for row in [*self.batch.rows, *joining])
        return users < self.max_batch

    def _row(self, stream: Any) -> Row:
        """Tokenize a waiting request (once) and size its budget; InvalidRequest when it cannot fit the model or the
        cache. `stream.tokenized` keeps when that was and how long it took, for its spans."""
        if getattr(stream, "row", None) is not None:
            return stream.row
        started = stream.trace.now()
        prompt_ids, stream.prompt_text = _encode(self._tokenizer, stream.params)
        max_new_tokens = resolve_max_new_tokens(stream.params, len(prompt_ids), self._context, self._cap)
        stream.tokenized = (started, stream.trace.now() - started)
        row = Row(stream, prompt_ids, max_new_tokens, Sampler(stream.params, self.batch.device, self._top_k))
        if row.reserved_tokens > self.kv_cache_tokens:
            raise InvalidRequest(f"the request may need {row.reserved_tokens} tokens of KV cache (prompt and "
                                 f"max_new_tokens); the cache holds {self.kv_cache_tokens} (HEALTHMON_KV_CACHE_TOKENS)")
        stream.row = row
        return row

    def _nothing_run(self, stream: Any, now: float) -> GenerationOutcome:
        """The outcome of a request cancelled before it ran: no token."""
        return GenerationOutcome(text="", prompt_tokens=None, output_tokens=0, max_new_tokens=None,
                                 finish_reason="cancelled", generate_start_seconds=now)

    def _settle(self, rows: list[Row]) -> None:
        """Hand each row's new token to its client; rows that ended leave the batch with their records."""
        ended: list[tuple[Row, str]] = []
        for row in rows:
            stream, token = row.key, row.token_ids[-1]
            if token in self._eos:
                ended.append((row, "stop"))
                continue
            if stream.sink is not None:
                stream.sink([token])
            if stream.params.stop and self._hits_stop(row.token_ids, stream.params.stop):
                ended.append((row, "stop"))
            elif len(row.token_ids) >= row.max_new_tokens:
                ended.append((row, "length"))
            elif stream.cancelled.is_set():
                ended.append((row, "cancelled"))
        if ended:
            self.batch.leave([row for row, _ in ended])
            for row, reason in ended:
                self._on_left(1)
                self._finish(row.key, self._outcome(row, reason), None)

    def _hits_stop(self, token_ids: list[int], stops: tuple[str, ...]) -> bool:
        """Whether the answer's end holds a stop string: only the last tokens are decoded (a byte-level token can
        be a third of a character, so four tokens a character and a few more cover the longest stop string)."""
        window = token_ids[-(4 * max(len(stop) for stop in stops) + 4):]
        text = self._tokenizer.decode(window, skip_special_tokens=True)
        return any(stop in text for stop in stops)

    def _outcome(self, row: Row, finish_reason: str) -> GenerationOutcome:
        stream, ids, times = row.key, row.token_ids, row.token_times_seconds
        logprobs, entropies = row.token_logprobs, row.token_entropies
        if ids and ids[-1] in self._eos:  # the end-of-turn token is not part of the answer
            ids, times, logprobs, entropies = ids[:-1], times[:-1], logprobs[:-1], entropies[:-1]
        trace = stream.trace
        if times:
            trace.add("decode", times[0], times[-1], output_tokens=len(ids))
        started = trace.now()
        text, _ = cut_at_stop(decode_whole_characters(self._tokenizer, ids), stream.params.stop)
        trace.add("detokenize", started, trace.now())
        return GenerationOutcome(text=text, prompt_tokens=len(row.prompt_ids), output_tokens=len(ids),
                                 max_new_tokens=row.max_new_tokens, finish_reason=finish_reason,
                                 generate_start_seconds=stream.generate_start_seconds, token_times_seconds=times,
                                 token_logprobs=logprobs, prompt_text=stream.prompt_text, token_entropies=entropies,
                                 first_sentence_tokens=first_sentence_length(self._tokenizer, ids,
                                                                             stream.params.prompt))
