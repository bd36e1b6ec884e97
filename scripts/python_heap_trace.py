"""Runs main.py with Python's allocation tracer on, logging what the Python heap grows by.

    python scripts/python_heap_trace.py --out=heap.jsonl --warmup_s=120 --every_s=60 -- \
        --config=configs/default.py --workdir=runs/x

Used by `scripts/soak.py --trace_python_heap` to tell a leak in Python objects (lists of metrics,
caches) from growth of native memory (XLA, TensorFlow, the allocator), which `tracemalloc` does
not see. After --warmup_s it takes a baseline snapshot; every --every_s it appends one JSON line to
--out: seconds since start, the traced Python heap in MiB, and the 10 source lines whose
allocations grew most since the baseline. The tracer slows Python allocations down, so steps/s
under it is not the run's normal speed.
"""

import argparse
import json
import os
import runpy
import sys
import threading
import time
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _watch(out, warmup_s, every_s):
  start = time.time()
  time.sleep(warmup_s)
  baseline = tracemalloc.take_snapshot()
  while True:
    time.sleep(every_s)
    snapshot = tracemalloc.take_snapshot()
    top = snapshot.compare_to(baseline, "lineno")[:10]
    record = {
        "t_s": round(time.time() - start, 1),
        "python_heap_mib": round(tracemalloc.get_traced_memory()[0] / 2**20, 2),
        "grown_since_baseline": [
            {"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
             "kib": round(s.size_diff / 1024, 1), "blocks": s.count_diff} for s in top],
    }
    with open(out, "a") as f:
      f.write(json.dumps(record) + "\n")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", required=True)
  parser.add_argument("--warmup_s", type=float, default=120)
  parser.add_argument("--every_s", type=float, default=60)
  args, main_args = parser.parse_known_args()
  main_args = [a for a in main_args if a != "--"]
  tracemalloc.start()
  threading.Thread(target=_watch, args=(args.out, args.warmup_s, args.every_s),
                   daemon=True).start()
  sys.argv = [os.path.join(REPO, "main.py")] + main_args
  sys.path.insert(0, REPO)
  runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
  main()
