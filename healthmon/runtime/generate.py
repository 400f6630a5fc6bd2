"""One instrumented generation: tokenize, prefill, decode and detokenize, each timed as a span.

Token timing comes from a streamer that only stamps the clock as each token leaves the model; text
decoding for streaming happens on the consumer's thread, so instrumentation costs the model nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from healthmon.params import GenerationParams, InvalidRequest, resolve_max_new_tokens
from healthmon.quality.fluency import TokenLogprobRecorder
from healthmon.quality.uncertainty import HEAD_TOKENS, first_sentence_tokens, token_texts_of
from healthmon.records import GenerationOutcome
from healthmon.tracing import Trace

TokenSink = Callable[[list[int]], None]


class TokenTimingStreamer(BaseStreamer):
    """Stamps the clock for every new token and hands the ids to an optional sink (and log-probability recorder).

    >>> times = iter([1.0, 2.0])
    >>> s = TokenTimingStreamer(clock=lambda: next(times))
    >>> s.put(torch.tensor([[5, 6, 7]]))  # the prompt comes first and is skipped
    >>> s.put(torch.tensor([8])); s.put(torch.tensor([9]))
    >>> s.token_ids, s.token_times_seconds
    ([8, 9], [1.0, 2.0])
    """

    def __init__(self, clock: Callable[[], float], sink: TokenSink | None = None,
                 logprobs: TokenLogprobRecorder | None = None) -> None:
        self._clock = clock
        self._sink = sink
        self._logprobs = logprobs
        self._prompt_seen = False
        self.token_ids: list[int] = []
        self.token_times_seconds: list[float] = []

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        now = self._clock()
        ids = value.reshape(-1).tolist()
        self.token_ids.extend(ids)
        self.token_times_seconds.extend([now] * len(ids))
        if self._logprobs is not None:
            self._logprobs.observe(ids)
        if self._sink is not None:
            self._sink(ids)

    def end(self) -> None:
        """Nothing to do: the engine closes the consumer's stream itself, as generate() may fail before end()."""


class _CancelOnEvent(StoppingCriteria):
    """Stops generation when the consumer goes away (a closed browser tab, a dropped connection)."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self._event.is_set(), dtype=torch.bool, device=input_ids.device)


def eos_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every id that ends a generation: the generation config may list several (chat models do)."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(configured if isinstance(configured, (list, tuple)) else [configured])
    ids.add(tokenizer.eos_token_id)
    return {i for i in ids if i is not None}


def render_prompt(tokenizer: Any, params: GenerationParams) -> tuple[str, bool]:
    """The text the model receives, and whether it is templated (then it already holds its special tokens).

    A chat model gets its own chat template, which may add a default system prompt; a model without one gets
    the prompt as it is, or a conversation as a plain transcript ending where the assistant should answer. A raw
    prompt (a text completion) is continued as it is, template or not."""
    if params.raw_prompt:
        return params.prompt, False
    if getattr(tokenizer, "chat_template", None):
        try:
            text = tokenizer.apply_chat_template(params.chat(), tokenize=False, add_generation_prompt=True)
        except Exception as exc:  # noqa: BLE001 - jinja's TemplateError: e.g. a template that wants roles to alternate
            raise InvalidRequest(f"the model's chat template refused these messages: {exc}") from exc
        return text, True
    if not params.messages:
        return params.prompt, False
    transcript = "\n".join(f"{turn['role'].capitalize()}: {turn['content']}" for turn in params.chat())
    return transcript + "\nAssistant:", False


def encode_prompt(tokenizer: Any, params: GenerationParams | str) -> list[int]:
    """Token ids of what the model receives (render_prompt); a str is one user turn."""
    return _encode(tokenizer, GenerationParams(params) if isinstance(params, str) else params)[0]


def _encode(tokenizer: Any, params: GenerationParams) -> tuple[list[int], str]:
    text, templated = render_prompt(tokenizer, params)
    return tokenizer(text, add_special_tokens=not templated)["input_ids"], text


def decode_whole_characters(tokenizer: Any, ids: list[int]) -> str:
    """The answer's text without a character cut in half at the end.

    A Chinese character can span several byte-level tokens; an answer cut at max_new_tokens may end inside
    one, which decodes to U+FFFD. Dropping the last few tokens until the text ends cleanly keeps whole
    characters only (a UTF-8 character is at most 4 bytes, so at most 3 trailing tokens hold a partial one)."""
    text = tokenizer.decode(ids, skip_special_tokens=True)
    for cut in range(1, min(3, len(ids)) + 1):
        if not text.endswith("\ufffd"):
            break
        shorter = tokenizer.decode(ids[:-cut], skip_special_tokens=True)
        if not shorter.endswith("\ufffd"):
            return shorter
    return text


def token_texts(tokenizer: Any, token_ids: list[int]) -> list[str]:
    """What each token adds to the decoded text (uncertainty.token_texts_of): its first 1, 2, … tokens decoded in
    one batch call, each token's text the difference of two."""
    return token_texts_of(tokenizer.batch_decode([token_ids[:count] for count in range(1, len(token_ids) + 1)],
                                                 skip_special_tokens=True))


def first_sentence_length(tokenizer: Any, token_ids: list[int], prompt: str) -> int:
    """uncertainty.first_sentence_tokens of the answer's first HEAD_TOKENS tokens (past an echo of `prompt`, the
    text answered): about 1,200 token decodes, 0.4 ms on SmolLM2's tokenizer."""
    return first_sentence_tokens(token_texts(tokenizer, token_ids[:HEAD_TOKENS]), prompt)


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text before the first stop string in it (the stop string itself is not part of the answer)."""
    found = [index for index in (text.find(stop) for stop in stops) if index >= 0]
    return (text[:min(found)], True) if found else (text, False)


def context_window_tokens(model: Any) -> int | None:
    return getattr(getattr(model, "config", None), "max_position_embeddings", None)


def run_generation(model: Any, tokenizer: Any, params: GenerationParams, trace: Trace, *,
                   max_new_tokens_cap: int, token_sink: TokenSink | None = None,
                   cancel: threading.Event | None = None, measure_logprobs: bool = False) -> GenerationOutcome:
    """Generate for one request, adding tokenize/prefill/decode/detokenize spans to `trace`.

    With `measure_logprobs`, each output token's log-probability is read from the generation's own logits
    (quality.fluency), for perplexity without a second forward pass.

    Raises InvalidRequest when the prompt does not fit the model's context.
    """
    started = trace.now()
    input_ids, prompt_text = _encode(tokenizer, params)
    max_new_tokens = resolve_max_new_tokens(params, len(input_ids), context_window_tokens(model), max_new_tokens_cap)
    device = next(model.parameters()).device
    inputs = torch.tensor([input_ids], dtype=torch.long, device=device)
    trace.add("tokenize", started, trace.now(), prompt_tokens=len(input_ids))

    recorder = TokenLogprobRecorder(model) if measure_logprobs else None
    streamer = TokenTimingStreamer(trace.now, token_sink, recorder)
    sampling: dict[str, Any] = {"do_sample": False}
    if not params.greedy:
        sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        if params.seed is not None:
            torch.manual_seed(params.seed)
    if params.repetition_penalty != 1.0:
        sampling["repetition_penalty"] = params.repetition_penalty
    if params.stop:  # transformers' StopStringCriteria matches across token boundaries
        sampling |= {"stop_strings": list(params.stop), "tokenizer": tokenizer}
    stopping = StoppingCriteriaList([_CancelOnEvent(cancel)]) if cancel is not None else None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    generate_start = trace.now()
    with torch.inference_mode(), recorder or contextlib.nullcontext():
        model.generate(inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=max_new_tokens,
                       pad_token_id=pad_id, streamer=streamer, stopping_criteria=stopping, **sampling)
    ids, times = streamer.token_ids, streamer.token_times_seconds
    ended_by_eos = bool(ids) and ids[-1] in eos_token_ids(model, tokenizer)
    if ended_by_eos:
        ids, times = ids[:-1], times[:-1]
    if times:
        trace.add("prefill", generate_start, times[0])
        trace.add("decode", times[0], times[-1], output_tokens=len(ids))

    detokenize_start = trace.now()
    text, hit_stop = cut_at_stop(decode_whole_characters(tokenizer, ids), params.stop)
    trace.add("detokenize", detokenize_start, trace.now())

    if ended_by_eos or hit_stop:
        finish_reason = "stop"
    elif len(streamer.token_ids) >= max_new_tokens:
        finish_reason = "length"
    elif cancel is not None and cancel.is_set():
        finish_reason = "cancelled"
    else:
        finish_reason = "stop"  # a stopping criterion of the model's own
    return GenerationOutcome(text=text, prompt_tokens=len(input_ids), output_tokens=len(ids),
                             max_new_tokens=max_new_tokens, finish_reason=finish_reason,
                             generate_start_seconds=generate_start, token_times_seconds=times,
                             token_logprobs=recorder.token_logprobs() if recorder is not None else None,
                             prompt_text=prompt_text,
                             token_entropies=recorder.token_entropies() if recorder is not None else None,
                             first_sentence_tokens=None if recorder is None
                             else first_sentence_length(tokenizer, ids, params.prompt))
