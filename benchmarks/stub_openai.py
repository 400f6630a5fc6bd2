"""A paced OpenAI-compatible streaming server for measuring the proxy alone, with no model noise.

    python -m benchmarks.stub_openai --port 8001 [--token-ms 20] [--tokens 8]

`POST /v1/chat/completions` and `/v1/completions` answer `--tokens` content deltas (a streamed request gets its
first at once, then one every `--token-ms`), then a usage chunk when `stream_options.include_usage` is set, then
`[DONE]`; non-streamed requests get the whole answer after the same time. `GET /health` answers 200, `GET
/v1/models` lists the one model, anything else 404. Plain asyncio, HTTP/1.1 with keep-alive and chunked bodies:
the server costs a few tens of microseconds a request, so what a proxy in front of it adds stands out. It is a
benchmark instrument, not a test double: the proxy's correctness is tested against `transformers serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

MODEL = "stub"
WORDS = ("Monitoring", " a", " model", " service", " means", " watching", " its", " latency", " and", " errors")


def _chunk(kind: str, created: int, **choice: object) -> dict:
    body: dict = {"id": "cmpl-stub", "object": kind, "created": created, "model": MODEL}
    body["choices"] = [{"index": 0, **choice}] if choice else []
    return body


def _sse(payload: dict | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    body = f"data: {data}\n\n".encode()
    return f"{len(body):x}\r\n".encode() + body + b"\r\n"


class Stub:
    def __init__(self, token_seconds: float, tokens: int) -> None:
        self.token_seconds, self.tokens = token_seconds, tokens

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                fields = (line.partition(":") for line in lines[1:] if line)
                headers = {name.strip().lower(): value.strip() for name, _, value in fields}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self.answer(method, path.split("?")[0], body, writer)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> None:
        if method == "GET" and path == "/health":
            return await self.plain(writer, 200, b"{}")
        if method == "GET" and path == "/v1/models":
            return await self.plain(writer, 200, json.dumps({"object": "list", "data": [
                {"id": MODEL, "object": "model", "owned_by": "stub"}]}).encode())
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/completions"):
            return await self.plain(writer, 404, b'{"error":{"message":"not found"}}')
        request = json.loads(body or b"{}")
        chat = path.endswith("chat/completions")
        tokens = min(self.tokens, int(request.get("max_tokens") or request.get("max_completion_tokens")
                                      or self.tokens))
        words = [WORDS[i % len(WORDS)] for i in range(tokens)]
        created = int(time.time())
        usage = {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens}
        if not request.get("stream"):
            await asyncio.sleep(self.token_seconds * max(0, tokens - 1))
            text = "".join(words)
            choice = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            answer = _chunk("chat.completion" if chat else "text_completion", created, **choice,
                            finish_reason="length")
            return await self.plain(writer, 200, json.dumps(answer | {"usage": usage}).encode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        kind = "chat.completion.chunk" if chat else "text_completion"
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(self.token_seconds)
            delta = {"delta": {"content": word} | ({"role": "assistant"} if index == 0 else {})} if chat \
                else {"text": word}
            last = index == len(words) - 1
            writer.write(_sse(_chunk(kind, created, **delta, finish_reason="length" if last else None)))
            await writer.drain()
        if (request.get("stream_options") or {}).get("include_usage"):
            writer.write(_sse(_chunk(kind, created) | {"usage": usage}))
        writer.write(_sse("[DONE]") + b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    async def plain(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        reason = {200: "OK", 404: "Not Found"}[status]
        writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: "
                     f"{len(body)}\r\n\r\n".encode() + body)
        await writer.drain()


async def serve(port: int, token_seconds: float, tokens: int) -> None:
    server = await asyncio.start_server(Stub(token_seconds, tokens).handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.token_ms / 1000, args.tokens))


if __name__ == "__main__":
    main()
