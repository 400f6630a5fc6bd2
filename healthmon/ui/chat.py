"""The Generate page's conversation, without Streamlit: turns kept in the session, and the request they make.

A chat sends the whole conversation each time (the model keeps no state between requests), so what goes
into `messages` decides what the model remembers: answered exchanges only. A turn whose request was
refused or failed stays on screen with its error but is left out of the context, and so is a question whose
answer never arrived (the viewer left mid-stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from healthmon.quality.metrics import RELEVANCE_PENDING

_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\\\": "\\"}


@dataclass
class Turn:
    """One bubble of the conversation; an assistant turn names the request that produced it."""

    role: str  # user | assistant
    content: str
    trace_id: str | None = None
    error: str | None = None  # why this exchange has no (complete) answer; it is then left out of the context


def context(turns: list[Turn]) -> list[dict[str, str]]:
    """The answered exchanges as chat messages, then the last turn (the question now being asked)."""
    messages: list[dict[str, str]] = []
    for question, answer in pairwise(turns):
        if question.role == "user" and answer.role == "assistant" and not (question.error or answer.error):
            messages += [{"role": "user", "content": question.content},
                         {"role": "assistant", "content": answer.content}]
    if turns and turns[-1].role == "user":
        messages.append({"role": "user", "content": turns[-1].content})
    return messages


def parse_stop_field(text: str) -> list[str]:
    """Stop strings as typed in one field, one a line; `\\n` and `\\t` stand for a newline and a tab, so a
    blank line ("\\n\\n") can be a stop string too."""
    stops = []
    for line in text.splitlines():
        if not line:
            continue
        out, index = [], 0
        while index < len(line):
            pair = line[index:index + 2]
            if pair in _ESCAPES:
                out.append(_ESCAPES[pair])
                index += 2
            else:
                out.append(line[index])
                index += 1
        stops.append("".join(out))
    return stops


def request_body(turns: list[Turn], system_prompt: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The generate body for the last turn: the API's own fields, so the page is validated as the API is.

    An empty system prompt sends none: the model's chat template then decides (SmolLM2's adds its own)."""
    messages = context(turns)
    if system_prompt.strip():
        messages.insert(0, {"role": "system", "content": system_prompt})
    body = {"messages": messages} | {key: value for key, value in settings.items() if key != "stop"}
    stops = parse_stop_field(settings.get("stop") or "")
    if stops:
        body["stop"] = stops
    return body


def relevance_pending(record: dict[str, Any] | None) -> bool:
    """True while the background scorer still owes this request its relevance."""
    quality = (record or {}).get("quality") or {}
    return record is not None and record.get("status") == "ok" and quality.get("relevance") is None and \
        quality.get("relevance_reason") == RELEVANCE_PENDING
