"""Where the train step's time goes: a `jax.profiler` trace of a few steps, summed by op kind.

    PYTHONPATH=. python benchmarks/profile_step.py --model=dcgan28 --batch_size=64 --steps=20

Runs the same step as `benchmarks/train_step.py` (JaxRow: the project's data-parallel step),
traces --steps steps with `jax.profiler.trace(..., create_perfetto_trace=True)`, and sums the
durations of the XLA op events in the trace by kind (the op name without its ".N" suffix:
convolution, dot, fusion, copy, ...). Also prints XLA's FLOP count of one step
(`cost_analysis`) and the FLOP/s that the measured step time implies. One JSON line.
"""

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

if __package__ in (None, ""):
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top

from benchmarks import train_step as benchmark


def op_kind(name):
  return re.sub(r"[.:]\d+$", "", name.split("/")[-1])


def summarize_trace(trace_dir):
  """{op kind: total µs} over the complete ("X") events of XLA op threads, and the total."""
  paths = glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True)
  with gzip.open(paths[0]) as f:
    trace = json.load(f)
  events = trace["traceEvents"] if isinstance(trace, dict) else trace
  totals = collections.Counter()
  for event in events:
    if event.get("ph") != "X" or "dur" not in event:
      continue
    name = event.get("name", "")
    # XLA's per-op events are named like "fusion.12", "convolution.3", "dot.5".
    if re.search(r"\.\d+$", name) and "/" not in name and " " not in name:
      totals[op_kind(name)] += event["dur"]
  return totals


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model", default="dcgan28", choices=tuple(benchmark.MODELS))
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--dtype", default="float32")
  parser.add_argument("--steps", type=int, default=20)
  args = parser.parse_args()
  row = benchmark.JaxRow(args.model, benchmark.real_batch(args.model, args.batch_size),
                         args.dtype)
  compiled = row.step_fn.lower(row.state, row.batch, row.rng).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get("flops", 0.0)) if cost else 0.0
  row.run(5)
  trace_dir = tempfile.mkdtemp(prefix="profile_step_")
  with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
    start = time.perf_counter()
    row.run(args.steps)
    seconds = time.perf_counter() - start
  totals = summarize_trace(trace_dir)
  op_time = sum(totals.values())
  step_s = seconds / args.steps
  print(json.dumps({
      "model": args.model, "batch_size": args.batch_size, "dtype": args.dtype,
      "steps": args.steps, "step_ms": round(1e3 * step_s, 2),
      "xla_flops_per_step": flops, "achieved_gflop_per_s": round(flops / step_s / 1e9, 1),
      "op_time_ms_per_step": round(op_time / 1e3 / args.steps, 2),
      "op_time_share": {k: round(v / op_time, 3) for k, v in totals.most_common(12)},
      "loadavg": [round(x, 2) for x in os.getloadavg()], "trace_dir": trace_dir,
  }))


if __name__ == "__main__":
  main()
