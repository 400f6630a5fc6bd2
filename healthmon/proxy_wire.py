"""The transparent /v1 proxy's request side: what healthmon checks of a body it forwards to a remote server, and the
body it forwards.

A remote server decides what it accepts (`tools`, `logprobs`, `response_format`, `top_k`, `min_p`,
`chat_template_kwargs`, ...): healthmon checks only what it must read to measure and bound a request — the body is
a JSON object, `model` is a string, `stream` a boolean, `stream_options` an object, `max_tokens` /
`max_completion_tokens` an integer within healthmon's cap — and forwards the client's bytes as they came. It
changes the body in two cases only, and then re-encodes the same object with that one change (every other field
kept, in its order): a generation without `max_tokens` gets healthmon's default (so the cap bounds every
generation), and with `HEALTHMON_TARGET_MODEL` set, `model` names that model (the target serves one model, as the
in-process one does). The in-process target keeps its strict parser, healthmon.openai_wire.

Pure (no HTTP framework).

>>> request = parse_proxied("/chat/completions", b'{"model": "m", "messages": [{"role": "user", "content": "Hi"}],'
...                         b' "top_k": 1, "max_tokens": 8}', max_tokens_default=128, max_tokens_cap=512)
>>> request.body == request.raw, request.stream, request.max_tokens, request.params.prompt
(True, False, 8, 'Hi')
>>> parse_proxied("/completions", b'{"model": "m", "prompt": "Hi"}', max_tokens_default=128,
...               max_tokens_cap=512).body
b'{"model":"m","prompt":"Hi","max_tokens":128}'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from healthmon.openai_wire import OpenAIError
from healthmon.params import DEFAULT_TEMPERATURE, DEFAULT_TOP_P, ChatMessage, GenerationParams
from healthmon.textsafe import QUOTE_LIMIT, log_text

GENERATION_PATHS = {"/chat/completions": "chat", "/completions": "completion"}
MAX_MODEL_CHARS = 256  # a model name longer than this is not a name


@dataclass(frozen=True)
class ProxiedRequest:
    """One request the proxy forwards: its path under /v1, the bytes it sends upstream, and what it measures by."""

    path: str  # under /v1, e.g. "/chat/completions"
    raw: bytes  # the client's body, as it came
    body: bytes  # what goes upstream: `raw`, unless healthmon had to set max_tokens or model
    stream: bool
    include_usage: bool
    max_tokens: int | None  # what the server was asked for (the client's or healthmon's), None off generation paths
    params: GenerationParams  # the prompt and sampling settings, for the request's record

    @property
    def generation(self) -> bool:
        return self.path in GENERATION_PATHS


def parse_proxied(path: str, raw: bytes, *, max_tokens_default: int, max_tokens_cap: int,
                  model: str | None = None, body: Any = None) -> ProxiedRequest:
    """Check what healthmon reads of a forwarded body; OpenAIError (400) for what it cannot forward.

    `body` is `raw` already decoded (the API's bounded reader does that); `model` is the configured target model."""
    if body is None:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise OpenAIError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise OpenAIError(f"the body must be a JSON object, got {type(body).__name__}", code="invalid_type")
    given_model = body.get("model")
    if given_model is not None and (not isinstance(given_model, str) or not given_model
                                    or len(given_model) > MAX_MODEL_CHARS):
        raise OpenAIError(f"'model' must be a model name of 1 to {MAX_MODEL_CHARS} characters "
                          "(GET /v1/models lists it)", param="model", code="invalid_value")
    generation = path in GENERATION_PATHS
    if generation and given_model is None:
        raise OpenAIError("'model' is required: a model name (GET /v1/models lists it)", param="model",
                          code="missing_required_parameter")
    stream = _boolean(body, "stream")
    include_usage = _include_usage(body.get("stream_options"))
    max_tokens = _max_tokens(body, max_tokens_cap) if generation else None
    changes: dict[str, Any] = {}
    if generation and max_tokens is None:
        max_tokens = changes["max_tokens"] = min(max_tokens_default, max_tokens_cap)
    if model and given_model is not None and given_model != model:
        changes["model"] = model
    forwarded = raw if not changes else _encode(body | changes)
    return ProxiedRequest(path, raw, forwarded, stream, include_usage, max_tokens,
                          record_params(GENERATION_PATHS.get(path), body, max_tokens))


def _encode(body: dict[str, Any]) -> bytes:
    """The object as httpx would send it: compact UTF-8 JSON (a number too large for a float is refused)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except ValueError as exc:
        raise OpenAIError(f"the body holds a number JSON cannot carry: {exc}", code="invalid_value") from exc


def _boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise OpenAIError(f"'{name}' must be a boolean, got {type(value).__name__}", param=name, code="invalid_type")
    return bool(value)


def _include_usage(options: Any) -> bool:
    if options is None:
        return False
    if not isinstance(options, dict):
        raise OpenAIError("'stream_options' must be an object", param="stream_options", code="invalid_type")
    value = options.get("include_usage")
    if value is not None and not isinstance(value, bool):
        raise OpenAIError("'stream_options.include_usage' must be a boolean", param="stream_options.include_usage",
                          code="invalid_type")
    return bool(value)


def _max_tokens(body: dict[str, Any], cap: int) -> int | None:
    given = []
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise OpenAIError(f"'{name}' must be an integer, got {type(value).__name__}", param=name,
                              code="invalid_type")
        if not 1 <= value <= cap:
            raise OpenAIError(f"'{name}' must be between 1 and {cap} (HEALTHMON_MAX_NEW_TOKENS_CAP), got "
                              f"{log_text(value, QUOTE_LIMIT)}", param=name, code="invalid_value")
        given.append(value)
    return max(given) if given else None


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part["text"] for part in content
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def _finite(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else default


def record_params(kind: str | None, body: dict[str, Any], max_tokens: int | None) -> GenerationParams:
    """The prompt and settings a record keeps of a forwarded body (read loosely: the server judged the body)."""
    messages: tuple[ChatMessage, ...] = ()
    if kind == "chat":
        turns = body.get("messages")
        turns = turns if isinstance(turns, list) else []
        messages = tuple(ChatMessage(str(turn.get("role")), _text(turn.get("content")))
                         for turn in turns if isinstance(turn, dict))
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
    else:
        value = body.get("prompt") if kind == "completion" else body.get("input")
        prompt = _text([{"text": v} for v in value] if isinstance(value, list) else value)
    seed = body.get("seed")
    return GenerationParams(prompt, max_new_tokens=max_tokens,
                            temperature=_finite(body.get("temperature"), DEFAULT_TEMPERATURE),
                            top_p=_finite(body.get("top_p"), DEFAULT_TOP_P),
                            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                            messages=messages, raw_prompt=kind == "completion",
                            stream=body.get("stream") is True)  # for the trace's gen_ai.request.stream
