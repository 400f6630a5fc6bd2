"""A loopback stand-in for the Hugging Face hub: one model repository served with the hub's URL layout and the
headers huggingface_hub reads (the model info with its commit sha, the file tree, and each file under
`/<repo>/resolve/<revision>/<path>` with X-Repo-Commit, ETag and Content-Length), so `HF_ENDPOINT` pointed here
downloads through huggingface_hub's real code path, progress bars included. A broken hub is one argument away:
`missing` files are listed but answer 404, `cut` files stop halfway with the connection closed."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class HubStandIn:
    """Serves the files of `folder` as the repository `repo_id` at one commit; `requests` lists what was asked."""

    def __init__(self, repo_id: str, folder: Path, skip: tuple[str, ...] = (), missing: tuple[str, ...] = (),
                 cut: tuple[str, ...] = ()) -> None:
        self.repo_id, self.missing, self.cut = repo_id, missing, cut
        self.files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.name not in skip}
        self.sha = hashlib.sha1(b"".join(self.files.values())).hexdigest()
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HubStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, raw_path: str) -> tuple[int, dict[str, str], bytes]:
        path = unquote(urlsplit(raw_path).path)
        self.requests.append(f"{method} {path}")
        info_prefix = f"/api/models/{self.repo_id}/revision/"
        tree_prefix = f"/api/models/{self.repo_id}/tree/"
        resolve_prefix = f"/{self.repo_id}/resolve/"
        if path.startswith(info_prefix):
            body = {"id": self.repo_id, "modelId": self.repo_id, "sha": self.sha, "private": False,
                    "siblings": [{"rfilename": name} for name in self.files]}
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if path.startswith(tree_prefix):
            body = [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                    for name, data in self.files.items()]
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if path.startswith(resolve_prefix):
            revision, _, name = path[len(resolve_prefix):].partition("/")
            data = self.files.get(name)
            if data is None or name in self.missing or revision not in (self.sha, "main"):
                return 404, {"X-Error-Code": "EntryNotFound"}, b"not found"
            return 200, {"X-Repo-Commit": self.sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                         "Content-Type": "application/octet-stream"}, data
        return 404, {"X-Error-Code": "RepoNotFound"}, b"not found"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, with_body: bool) -> None:
                status, headers, body = hub._answer(self.command, self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body and status == 200 and self.path.rsplit("/", 1)[-1] in hub.cut:
                    self.wfile.write(body[:len(body) // 2])  # then the connection drops, mid-file
                    self.close_connection = True
                elif with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self._send(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._send(False)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
