"""Alert messages as a key and its values, so each reader gets them in their own language.

The key is the English wording with `{placeholders}` (as the UI's translations key on English text, a key with no
translation reads as English); the values are what it names: metric keys, numbers already formatted with their
units, or other messages (a resolved alert's message wraps the condition's). The engine stores the key and values
beside the English text, which the webhook and the log keep; the pages word it through their locale files
(`healthmon/ui/locales/<lang>/common.json`, since every page that lists alerts shows them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

Value = Union[str, "Message", tuple["Message", ...]]  # a tuple of messages reads as a list: "a, b"
SEPARATOR = ", "


@dataclass(frozen=True)
class Message:
    key: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def english(self) -> str:
        return render(self, lambda text: text)

    def to_args(self) -> dict[str, Any]:
        """The values as the store keeps them (JSON: a nested message as {"key", "values"})."""
        return {name: _encode(value) for name, value in self.values.items()}

    @classmethod
    def from_stored(cls, key: str, args: Mapping[str, Any] | None) -> Message:
        return cls(key, {name: _decode(value) for name, value in (args or {}).items()})


def render(message: Message, words: Callable[[str], str]) -> str:
    """The message in the language `words` translates into; a value it lacks leaves its placeholder as it is."""
    values = {name: _render_value(value, words) for name, value in message.values.items()}
    return words(message.key).format_map(_Missing(values))


def _render_value(value: Value, words: Callable[[str], str]) -> str:
    if isinstance(value, Message):
        return render(value, words)
    if isinstance(value, tuple):
        return SEPARATOR.join(render(item, words) for item in value)
    return str(value)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:  # an old stored key whose values changed: show the placeholder
        return "{" + key + "}"


def _encode(value: Value) -> Any:
    if isinstance(value, Message):
        return {"key": value.key, "values": value.to_args()}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Value:
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return Message.from_stored(value["key"], value.get("values"))
    if isinstance(value, list):
        return tuple(item for item in map(_decode, value) if isinstance(item, Message))
    return str(value)
