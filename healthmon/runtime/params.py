"""Strict validation of a generate request body: every invalid input becomes one clear InvalidRequest."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_NEW_TOKENS = 128
DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.9
MAX_TEMPERATURE = 2.0
GREEDY_BELOW_TEMPERATURE = 1e-5  # dividing logits by less overflows to inf: such a temperature means greedy
KNOWN_FIELDS = ("prompt", "max_new_tokens", "max_length", "temperature", "top_p", "seed")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InvalidRequest(ValueError):
    """A client error; `status_code` is the HTTP status the API answers with."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class GenerationParams:
    """What one generation runs with. max_length is the seed's total-length cap (prompt + new tokens)."""

    prompt: str
    max_new_tokens: int | None = None
    max_length: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature < GREEDY_BELOW_TEMPERATURE

    def to_dict(self) -> dict[str, Any]:
        return {"max_new_tokens": self.max_new_tokens, "max_length": self.max_length,
                "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed}


def _integer(body: dict, name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low} and {high}, got {value}")
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


def validate_prompt(prompt: Any, max_prompt_chars: int) -> str:
    """Shared by the API and the Generate page so both refuse the same prompts with the same words."""
    if not isinstance(prompt, str):
        raise InvalidRequest(f"'prompt' must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise InvalidRequest("'prompt' is empty")
    if len(prompt) > max_prompt_chars:
        raise InvalidRequest(f"'prompt' is {len(prompt)} characters; the limit is {max_prompt_chars}", 413)
    if _LONE_SURROGATE.search(prompt):
        raise InvalidRequest("'prompt' contains a lone UTF-16 surrogate, which is not valid text")
    if _FORBIDDEN_CONTROL.search(prompt):
        raise InvalidRequest("'prompt' contains control characters (only tab, newline and carriage return are allowed)")
    return prompt


def parse_generate_body(body: Any, *, max_new_tokens_cap: int, max_prompt_chars: int) -> GenerationParams:
    """Turn a decoded JSON body into GenerationParams, or raise InvalidRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"the body must be a JSON object, got {type(body).__name__}", 400)
    unknown = sorted(set(body) - set(KNOWN_FIELDS))
    if unknown:
        raise InvalidRequest(f"unknown field(s) {unknown}; accepted: {list(KNOWN_FIELDS)}")
    if "prompt" not in body:
        raise InvalidRequest("'prompt' is required")
    prompt = validate_prompt(body["prompt"], max_prompt_chars)
    max_new_tokens = _integer(body, "max_new_tokens", 1, max_new_tokens_cap)
    max_length = _integer(body, "max_length", 1, max_new_tokens_cap * 64)
    temperature = _number(body, "temperature", DEFAULT_TEMPERATURE, 0.0, MAX_TEMPERATURE)
    top_p = _number(body, "top_p", DEFAULT_TOP_P, 0.0, 1.0, low_inclusive=False)
    seed = _integer(body, "seed", 0, 2**32 - 1)
    return GenerationParams(prompt, max_new_tokens, max_length, temperature, top_p, seed)


def resolve_max_new_tokens(params: GenerationParams, prompt_tokens: int, context_tokens: int | None,
                           max_new_tokens_cap: int) -> int:
    """Apply the seed's max_length (prompt included), the default, and the model's context window."""
    if params.max_new_tokens is not None:
        wanted = params.max_new_tokens
    elif params.max_length is not None:
        wanted = params.max_length - prompt_tokens
        if wanted < 1:
            raise InvalidRequest(f"'max_length' {params.max_length} leaves no room: the prompt alone is {prompt_tokens} tokens")
    else:
        wanted = DEFAULT_MAX_NEW_TOKENS
    wanted = min(wanted, max_new_tokens_cap)
    if context_tokens is not None and prompt_tokens + wanted > context_tokens:
        raise InvalidRequest(
            f"the prompt is {prompt_tokens} tokens; with {wanted} new tokens it exceeds the model's context of "
            f"{context_tokens} tokens")
    return wanted
