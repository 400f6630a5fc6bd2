"""Token counts for a remote target's answers when its server sends no `usage` (some llama.cpp and Ollama
builds, proxies that strip it): counted with the model's own tokenizer, given by HEALTHMON_TARGET_TOKENIZER.

Without one the counts stay empty: a count from another model's tokenizer would be a guess, not a measurement.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from healthmon.params import GenerationParams
from healthmon.textsafe import log_text


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


class TokenCounter:
    """Counts a request's prompt and answer tokens as the served model sees them."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer

    def prompt_tokens(self, params: GenerationParams) -> int:
        """A text completion's prompt as it is; a chat through the model's template, with the assistant's turn
        opened, as the server renders it."""
        if params.raw_prompt:
            return len(self._tokenizer.encode(params.prompt, add_special_tokens=True))
        ids = self._tokenizer.apply_chat_template(params.chat(), add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return len(ids)

    def output_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))


def load_token_counter(path: str, logger: logging.Logger) -> TokenCounter | None:
    """The tokenizer in a local folder (a checkpoint's or a tokenizer's own); None, logged, when it cannot load,
    so a wrong path leaves the counts empty instead of keeping the monitor from starting."""
    if not path:
        return None
    try:
        from transformers import AutoTokenizer

        return TokenCounter(AutoTokenizer.from_pretrained(path, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any loader failure means: no counts from a tokenizer
        logger.warning("HEALTHMON_TARGET_TOKENIZER=%s: cannot load a tokenizer (%s); token counts come only from the "
                       "server's usage", log_text(path), log_text(exc))
        return None
