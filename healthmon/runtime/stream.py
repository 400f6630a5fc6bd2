"""A running in-process generation as its reader sees it: text deltas, decoded as tokens arrive, from a thread or
from the event loop."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncGenerator, Generator
from typing import Any

from healthmon.params import GenerationParams
from healthmon.runtime.generate import cut_at_stop
from healthmon.target import END, StreamState
from healthmon.tracing import Trace


def releasable_text(text: str, stops: tuple[str, ...]) -> str:
    """What of a growing answer can be shown: nothing from a stop string on, and not a tail that could still
    become one.

    >>> releasable_text("Hello wor", ("world",)), releasable_text("a END b", ("END",))
    ('Hello ', 'a ')
    """
    text = cut_at_stop(text, stops)[0]
    hold = max((n for stop in stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0)
    return text[:len(text) - hold]


class DeltaDecoder:
    """The text deltas of a growing list of token ids, at a cost per token that does not grow with the answer.

    Each feed decodes only the last tokens: the ids from `prefix_offset` on, minus the text of those before
    `read_offset` (vLLM's incremental detokenization). The few tokens before the new ones give the tokenizer its
    context (a SentencePiece word's leading space, a character split over byte tokens), so the deltas add up to
    the whole answer decoded at once. An incomplete UTF-8 sequence waits for the next token; text that may be the
    start of a stop string is held back until the next tokens say whether it is one."""

    def __init__(self, tokenizer: Any, stops: tuple[str, ...]) -> None:
        self._tokenizer, self._stops = tokenizer, stops
        self._ids: list[int] = []
        self._prefix_offset = self._read_offset = 0
        self._text = ""  # everything decoded so far, stop strings not yet cut
        self.emitted = ""

    def feed(self, ids: list[int]) -> str:
        self._ids.extend(ids)
        seen = self._decode(self._ids[self._prefix_offset:self._read_offset])
        now = self._decode(self._ids[self._prefix_offset:])
        if len(now) <= len(seen) or now.endswith("\ufffd"):
            return ""  # nothing whole yet: wait for the next token
        self._text += now[len(seen):]
        self._prefix_offset, self._read_offset = self._read_offset, len(self._ids)
        text = releasable_text(self._text, self._stops)
        if not text.startswith(self.emitted):
            return ""
        delta, self.emitted = text[len(self.emitted):], text
        return delta

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True) if ids else ""

    def rest(self, final: str) -> str:
        """What the finished answer holds beyond what was emitted (text held back that was no stop after all)."""
        return final[len(self.emitted):] if final.startswith(self.emitted) else ""


class GenerationStream(StreamState):
    """A running generation: iterate it (or `aiter()` it on the event loop) for text as it is produced, or call
    result() for the record."""

    def __init__(self, tokenizer: Any, params: GenerationParams, trace: Trace, source: str,
                 synthetic: bool, want_text: bool) -> None:
        super().__init__(params, trace, source, synthetic)
        self.sink = self._put if want_text else None
        self.queued_at_seconds = trace.now()  # made at admission: the wait starts here, not when the worker takes it
        self.prompt_text = ""
        self.generate_start_seconds = self.queued_at_seconds  # the prefill that carried it first, once it ran
        self._tokenizer = tokenizer
        self._waker: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def _put(self, ids: list[int]) -> None:
        self.tokens.put(ids)
        self._wake()

    def finish(self) -> None:
        super().finish()
        self._wake()

    def _wake(self) -> None:
        """Tell an event-loop reader there is something to read (no thread of the loop's executor waits for it)."""
        waker = self._waker
        if waker is not None:
            loop, ready = waker
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:
                pass  # the reader's loop is closed: nobody is waiting any more

    def _decoder(self) -> DeltaDecoder:
        assert self._tokenizer is not None, "admitted only while a model is loaded"
        return DeltaDecoder(self._tokenizer, self.params.stop)

    def __iter__(self) -> Generator[str, None, None]:
        decoder = self._decoder()
        try:
            while (item := self.tokens.get()) is not END:
                if delta := decoder.feed(item):
                    yield delta
        finally:
            if not self.done.is_set():
                self.cancelled.set()  # the consumer went away: stop spending the model on it
        self.result()
        if rest := decoder.rest((self.record.response if self.record else None) or ""):
            yield rest

    async def aiter(self) -> AsyncGenerator[str, None]:
        """The same deltas for a reader on the event loop, woken by the worker instead of a thread waiting on the
        token queue: a hundred open streams hold no thread (the loop's executor has a handful)."""
        decoder, ready = self._decoder(), asyncio.Event()
        self._waker = (asyncio.get_running_loop(), ready)
        try:
            while True:
                try:
                    item = self.tokens.get_nowait()
                except queue.Empty:
                    ready.clear()
                    if self.tokens.empty():  # a put after get_nowait() but before clear() has set it again
                        await ready.wait()
                    continue
                if item is END:
                    break
                if delta := decoder.feed(item):
                    yield delta
        finally:
            if not self.done.is_set():
                self.cancelled.set()
        self.result()
        if rest := decoder.rest((self.record.response if self.record else None) or ""):
            yield rest
