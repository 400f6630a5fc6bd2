r"""Text from outside (a client, a model, a URL from the settings) made safe to write in one log line or show.

Three functions, and no other way to do these things in healthmon:

- `one_line(text)`: every control character, line or paragraph separator and bidirectional override written
  as a visible escape (`\n`, `\x1b`, `\u202e`), so the text is one line and reads as what it holds. The UI's
  `escape_markdown` starts from it.
- `log_text(text)`: `one_line` with backslashes doubled (so a typed `\n` and a newline stay apart) and a
  length cap, for every log line that carries client- or model-supplied text: a model source, an error that
  quotes one, an API path. A newline in a model source cannot forge a log line.
- `quoted(text)`: a client's value quoted in an error answer or a stored error, as `log_text` makes it but cut
  at 80 characters: a megabyte in is not a megabyte back, nor a megabyte in the history.
- `redact_url(url)`: a URL without what may be a secret: no `user:password@`, the query string and fragment
  replaced by `?…` / `#…`; scheme, host, port and path kept (`path=False` drops the path too, for URLs whose
  path is the secret, as a Slack or Discord webhook's is). For every URL that is logged or shown.

No Streamlit here: the runtime, the notifier and the exporters import it.

>>> log_text("local x\n2024 ERROR forged")
'local x\\n2024 ERROR forged'
>>> redact_url("https://bob:pw@hooks.example:8443/hook?secret=abc#top")
'https://hooks.example:8443/hook?…#…'
"""

from __future__ import annotations

import re
import urllib.parse

LOG_TEXT_LIMIT = 500  # characters of the original text kept in a log line; the rest is counted, not written
QUOTE_LIMIT = 80  # characters of a client's value an error quotes: enough to recognise it, never its bulk
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# What moves, hides or reorders what follows: C0 and C1 controls, line and paragraph separators, lone surrogates,
# and the bidirectional marks and overrides (text that reads differently from what it is).
_HIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object) -> str:
    """str(text) with every hidden character (`_HIDDEN`) written as a visible escape; backslashes as they
    are. Printable text, any script, is kept."""
    return _HIDDEN.sub(_escape, str(text))


def log_text(text: object, limit: int = LOG_TEXT_LIMIT) -> str:
    """Client- or model-supplied text for a log line: one line, unambiguous, at most `limit` characters of the
    original (then how many more there were). None reads as None."""
    text = str(text)
    extra = len(text) - limit
    shown = one_line(text[:limit].replace("\\", "\\\\"))
    return f"{shown}…(+{extra} chars)" if extra > 0 else shown


def quoted(text: object, limit: int = QUOTE_LIMIT) -> str:
    """A client's value (a field name, a role, a path) quoted in an error: in quotes, one line, at most `limit`
    characters of it, then how many more there were."""
    return f"'{log_text(text, limit)}'"


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#@]*@")


def redact_url(url: object, *, path: bool = True) -> str:
    """`url` without credentials, query string or fragment (each replaced by an ellipsis), one line, for a log
    line or a page. Anything that does not parse as a URL keeps only what comes before its first `?` or `#`,
    with any `…@` before the host removed."""
    text = str(url or "").strip()
    if not text:
        return ""
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not host:
        cut = re.search(r"[?#]", text)
        head = _USERINFO.sub(lambda match: match.group(1) or "", text[:cut.start()] if cut else text)
        tail = "" if cut is None else "#…" if cut.group() == "#" else "?…#…" if "#" in text[cut.end():] else "?…"
        return one_line(head + tail)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    shown = f"{parts.scheme}://{netloc}"
    if path:
        shown += parts.path
    elif parts.path not in ("", "/"):
        shown += "/…"
    if parts.query:
        shown += "?…"
    if parts.fragment:
        shown += "#…"
    return one_line(shown)
