"""The accelerator run of docs/performance.md in one invocation: the project's step against PyTorch.

    PYTHONPATH=. python benchmarks/gpu_suite.py --out=$OUT            # on the GPU, ~8 minutes
    PYTHONPATH=. python benchmarks/gpu_suite.py --tiny --out=/tmp/gpu_suite   # CPU rehearsal

Rows (each one JSON line on stdout and in <out>/rows.jsonl, written as it is measured, so a time
limit still returns what was done), all from `benchmarks/train_step.py`'s `measure_setting` (the
step main.py runs: `parallelize_train_step`, donated state, --steps_per_dispatch):

  1. DCGAN-64 (configs/dcgan64.py) at batch 128 and 1024, float32 and bfloat16: JAX one step per
     call and --steps_per_dispatch per call; PyTorch eager (channels_last; bf16 autocast for the
     bfloat16 rows) and torch.compile beside it;
  2. the 300x300 RPS DCGAN of configs/dcgan_rps.py at its batch size, float32 and bfloat16, with
     PyTorch eager, and the seconds per epoch of the 2,520-image dataset;
  3. the MLP GAN at batch 64;
  4. a batch sweep 32 .. 2048 of DCGAN-64 in bfloat16 (JAX rows only);
  5. a `jax.profiler` trace of the DCGAN-64 bf16 step at batch 1024, summed by op kind
     (`benchmarks/profile_step.summarize_trace`).

MFU: XLA's FLOPs of one step times steps/s, over the device's bf16 dense peak (--peak_tflops, the
vendor's figure) and over a jitted bf16 matmul measured in the same run. <out>/summary.md holds
the table with each row's ratio to the best PyTorch row of its setting. Imports no TensorFlow,
clu or ml_collections.
"""

import argparse
import json
import os
import sys
import tempfile
import time

if __package__ in (None, ""):
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top

from benchmarks import profile_step
from benchmarks import train_step as benchmark

RPS_EPOCH_IMAGES = 2520  # Rock-Paper-Scissors' train split (gan_jax/data/catalog.py).
FULL = dict(dcgan64="dcgan64", rps="dcgan_rps", dcgan64_batches=(128, 1024),
            dtypes=("float32", "bfloat16"), rps_batch=32,
            sweep=(32, 64, 128, 256, 512, 1024, 2048), profile_batch=1024, steps=50, repeats=3,
            warmup_steps=10, steps_per_dispatch=10, peak_size=8192)
# Every section and row kind at sizes a CPU runs in seconds: the 28x28 DCGAN stands in for both
# image models (their full-size steps run in tests/test_train_step.py), one dtype (bf16 is slow on
# CPUs); the steps_per_dispatch rows are rehearsed in tests/test_benchmarks.py.
TINY = dict(dcgan64="dcgan28", rps="dcgan28", dcgan64_batches=(2,), dtypes=("float32",),
            rps_batch=2, sweep=(2, 4), profile_batch=2, steps=2, repeats=1, warmup_steps=1,
            steps_per_dispatch=1, peak_size=256)


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", required=True, help="Folder for rows.jsonl and summary.md.")
  parser.add_argument("--tiny", action="store_true",
                      help="Sizes that run in seconds on a CPU (the test suite's rehearsal).")
  parser.add_argument("--peak_tflops", type=float, default=None,
                      help="The device's bf16 dense peak for MFU (H200/H100 SXM: ~989).")
  parser.add_argument("--no_torch", action="store_true", help="Skip the PyTorch rows.")
  parser.add_argument("--torch_compile", action="store_true",
                      help="Add torch.compile rows at DCGAN-64 batch 128 (default on a GPU).")
  args = parser.parse_args(argv)
  plan = TINY if args.tiny else FULL
  args.plan = plan
  if args.torch_compile is False and not args.tiny and jax.default_backend() == "gpu":
    args.torch_compile = True
  return args


def step_args(plan, torch_compile=False, steps_per_dispatch=None):
  """The `benchmarks/train_step.py` arguments `measure_setting` reads."""
  return argparse.Namespace(
      upsampling=[], update_order="", num_seeds=1, torch_compile=torch_compile,
      steps_per_dispatch=plan["steps_per_dispatch"] if steps_per_dispatch is None else
      steps_per_dispatch, steps=plan["steps"], repeats=plan["repeats"],
      warmup_steps=plan["warmup_steps"], peak_size=plan["peak_size"])


class Suite:
  """Measures settings, writing each record as it comes; keeps them for the summary."""

  def __init__(self, args, torch_reference, env):
    self.args, self.torch_reference, self.env = args, torch_reference, env
    self.records = []
    self.rows_path = os.path.join(args.out, "rows.jsonl")
    self.bf16_tflops = benchmark.matmul_peak(args.plan["peak_size"], "bfloat16",
                                             repeats=3) / 1e3
    self._write({"row": "bf16 matmul peak", "tflops_per_s": round(self.bf16_tflops, 2),
                 "size": args.plan["peak_size"], **env})

  def _write(self, record):
    print(json.dumps(record), flush=True)
    with open(self.rows_path, "a") as f:
      f.write(json.dumps(record) + "\n")

  def measure(self, section, model, batch_size, dtype, torch=True, torch_compile=False,
              steps_per_dispatch=None):
    torch_reference = self.torch_reference if torch else None
    _, records = benchmark.measure_setting(
        model, batch_size, dtype, 1,
        step_args(self.args.plan, torch_compile and torch_reference is not None,
                  steps_per_dispatch), torch_reference, self.env)
    torch_rows = [r["steps_per_s"] for r in records if r["row"].startswith("torch")]
    best_torch = max(torch_rows) if torch_rows else None
    for record in records:
      achieved = (record["gflops_per_s"] or 0) / 1e3
      record.update(
          section=section,
          ratio_to_best_torch=round(record["steps_per_s"] / best_torch, 3) if best_torch else None,
          mfu_nominal=round(achieved / self.args.peak_tflops, 4) if (
              self.args.peak_tflops and achieved) else None,
          share_of_bf16_matmul=round(achieved / self.bf16_tflops, 4) if achieved else None)
      if section == "rps":
        record["seconds_per_rps_epoch"] = round(RPS_EPOCH_IMAGES / record["images_per_s"], 2)
      self._write(record)
      self.records.append(record)
    return records

  def profile(self, model, batch_size, dtype):
    row = benchmark.JaxRow(model, benchmark.real_batch(model, batch_size), dtype)
    row.compile()
    row.run(3)
    trace_dir = tempfile.mkdtemp(prefix="gpu_suite_profile_")
    steps = self.args.plan["steps"]
    with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
      start = time.perf_counter()
      row.run(steps)
      seconds = time.perf_counter() - start
    totals = profile_step.summarize_trace(trace_dir)
    op_time = sum(totals.values()) or 1.0
    record = {"section": "profile", "model": model, "batch_size": batch_size,
              "dtype": dtype, "step_ms": round(1e3 * seconds / steps, 3),
              "op_time_ms_per_step": round(op_time / 1e3 / steps, 3),
              "top_ops": {k: round(v / op_time, 4) for k, v in totals.most_common(15)}}
    self._write(record)
    return record


def summary_table(records):
  lines = ["| section | model | batch | dtype | row | img/s | vs best torch | GFLOP/step | "
           "TFLOP/s | MFU (nominal) | of bf16 matmul | peak memory (GiB) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
  for r in records:
    memory = r.get("peak_memory_bytes")
    lines.append(
        f"| {r['section']} | {r['model']} | {r['batch_size']} | {r['dtype']} | {r['row']} | "
        f"{r['images_per_s']:,.0f} | {r['ratio_to_best_torch'] or '-'} | "
        f"{r['gflop_per_step'] or '-'} | "
        f"{round(r['gflops_per_s'] / 1e3, 2) if r['gflops_per_s'] else '-'} | "
        f"{r['mfu_nominal'] or '-'} | {r['share_of_bf16_matmul'] or '-'} | "
        f"{round(memory / 2**30, 2) if memory else '-'} |")
  return "\n".join(lines)


def main(argv=None):
  args = parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  torch_reference = None
  if not args.no_torch:
    from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
  env = benchmark.environment(torch_reference.torch if torch_reference else None)
  suite = Suite(args, torch_reference, env)
  plan = args.plan
  for batch_size in plan["dcgan64_batches"]:
    for dtype in plan["dtypes"]:
      suite.measure("dcgan64", plan["dcgan64"], batch_size, dtype,
                    torch_compile=args.torch_compile and batch_size == plan["dcgan64_batches"][0])
  for dtype in plan["dtypes"]:
    suite.measure("rps", plan["rps"], plan["rps_batch"], dtype, steps_per_dispatch=1)
  suite.measure("mlp", "mlp", 64 if not args.tiny else 4, "float32")
  for batch_size in plan["sweep"]:
    suite.measure("sweep", plan["dcgan64"], batch_size, plan["dtypes"][-1], torch=False,
                  steps_per_dispatch=1)
  profile = suite.profile(plan["dcgan64"], plan["profile_batch"], plan["dtypes"][-1])
  with open(os.path.join(args.out, "summary.md"), "w") as f:
    f.write(f"Environment: {json.dumps(env)}\n\nbf16 matmul: {suite.bf16_tflops:.1f} TFLOP/s\n\n")
    f.write(summary_table(suite.records) + f"\n\nProfile ({profile['model']} "
            f"{profile['dtype']}, batch {profile['batch_size']}): "
            f"{json.dumps(profile['top_ops'])}\n")
  print(summary_table(suite.records), flush=True)


if __name__ == "__main__":
  main()
