"""OpenAI wire format, answer side: the bodies and stream chunks healthmon sends, their server-sent-event
encoding, and the reader for an upstream OpenAI-compatible server's stream.

Pure (no Streamlit, no HTTP framework). Shapes follow openai-python's types (ChatCompletion,
ChatCompletionChunk, Completion, Model). Upstream servers differ: `transformers serve` puts `usage` on the
finish chunk and sends no `data: [DONE]`; OpenAI sends a last `choices: []` chunk with `usage`, then
`[DONE]`. `read_chunk` takes what is there, so a stream reads the same either way.

>>> stream = ChunkStream("chat", "t1", "m", created_s=0, include_usage=True)
>>> reader = SSEReader()
>>> wire = b"".join(map(encode_sse, [*stream.head(), stream.text("Hi"), *stream.tail("eos", Usage(3, 1))]))
>>> [read_chunk(item).text for item in reader.feed(wire + DONE_SSE) if item is not DONE]
['', 'Hi', '', '']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from healthmon.openai_wire import Kind

DONE_SSE = b"data: [DONE]\n\n"  # the stream's last event
MAX_EVENT_BYTES = 8 * 1024 * 1024  # an upstream event this large is not a chunk: the reader refuses it
_OBJECT = {"chat": "chat.completion", "completion": "text_completion"}
_CHUNK_OBJECT = {"chat": "chat.completion.chunk", "completion": "text_completion"}
_ID_PREFIX = {"chat": "chatcmpl", "completion": "cmpl"}
# healthmon's finish reasons (runtime.generate) as OpenAI's; a client that went away gets "stop", if anything.
_FINISH_REASONS = {"stop": "stop", "eos": "stop", "length": "length", "cancelled": "stop"}
_OPENAI_FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")
_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Usage:
    """Token counts of one request, as `usage` reports them."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}


def openai_finish_reason(reason: str) -> str:
    """healthmon's finish reason in OpenAI's vocabulary; OpenAI's own pass through, anything else is a bug."""
    if reason in _OPENAI_FINISH_REASONS:
        return reason
    if reason not in _FINISH_REASONS:
        raise ValueError(f"no OpenAI finish reason for {reason!r}")
    return _FINISH_REASONS[reason]


def completion_id(kind: Kind, trace_id: str) -> str:
    """`chatcmpl-<trace id>` / `cmpl-<trace id>`: a client's id leads straight to the request's trace."""
    return f"{_ID_PREFIX[kind]}-{trace_id}"


def response_body(kind: Kind, *, trace_id: str, model: str, created_s: int, text: str, finish_reason: str,
                  usage: Usage) -> dict[str, Any]:
    """A non-streaming `chat.completion` or `text_completion`; `finish_reason` is healthmon's."""
    choice: dict[str, Any] = {"index": 0}
    if kind == "chat":
        choice["message"] = {"role": "assistant", "content": text}
    else:
        choice["text"] = text
    choice |= {"logprobs": None, "finish_reason": openai_finish_reason(finish_reason)}
    return {"id": completion_id(kind, trace_id), "object": _OBJECT[kind], "created": created_s, "model": model,
            "choices": [choice], "usage": usage.to_dict()}


@dataclass(frozen=True)
class ChunkStream:
    """The chunks of one streamed answer, all with the same id, created time and model.

    Send `head()`, then `text(delta)` for each piece of text, then `tail(finish_reason, usage)`, then DONE_SSE."""

    kind: Kind
    trace_id: str
    model: str
    created_s: int
    include_usage: bool = False

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk = {"id": completion_id(self.kind, self.trace_id), "object": _CHUNK_OBJECT[self.kind],
                 "created": self.created_s, "model": self.model, "choices": choices}
        if self.include_usage:  # as OpenAI: every chunk says usage null, but the last
            chunk["usage"] = None
        return chunk

    def _choice(self, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        """A chat choice carries `delta`; a text completion's carries its text (empty when the delta is)."""
        content = {"delta": delta} if self.kind == "chat" else {"text": delta.get("content", "")}
        return {"index": 0} | content | {"logprobs": None, "finish_reason": finish_reason}

    def head(self) -> list[dict[str, Any]]:
        """What goes before the first token: for chat, the delta that names the assistant role."""
        return [self._chunk([self._choice({"role": "assistant", "content": ""})])] if self.kind == "chat" else []

    def text(self, delta: str) -> dict[str, Any]:
        return self._chunk([self._choice({"content": delta})])

    def tail(self, finish_reason: str, usage: Usage) -> list[dict[str, Any]]:
        """The chunk with the finish reason (healthmon's, translated), then the usage chunk if asked for."""
        chunks = [self._chunk([self._choice({}, openai_finish_reason(finish_reason))])]
        if self.include_usage:
            chunks.append(self._chunk([]) | {"usage": usage.to_dict()})
        return chunks


def models_body(model_ids: Iterable[str], *, created_s: int, owned_by: str = "healthmon") -> dict[str, Any]:
    """The `GET /v1/models` answer."""
    return {"object": "list", "data": [{"id": model_id, "object": "model", "created": created_s,
                                        "owned_by": owned_by} for model_id in model_ids]}


def encode_sse(payload: dict[str, Any]) -> bytes:
    """One `data: <json>` event; JSON escapes newlines, so one data line always holds it."""
    return b"data: " + json.dumps(payload, ensure_ascii=False, allow_nan=False,
                                  separators=(",", ":")).encode() + b"\n\n"


def split_before_done(data: bytes) -> tuple[bytes, bytes]:
    """The bytes of a piece that completed the stream's `[DONE]`, cut where that event's line starts: what a relay
    sends at once, and the end it holds until the request is recorded. When the event began in an earlier piece,
    the whole piece is its end.

    >>> split_before_done(b'data: {"choices": []}\\n\\ndata: [DONE]\\n\\n')
    (b'data: {"choices": []}\\n\\n', b'data: [DONE]\\n\\n')
    >>> split_before_done(b"NE]\\n\\n")
    (b'', b'NE]\\n\\n')
    """
    at = data.rfind(b"[DONE]")
    if at < 0:
        return b"", data
    start = max(data.rfind(b"\n", 0, at), data.rfind(b"\r", 0, at)) + 1
    return data[:start], data[start:]


class Done:
    """The `data: [DONE]` event (one instance, DONE)."""

    def __repr__(self) -> str:
        return "DONE"


DONE = Done()


@dataclass(frozen=True)
class MalformedEvent:
    """An event whose data is not a JSON object; kept, not raised, so the events after it still arrive."""

    data: str


class SSEReader:
    """Incremental server-sent-events parser: feed bytes as they arrive, split anywhere (mid-line, mid-character).

    `feed` returns the events its bytes completed: a JSON object, DONE, or a MalformedEvent. Comments
    (`: ping`), `event:`/`id:`/`retry:` fields and empty events are skipped; lines end with \\n, \\r\\n or \\r, as
    the SSE standard allows. An event not closed by a blank line when the stream ends is never dispatched (the
    standard says to drop it)."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max_event_bytes = max_event_bytes
        self._buffer = bytearray()
        self._data: list[bytes] = []
        self._data_bytes = 0
        self._after_cr = False  # the last chunk ended with \r: a \n opening the next belongs to it

    def feed(self, chunk: bytes) -> list[dict[str, Any] | Done | MalformedEvent]:
        """The events completed by `chunk`; a partial line waits in the buffer for the next chunk."""
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        # What the buffer held before holds no line end (each would have ended a line): scan only the new bytes,
        # so a long line arriving in small pieces costs its length once, not once per piece.
        scanned = len(self._buffer)
        self._buffer += chunk
        events: list[dict[str, Any] | Done | MalformedEvent] = []
        start = 0
        while (end := _LINE_END.search(self._buffer, max(start, scanned))) is not None:
            if end.group() == b"\r" and end.end() == len(self._buffer):
                self._after_cr = True
            event = self._line(bytes(self._buffer[start:end.start()]))
            if event is not None:
                events.append(event)
            start = end.end()
        del self._buffer[:start]
        if len(self._buffer) + self._data_bytes > self._max_event_bytes:
            raise ValueError(f"an SSE event over {self._max_event_bytes} bytes: not an OpenAI stream")
        return events

    def _line(self, line: bytes) -> dict[str, Any] | Done | MalformedEvent | None:
        if not line:
            return self._dispatch()
        field, _, value = line.partition(b":")
        if field == b"data":
            self._data.append(value[1:] if value[:1] == b" " else value)
            self._data_bytes += len(value)
        return None

    def _dispatch(self) -> dict[str, Any] | Done | MalformedEvent | None:
        if not self._data:
            return None
        data = b"\n".join(self._data).decode("utf-8", errors="replace")
        self._data, self._data_bytes = [], 0
        if data.strip() == "[DONE]":
            return DONE
        try:
            parsed = json.loads(data)
        except ValueError:
            return MalformedEvent(data)
        return parsed if isinstance(parsed, dict) else MalformedEvent(data)


@dataclass(frozen=True)
class ChunkContent:
    """What one upstream chunk (or whole answer) carries for measuring: text, finish reason, usage, error."""

    text: str = ""
    reasoning_text: str = ""  # vLLM's and transformers' `reasoning_content` / `reasoning` delta: output tokens too
    finish_reason: str | None = None  # as the upstream said it
    usage: Usage | None = None
    tool_calls: bool = False  # the chunk calls tools (`tool_calls` / `function_call`): an answer without text
    error: str | None = None  # an error's message: `{"error": {...}}`, transformers' `{"error": "..."}` or
    # vLLM's `{"object": "error", "message": ...}`


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def read_chunk(payload: dict[str, Any]) -> ChunkContent:
    """The first choice's text of a chat or completion chunk, or of a non-streaming answer; never raises."""
    error = payload if payload.get("object") == "error" else payload.get("error")  # vLLM's is the whole object
    if error is not None:
        return ChunkContent(error=str(error.get("message") or error) if isinstance(error, dict) else str(error))
    choices = payload.get("choices")
    choice = next((c for c in choices if isinstance(c, dict)), {}) if isinstance(choices, list) else {}
    delta = choice.get("delta") or choice.get("message")
    tool_calls = False
    if isinstance(delta, dict):
        text = _string(delta.get("content"))
        reasoning = _string(delta.get("reasoning_content")) or _string(delta.get("reasoning"))
        tool_calls = bool(delta.get("tool_calls") or delta.get("function_call"))
    else:
        text, reasoning = _string(choice.get("text")), ""
    usage = payload.get("usage")
    counts = (usage.get("prompt_tokens"), usage.get("completion_tokens")) if isinstance(usage, dict) else ()
    valid = len(counts) == 2 and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)
    finish = choice.get("finish_reason")
    return ChunkContent(text, reasoning, finish if isinstance(finish, str) else None,
                        Usage(*counts) if valid else None, tool_calls)
