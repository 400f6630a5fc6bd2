"""healthmon's /v1 proxy in front of a given server, in this process: the agent's app under a real uvicorn on a free
loopback port, its Monitor at hand (records, target) for the test to read. The collector does not run; the target
is polled once at start (and by the test when it wants)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Self

import uvicorn

from healthmon.agent import build_app
from healthmon.config import load_settings
from healthmon.monitor import Monitor
from tests.appserver import free_port


class ProxyApp:
    def __init__(self, base_url: str, data_dir: Path, **settings: Any) -> None:
        self.settings = load_settings(env={}, config_file=data_dir / "none.toml", model=f"openai:{base_url}",
                                      data_dir=data_dir, probe_interval=0.0, embedding_model="off", **settings)
        self.monitor = Monitor(self.settings)
        self.records: list = []  # every finished request's record, in order
        self._recorded = threading.Condition()
        self.monitor.pipeline.sinks.append(_Finished(self.records, self._recorded))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = build_app(lambda: self.monitor, lambda: None)
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="proxy-app", daemon=True)

    def __enter__(self) -> Self:
        self.monitor.target.poll_once()
        self._thread.start()
        while not self._server.started:  # uvicorn's own flag, set once it listens
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn exited before it listened")
            time.sleep(0.01)
        return self

    def wait_for_records(self, count: int, timeout_seconds: float = 60) -> list:
        """The records once there are `count` (a request the client left is recorded after its answer)."""
        with self._recorded:
            if not self._recorded.wait_for(lambda: len(self.records) >= count, timeout_seconds):
                raise TimeoutError(f"{len(self.records)} records, not {count}")
        return self.records

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self.monitor.close()


class _Finished:
    def __init__(self, records: list, recorded: threading.Condition) -> None:
        self.records, self.recorded = records, recorded

    def record(self, record: Any) -> None:
        if record.stage == "finished":
            with self.recorded:
                self.records.append(record)
                self.recorded.notify_all()
