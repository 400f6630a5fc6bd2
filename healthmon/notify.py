"""Alert notifications to a webhook: JSON POST, retried with backoff, on a thread of its own.

Collection never waits for the network: transitions go into a bounded queue; when it is full the
oldest notification is dropped and counted, so a dead receiver cannot grow memory without bound.

The URL is a secret (a token in its query, or its path, as Slack's and Discord's are): the log and `health()`
name it only as `redact_url(url, path=False)` (scheme, host and port), and an error text that quotes any part
of it has that part replaced.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from healthmon.textsafe import log_text, redact_url

Poster = Callable[[str, bytes, float], int]  # (url, body, timeout_seconds) -> HTTP status


def post_json(url: str, body: bytes, timeout_seconds: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "healthmon"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310 - configured URL
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class WebhookNotifier:
    """Delivers each payload with up to `attempts` tries, waiting backoff, 2×backoff, … between them."""

    def __init__(self, url: str, *, poster: Poster = post_json, attempts: int = 5, backoff_seconds: float = 1.0,
                 timeout_seconds: float = 5.0, max_queued: int = 1000,
                 sleep: Callable[[float], bool] | None = None, logger: logging.Logger | None = None) -> None:
        self.url = url
        self.shown_url = redact_url(url, path=False)  # the only form of the URL that is logged or shown
        self._poster, self._attempts, self._backoff, self._timeout = poster, attempts, backoff_seconds, timeout_seconds
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(max_queued)
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._log = logger or logging.getLogger("healthmon.notify")
        self.sent_total = self.failed_total = self.dropped_total = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="healthmon-webhook", daemon=True)
        self._thread.start()

    def notify(self, payload: dict[str, Any]) -> None:
        """Queue one notification; never blocks."""
        while True:
            try:
                self._queue.put_nowait(payload)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped_total += 1
                except queue.Empty:
                    pass

    def _deliver(self, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload).encode("utf-8")
        for attempt in range(self._attempts):
            try:
                status = self._poster(self.url, body, self._timeout)
                if 200 <= status < 300:
                    return True
                self.last_error = f"HTTP {status}"
                if 400 <= status < 500 and status not in (408, 429):
                    return False  # the receiver refuses this payload: retrying will not change its mind
            except (OSError, ValueError, http.client.HTTPException) as exc:  # a bad URL or a garbled answer
                self.last_error = self._without_url(f"{type(exc).__name__}: {exc}")
            if attempt + 1 < self._attempts and self._sleep(self._backoff * 2**attempt):
                return False  # stopping
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                payload = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if self._deliver(payload):
                self.sent_total += 1
            else:
                self.failed_total += 1
                self._log.warning("webhook %s: could not deliver alert %s (%s)", self.shown_url,
                                  log_text(payload.get("id")), log_text(self.last_error))

    def _without_url(self, text: str) -> str:
        """An error text with every part of the URL that may be secret replaced by the redacted URL: urllib
        quotes the path and query of a URL it refuses (`URL can't contain control characters. '/hook?s=…'`)."""
        try:
            parts = urllib.parse.urlsplit(self.url)
            password = parts.password
        except ValueError:
            parts, password = None, None
        pieces = {self.url, self.url.split("://", 1)[-1]}
        if parts is not None:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            pieces |= {target, parts.query, parts.fragment, parts.netloc, password or ""}
            pieces |= {parts.path} if parts.path not in ("", "/") else set()
        for piece in sorted((piece for piece in pieces if len(piece) >= 3), key=len, reverse=True):
            text = text.replace(piece, self.shown_url)
        return text

    def health(self) -> dict[str, Any]:
        return {"queued": self._queue.qsize(), "sent_total": self.sent_total, "failed_total": self.failed_total,
                "dropped_total": self.dropped_total, "last_error": self.last_error}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
