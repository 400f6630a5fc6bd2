"""What the load test asks: built-in prompts in English and Chinese, or a JSONL file of the user's own."""

from __future__ import annotations

import json
from pathlib import Path

Messages = tuple[tuple[str, str], ...]  # (role, content) pairs, hashable and immutable

BUILT_IN: tuple[str, ...] = (
    "Explain in a few sentences how a hard disk stores data.",
    "Write a short note to a colleague asking to move tomorrow's meeting to Friday.",
    "What are three good habits for keeping a server healthy?",
    "Summarise why people monitor the latency of a web service.",
    "用几句话解释一下为什么要监控模型服务的延迟。",
    "请写一段简短的说明，介绍什么是负载测试。",
    "列出保持服务器稳定运行的三个好习惯。",
    "简单介绍一下硬盘是如何存储数据的。",
)


class PromptFileError(ValueError):
    """A prompts file line that is neither a `prompt` string nor a `messages` list; the message names the line."""


def as_messages(prompt: str) -> Messages:
    return (("user", prompt),)


def built_in() -> tuple[Messages, ...]:
    """English and Chinese, interleaved by the runner's cycling, so a level sees both scripts."""
    return tuple(as_messages(p) for p in BUILT_IN)


def _line_messages(item: object, where: str) -> Messages:
    if isinstance(item, dict) and isinstance(item.get("prompt"), str) and item["prompt"].strip():
        return as_messages(item["prompt"])
    if isinstance(item, dict) and isinstance(item.get("messages"), list) and item["messages"]:
        pairs = []
        for message in item["messages"]:
            if not (isinstance(message, dict) and isinstance(message.get("role"), str)
                    and isinstance(message.get("content"), str)):
                raise PromptFileError(f"{where}: each message needs a string role and content")
            pairs.append((message["role"], message["content"]))
        return tuple(pairs)
    raise PromptFileError(f"{where}: expected an object with a non-empty \"prompt\" string or \"messages\" list")


def parse_prompts(text: str, source: str = "prompts") -> tuple[Messages, ...]:
    """One JSON object a line (`{"prompt": ...}` or `{"messages": [...]}`); blank lines are skipped."""
    prompts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise PromptFileError(f"{source}:{number}: not JSON ({exc})") from exc
        prompts.append(_line_messages(item, f"{source}:{number}"))
    if not prompts:
        raise PromptFileError(f"{source}: no prompts")
    return tuple(prompts)


def load_prompts(path: Path) -> tuple[Messages, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptFileError(f"{path}: {exc}") from exc
    return parse_prompts(text, str(path))


def to_wire(messages: Messages) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in messages]
