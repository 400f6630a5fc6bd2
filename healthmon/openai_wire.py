"""OpenAI wire format, request side: bodies of `POST /v1/chat/completions` and `POST /v1/completions` parsed
into an `OpenAIRequest`, OpenAI-style errors, and the mapping onto healthmon's `GenerationParams`.

Pure (no Streamlit, no HTTP framework), so the routes, the remote-target proxy and the tests share one parser.
Validation is the same as `/api/model/generate`'s (healthmon.params does the text checks); what differs
is the names (`max_tokens`, not `max_new_tokens`) and the error shape. Fields that change nothing (`user`,
`frequency_penalty: 0`, `response_format: {"type": "text"}`, ...) are accepted; fields asking for what healthmon
cannot do (`n > 1`, tools, logprobs, JSON mode, `echo`, `best_of > 1`) are a 400 naming the param, as is a field
OpenAI does not know (as OpenAI itself answers).

>>> request = parse_request("chat", {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
...                                   "max_tokens": 8}, max_new_tokens_cap=512, max_prompt_chars=1000)
>>> generation_kwargs(request)["max_new_tokens"], request.stream
(8, False)
>>> parse_request("chat", {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "n": 2},
...               max_new_tokens_cap=512, max_prompt_chars=1000)
Traceback (most recent call last):
...
healthmon.openai_wire.OpenAIError: 'n' must be 1: healthmon returns one choice per request
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from healthmon.params import (
    MAX_REPETITION_PENALTY,
    MAX_TEMPERATURE,
    MIN_REPETITION_PENALTY,
    ChatMessage,
    InvalidRequest,
    parse_messages,
    parse_stop,
    validate_prompt,
)
from healthmon.textsafe import QUOTE_LIMIT, log_text, quoted

Kind = Literal["chat", "completion"]
MAX_SEED = 2**32 - 1  # as parse_generate_body
ROLE_ALIASES = {"developer": "system"}  # OpenAI's newer name for the system turn
_MESSAGE_KEYS = ("role", "content", "name")  # `name` is accepted and not passed to the model


class OpenAIError(Exception):
    """An error as OpenAI's API reports it: `body()` is the JSON answer, `status_code` its HTTP status."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status_code: int = 400, error_type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status_code = status_code
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        """`{"error": {...}}`, which the `openai` client turns into its typed exception with this message."""
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


def from_invalid_request(exc: InvalidRequest, param: str | None = None) -> OpenAIError:
    """healthmon's InvalidRequest (e.g. from resolve_max_new_tokens) in OpenAI's shape; its 422 becomes a 400."""
    return OpenAIError(str(exc), param=param, status_code=400 if exc.status_code == 422 else exc.status_code)


@dataclass(frozen=True)
class OpenAIRequest:
    """One validated OpenAI request; None means "not sent" (healthmon's defaults apply)."""

    kind: Kind
    model: str
    messages: tuple[ChatMessage, ...] = ()  # chat: the conversation, ending with the user turn to answer
    prompt: str | None = None  # completion: the text to continue
    stream: bool = False
    include_usage: bool = False  # stream_options.include_usage: a last chunk carries `usage`
    max_tokens: int | None = None  # max_tokens or max_completion_tokens: new tokens, prompt excluded
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    repetition_penalty: float | None = None  # not OpenAI's: vLLM's and healthmon's own extension


def _is_zero(value: Any) -> bool:
    return value is None or (not isinstance(value, bool) and isinstance(value, (int, float)) and value == 0)


# Fields that change nothing healthmon answers: accepted with any value.
_IGNORED = ("user", "metadata", "store", "service_tier", "prompt_cache_key", "prompt_cache_retention",
            "prompt_cache_options", "safety_identifier", "parallel_tool_calls", "reasoning_effort", "verbosity")
# Fields healthmon cannot honour, accepted only with the value that asks for nothing: (kinds, no-op test, why).
_NO_OP: dict[str, tuple[tuple[Kind, ...], Callable[[Any], bool], str]] = {
    "n": (("chat", "completion"), lambda v: v is None or (v == 1 and not isinstance(v, bool)),
          "must be 1: healthmon returns one choice per request"),
    "frequency_penalty": (("chat", "completion"), _is_zero, "must be 0 (use 'repetition_penalty')"),
    "presence_penalty": (("chat", "completion"), _is_zero, "must be 0 (use 'repetition_penalty')"),
    "logit_bias": (("chat", "completion"), lambda v: v is None or v == {}, "is not supported"),
    "logprobs": (("chat", "completion"), lambda v: v is None or v is False,
                 "is not supported: no log-probabilities are returned"),
    "top_logprobs": (("chat",), _is_zero, "is not supported: no log-probabilities are returned"),
    "tools": (("chat",), lambda v: v is None or v == [], "is not supported: this model does not call tools"),
    "tool_choice": (("chat",), lambda v: v is None or v == "none", "is not supported: this model does not call tools"),
    "functions": (("chat",), lambda v: v is None or v == [], "is not supported: this model does not call functions"),
    "function_call": (("chat",), lambda v: v is None or v == "none",
                      "is not supported: this model does not call functions"),
    "response_format": (("chat",), lambda v: v is None or v == {"type": "text"},
                        "must be {\"type\": \"text\"}: structured output is not supported"),
    "modalities": (("chat",), lambda v: v is None or v == ["text"],
                   "must be [\"text\"]: text is all this model returns"),
    "audio": (("chat",), lambda v: v is None, "is not supported: text is all this model returns"),
    "prediction": (("chat",), lambda v: v is None, "is not supported"),
    "web_search_options": (("chat",), lambda v: v is None, "is not supported"),
    "moderation": (("chat",), lambda v: v is None, "is not supported"),
    "echo": (("completion",), lambda v: v is None or v is False,
             "is not supported: the answer never repeats the prompt"),
    "best_of": (("completion",), lambda v: v is None or (v == 1 and not isinstance(v, bool)), "must be 1"),
    "suffix": (("completion",), lambda v: v is None or v == "", "is not supported"),
}
_USED: dict[Kind, tuple[str, ...]] = {
    "chat": ("model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
             "top_p", "stop", "seed", "repetition_penalty"),
    "completion": ("model", "prompt", "stream", "stream_options", "max_tokens", "temperature", "top_p", "stop",
                   "seed", "repetition_penalty"),
}


def _integer(body: dict, name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OpenAIError(f"'{name}' must be an integer, got {type(value).__name__}", param=name, code="invalid_type")
    if not low <= value <= high:
        raise OpenAIError(f"'{name}' must be between {low} and {high}, got {log_text(value, QUOTE_LIMIT)}", param=name,
                          code="invalid_value")
    return value


def _number(body: dict, name: str, low: float, high: float, low_inclusive: bool = True) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OpenAIError(f"'{name}' must be a number, got {type(value).__name__}", param=name, code="invalid_type")
    value = float(value)
    if not math.isfinite(value) or value > high or value < low or (value == low and not low_inclusive):
        bracket = "[" if low_inclusive else "("
        raise OpenAIError(f"'{name}' must be in {bracket}{low}, {high}], got {value}", param=name, code="invalid_value")
    return value


def _boolean(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise OpenAIError(f"'{name}' must be a boolean, got {type(value).__name__}", param=name, code="invalid_type")
    return value


def _checked(param: str, check: Callable[[], Any]) -> Any:
    """Run one of params' validators, reporting its InvalidRequest as an OpenAIError about `param`."""
    try:
        return check()
    except InvalidRequest as exc:
        raise from_invalid_request(exc, param) from exc


def _messages(value: Any, max_prompt_chars: int) -> tuple[ChatMessage, ...]:
    """OpenAI's message objects reduced to role and content, then validated as /api/model/generate does."""
    if not isinstance(value, list):
        raise OpenAIError("'messages' must be a list of {\"role\", \"content\"} objects", param="messages",
                          code="invalid_type")
    turns = []
    for index, item in enumerate(value):
        name = f"messages[{index}]"
        if not isinstance(item, dict):
            raise OpenAIError(f"'{name}' must be an object", param=name, code="invalid_type")
        role = item.get("role")
        if role in ("tool", "function"):
            raise OpenAIError(f"'{name}.role' {quoted(role)} is not supported: this model does not call tools",
                              param=f"{name}.role", code="unsupported_value")
        extra = sorted(key for key, part in item.items() if key not in _MESSAGE_KEYS and part not in (None, [], ""))
        if extra:
            field = log_text(extra[0], QUOTE_LIMIT)  # a client's key, quoted twice: capped
            raise OpenAIError(f"'{name}.{field}' is not supported: this model takes text turns only",
                              param=f"{name}.{field}", code="unsupported_parameter")
        turns.append({"role": ROLE_ALIASES.get(role, role) if isinstance(role, str) else role,
                      "content": item.get("content")})
    return _checked("messages", lambda: parse_messages(turns, max_prompt_chars))


def _prompt(value: Any, max_prompt_chars: int) -> str:
    """A string, or a list holding one string; token-id prompts and batches are refused."""
    if isinstance(value, list):
        if len(value) != 1 or not isinstance(value[0], str):
            raise OpenAIError("'prompt' must be a string (or a list of one string): batches and token ids are not "
                              "supported", param="prompt", code="unsupported_value")
        value = value[0]
    return _checked("prompt", lambda: validate_prompt(value, max_prompt_chars))


def _include_usage(body: dict, stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream:
        raise OpenAIError("'stream_options' is only allowed when 'stream' is true", param="stream_options",
                          code="invalid_value")
    if not isinstance(options, dict):
        raise OpenAIError("'stream_options' must be an object", param="stream_options", code="invalid_type")
    unknown = sorted(set(options) - {"include_usage", "include_obfuscation"})
    if unknown:
        field = log_text(unknown[0], QUOTE_LIMIT)
        raise OpenAIError(f"Unrecognized request argument supplied: stream_options.{field}",
                          param=f"stream_options.{field}", code="unknown_parameter")
    _boolean(options.get("include_obfuscation"), "stream_options.include_obfuscation")  # no obfuscation is sent
    return _boolean(options.get("include_usage"), "stream_options.include_usage")


def _max_tokens(body: dict, cap: int) -> int | None:
    given = [value for value in (_integer(body, "max_tokens", 1, cap), _integer(body, "max_completion_tokens", 1, cap))
             if value is not None]
    if len(set(given)) > 1:
        raise OpenAIError("'max_tokens' and 'max_completion_tokens' disagree: send one of them",
                          param="max_completion_tokens", code="invalid_value")
    return given[0] if given else None


def parse_request(kind: Kind, body: Any, *, max_new_tokens_cap: int, max_prompt_chars: int) -> OpenAIRequest:
    """A decoded JSON body of /v1/chat/completions ("chat") or /v1/completions ("completion"), or OpenAIError."""
    if not isinstance(body, dict):
        raise OpenAIError(f"the body must be a JSON object, got {type(body).__name__}", code="invalid_type")
    for name, value in body.items():
        if name in _USED[kind] or name in _IGNORED:
            continue
        no_op = _NO_OP.get(name)
        if no_op is None or kind not in no_op[0]:
            field = log_text(name, QUOTE_LIMIT)  # the name is the client's: a 500 KB one is not quoted whole, twice
            raise OpenAIError(f"Unrecognized request argument supplied: {field}", param=field,
                              code="unknown_parameter")
        _, is_no_op, why = no_op
        if not is_no_op(value):
            raise OpenAIError(f"'{name}' {why}", param=name, code="unsupported_value")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIError("'model' is required: a model name (GET /v1/models lists it)", param="model",
                          code="invalid_type" if "model" in body else "missing_required_parameter")
    required = "messages" if kind == "chat" else "prompt"
    if required not in body:
        raise OpenAIError(f"'{required}' is required", param=required, code="missing_required_parameter")
    stream = _boolean(body.get("stream"), "stream")
    return OpenAIRequest(
        kind=kind, model=model,
        messages=_messages(body["messages"], max_prompt_chars) if kind == "chat" else (),
        prompt=_prompt(body["prompt"], max_prompt_chars) if kind == "completion" else None,
        stream=stream, include_usage=_include_usage(body, stream),
        max_tokens=_max_tokens(body, max_new_tokens_cap),
        temperature=_number(body, "temperature", 0.0, MAX_TEMPERATURE),
        top_p=_number(body, "top_p", 0.0, 1.0, low_inclusive=False),
        stop=_checked("stop", lambda: parse_stop(body.get("stop"))),
        seed=_integer(body, "seed", 0, MAX_SEED),
        repetition_penalty=_number(body, "repetition_penalty", MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY))


def generation_kwargs(request: OpenAIRequest) -> dict[str, Any]:
    """Keyword arguments of GenerationParams for this request; what was not sent keeps healthmon's default."""
    kwargs: dict[str, Any] = {"prompt": request.messages[-1].content if request.messages else request.prompt,
                              "messages": request.messages, "stop": request.stop,
                              "raw_prompt": request.kind == "completion", "stream": request.stream}
    optional = {"max_new_tokens": request.max_tokens, "temperature": request.temperature, "top_p": request.top_p,
                "seed": request.seed, "repetition_penalty": request.repetition_penalty}
    kwargs |= {name: value for name, value in optional.items() if value is not None}
    return kwargs
