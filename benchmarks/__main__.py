"""Run every benchmark, one after another (`python -m benchmarks`); each prints its JSON figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_collection.py", "bench_overhead.py", "bench_quality.py", "bench_store.py", "bench_load.py",
           "bench_model_load.py", "bench_proxy.py", "bench_loadtest.py", "bench_batching.py")

if __name__ == "__main__":
    failed = [name for name in SCRIPTS if subprocess.call([sys.executable, str(HERE / name)]) != 0]
    sys.exit(f"failed: {failed}" if failed else 0)
