"""Which model a benchmark's app loads, and a data dir prepared so that it loads at once.

`--model demo` (the default of the app benchmarks, so the demo figures stay comparable) copies `make run`'s own
demo model into the data dir; any other value is passed as HEALTHMON_MODEL ("packaged" for the SmolLM2 GGUF).
`--gguf-cache DIR` points the data dir's models/gguf at an existing cache of converted GGUF checkpoints (a
symlink), so a GGUF model starts in seconds instead of being dequantized again (~25 s, 500 MB written).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="demo",
                        help='HEALTHMON_MODEL for the app: "demo" (default), "packaged" (SmolLM2), a path, hf:...')
    parser.add_argument("--gguf-cache", type=Path, default=None,
                        help="an existing cache of converted GGUF checkpoints (a folder holding sha256-* folders), "
                             "linked as the data dir's models/gguf")


def prepare_model(data_dir: Path, model: str = "demo", gguf_cache: Path | None = None) -> dict[str, str]:
    """Get data_dir ready for the app to load `model`; returns the environment that selects it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if model == "demo":
        from healthmon.runtime.demo import build_demo_model

        # built once, in a couple of minutes, then copied so each app loads it at once
        shutil.copytree(build_demo_model(ROOT / "healthmon-data" / "demo-model"), data_dir / "demo-model")
    if gguf_cache is not None:
        if not gguf_cache.is_dir():
            raise SystemExit(f"--gguf-cache {gguf_cache} is not a folder")
        (data_dir / "models").mkdir(exist_ok=True)
        (data_dir / "models" / "gguf").symlink_to(gguf_cache.resolve(), target_is_directory=True)
    return {"HEALTHMON_MODEL": model}


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]
