"""Strict validation of a generate request body: every invalid input becomes one clear InvalidRequest.

A body carries either a `prompt` (one user turn) or OpenAI-style chat `messages` (several turns, with system
and assistant roles), plus sampling settings, `stop` strings and a `repetition_penalty`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from healthmon.textsafe import QUOTE_LIMIT, log_text, quoted

DEFAULT_MAX_NEW_TOKENS = 128
DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.9
MAX_TEMPERATURE = 2.0
GREEDY_BELOW_TEMPERATURE = 1e-5  # dividing logits by less overflows to inf: such a temperature means greedy
MAX_REPETITION_PENALTY = 2.0  # transformers divides a seen token's logit by it: beyond 2 answers fall apart
MIN_REPETITION_PENALTY = 0.5  # and multiplies a negative one: 1e-100 overflowed the logits to inf (a 500)
MAX_MESSAGES = 256
MAX_STOP_STRINGS = 4  # as the OpenAI API
MAX_STOP_CHARS = 200
CHAT_ROLES = ("system", "user", "assistant")
KNOWN_FIELDS = ("prompt", "messages", "max_new_tokens", "max_length", "temperature", "top_p", "seed", "stop",
                "repetition_penalty")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InvalidRequest(ValueError):
    """A client error; `status_code` is the HTTP status the API answers with."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation, as the OpenAI API and chat templates know it."""

    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """What one generation runs with. max_length is the seed's total-length cap (prompt + new tokens).

    `prompt` is the text being answered: the whole prompt, or the last user turn when `messages` holds a
    conversation (then the model receives all of `messages` through its chat template)."""

    prompt: str
    max_new_tokens: int | None = None
    max_length: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    seed: int | None = None
    messages: tuple[ChatMessage, ...] = ()
    stop: tuple[str, ...] = ()
    repetition_penalty: float = 1.0
    raw_prompt: bool = False  # a text completion (/v1/completions): the prompt is continued as is, no chat template
    stream: bool = False  # the client asked for a streamed answer (/v1 `stream`): recorded for traces, not a setting

    @property
    def greedy(self) -> bool:
        return self.temperature < GREEDY_BELOW_TEMPERATURE

    def chat(self) -> list[dict[str, str]]:
        """The conversation for a chat template: the messages, or the prompt as one user turn."""
        turns = self.messages or (ChatMessage("user", self.prompt),)
        return [{"role": turn.role, "content": turn.content} for turn in turns]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "max_length": self.max_length,
                               "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed,
                               "stop": list(self.stop), "repetition_penalty": self.repetition_penalty}
        if self.messages:
            out["messages"] = self.chat()
        if self.raw_prompt:
            out["raw_prompt"] = True
        if self.stream:
            out["stream"] = True
        return out


def _integer(body: dict, name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low} and {high}, got {log_text(value, QUOTE_LIMIT)}")
    return value


def _number(body: dict, name: str, default: float, low: float, high: float, low_inclusive: bool = True) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"'{name}' must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidRequest(f"'{name}' must be a finite number")
    if value > high or value < low or (value == low and not low_inclusive):
        bracket = "[" if low_inclusive else "("
        raise InvalidRequest(f"'{name}' must be in {bracket}{low}, {high}], got {value}")
    return value


def validate_prompt(prompt: Any, max_prompt_chars: int, name: str = "prompt", allow_empty: bool = False) -> str:
    """Shared by the API and the Generate page so both refuse the same prompts with the same words."""
    if not isinstance(prompt, str):
        raise InvalidRequest(f"'{name}' must be a string, got {type(prompt).__name__}")
    if not allow_empty and not prompt.strip():
        raise InvalidRequest(f"'{name}' is empty")
    if len(prompt) > max_prompt_chars:
        raise InvalidRequest(f"'{name}' is {len(prompt)} characters; the limit is {max_prompt_chars}", 413)
    if _LONE_SURROGATE.search(prompt):
        raise InvalidRequest(f"'{name}' contains a lone UTF-16 surrogate, which is not valid text")
    if _FORBIDDEN_CONTROL.search(prompt):
        raise InvalidRequest(f"'{name}' contains control characters "
                             "(only tab, newline and carriage return are allowed)")
    return prompt


def _content(value: Any, name: str) -> Any:
    """OpenAI clients may send content as a list of parts; text parts are joined, any other part is refused."""
    if not isinstance(value, list):
        return value
    texts = []
    for part in value:
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise InvalidRequest(f"'{name}' parts must be {{\"type\": \"text\", \"text\": \"...\"}}; "
                                 "this model takes text only")
        texts.append(part["text"])
    return "".join(texts)


def parse_messages(value: Any, max_prompt_chars: int) -> tuple[ChatMessage, ...]:
    """OpenAI-style chat messages: roles system/user/assistant, ending with the user turn to answer."""
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'messages' must be a non-empty list of {\"role\", \"content\"} objects")
    if len(value) > MAX_MESSAGES:
        raise InvalidRequest(f"'messages' has {len(value)} turns; the limit is {MAX_MESSAGES}")
    turns = []
    for index, item in enumerate(value):
        name = f"messages[{index}]"
        if not isinstance(item, dict) or set(item) - {"role", "content"} or "role" not in item or "content" not in item:
            raise InvalidRequest(f"'{name}' must be an object with exactly 'role' and 'content'")
        if item["role"] not in CHAT_ROLES:
            raise InvalidRequest(f"'{name}.role' must be one of {list(CHAT_ROLES)}, got {quoted(item['role'])}")
        content = validate_prompt(_content(item["content"], f"{name}.content"), max_prompt_chars,
                                  f"{name}.content", allow_empty=item["role"] != "user")
        turns.append(ChatMessage(item["role"], content))
    total = sum(len(turn.content) for turn in turns)
    if total > max_prompt_chars:
        raise InvalidRequest(f"'messages' hold {total} characters; the limit is {max_prompt_chars}", 413)
    if turns[-1].role != "user":
        raise InvalidRequest("the last of 'messages' must be the user turn to answer, got role "
                             f"{turns[-1].role!r}")
    return tuple(turns)


def parse_stop(value: Any) -> tuple[str, ...]:
    """One string or up to four, as the OpenAI API takes them; the answer ends before the first one found."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidRequest("'stop' must be a string or a list of strings")
    if len(items) > MAX_STOP_STRINGS:
        raise InvalidRequest(f"'stop' takes at most {MAX_STOP_STRINGS} strings, got {len(items)}")
    for item in items:
        if not item or len(item) > MAX_STOP_CHARS:
            raise InvalidRequest(f"each 'stop' string must have 1 to {MAX_STOP_CHARS} characters")
        validate_prompt(item, MAX_STOP_CHARS, "stop", allow_empty=True)
    return tuple(dict.fromkeys(items))


def parse_generate_body(body: Any, *, max_new_tokens_cap: int, max_prompt_chars: int) -> GenerationParams:
    """Turn a decoded JSON body into GenerationParams, or raise InvalidRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"the body must be a JSON object, got {type(body).__name__}", 400)
    unknown = sorted(set(body) - set(KNOWN_FIELDS))
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""  # names are the client's: one, capped
        raise InvalidRequest(f"unknown field {quoted(unknown[0])}{more}; accepted: {list(KNOWN_FIELDS)}")
    if "prompt" in body and "messages" in body:
        raise InvalidRequest("send either 'prompt' or 'messages', not both")
    if "prompt" not in body and "messages" not in body:
        raise InvalidRequest("'prompt' is required (or 'messages', for a conversation)")
    messages: tuple[ChatMessage, ...] = ()
    if "messages" in body:
        messages = parse_messages(body["messages"], max_prompt_chars)
        prompt = messages[-1].content
    else:
        prompt = validate_prompt(body["prompt"], max_prompt_chars)
    max_new_tokens = _integer(body, "max_new_tokens", 1, max_new_tokens_cap)
    max_length = _integer(body, "max_length", 1, max_new_tokens_cap * 64)
    temperature = _number(body, "temperature", DEFAULT_TEMPERATURE, 0.0, MAX_TEMPERATURE)
    top_p = _number(body, "top_p", DEFAULT_TOP_P, 0.0, 1.0, low_inclusive=False)
    seed = _integer(body, "seed", 0, 2**32 - 1)
    repetition_penalty = _number(body, "repetition_penalty", 1.0, MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY)
    return GenerationParams(prompt, max_new_tokens, max_length, temperature, top_p, seed, messages,
                            parse_stop(body.get("stop")), repetition_penalty)


def resolve_max_new_tokens(params: GenerationParams, prompt_tokens: int, context_tokens: int | None,
                           max_new_tokens_cap: int) -> int:
    """Apply the seed's max_length (prompt included), the default, and the model's context window."""
    if params.max_new_tokens is not None:
        wanted = params.max_new_tokens
    elif params.max_length is not None:
        wanted = params.max_length - prompt_tokens
        if wanted < 1:
            raise InvalidRequest(f"'max_length' {params.max_length} leaves no room: "
                                 f"the prompt alone is {prompt_tokens} tokens")
    else:
        wanted = DEFAULT_MAX_NEW_TOKENS
    wanted = min(wanted, max_new_tokens_cap)
    if context_tokens is not None and prompt_tokens + wanted > context_tokens:
        raise InvalidRequest(
            f"the prompt is {prompt_tokens} tokens; with {wanted} new tokens it exceeds the model's context of "
            f"{context_tokens} tokens")
    return wanted
