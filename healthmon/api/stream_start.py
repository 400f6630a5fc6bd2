"""A streamed answer's first event, awaited before its status is sent.

A refusal the target finds only once the request runs (the in-process model counts the prompt's tokens on its
worker, and a prompt past the model's context is an `InvalidRequest` there) must reach a streaming client as the
same 400 the non-streamed request gets, not as 200 and then an error event: so the route waits for the first
delta, or the refusal, before it commits to a status. The client loses nothing: the first delta is also when it
would have seen its first text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from healthmon.params import InvalidRequest
from healthmon.target import TokenStream


@dataclass(frozen=True)
class OpenedStream:
    """`refusal` set: answer it as an error, nothing was streamed. Else `deltas` yields every delta, the first
    included; a failure other than a refusal is raised from `deltas`, where the route reports it in the stream."""

    deltas: AsyncIterator[str]
    refusal: InvalidRequest | None = None


async def _nothing() -> AsyncIterator[str]:
    return
    yield  # an async generator that yields nothing


async def _failing(error: BaseException) -> AsyncIterator[str]:
    raise error
    yield  # an async generator that raises when read


async def _after(first: str, rest: AsyncIterator[str]) -> AsyncIterator[str]:
    yield first
    async for delta in rest:
        yield delta


async def open_stream(stream: TokenStream) -> OpenedStream:
    """Wait for the stream's first delta (or its end, or its failure) on the event loop."""
    deltas = stream.aiter()
    try:
        first = await deltas.__anext__()
    except StopAsyncIteration:
        return OpenedStream(_nothing())
    except InvalidRequest as exc:
        return OpenedStream(_nothing(), exc)
    except Exception as exc:  # noqa: BLE001 - not the client's fault: reported in the stream, as before
        return OpenedStream(_failing(exc))
    return OpenedStream(_after(first, deltas))
