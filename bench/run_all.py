"""Run the quick benchmarks one after another (`make bench`); the long ones are listed in bench/README.md.

Each prints its own table; nothing here asserts a number.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = [
    ["bench_local_llm.py", "speed"],
    ["bench_checkpointing.py", "--runs", "3"],
    ["redis_bench.py"],
    ["provider_fallback.py"],
    ["bench_kb.py", "--limit", "500", "--dir", "/tmp/nexa-bench-kb-quick"],
    ["bench_e2e.py", "--sections", "3", "--iterations", "1"],
]

if __name__ == "__main__":
    failed = 0
    for script, *args in QUICK:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode != 0
    sys.exit(1 if failed else 0)
