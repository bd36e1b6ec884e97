"""Plots a batch-size sweep of benchmarks/train_step.py: images/s (and memory) per row.

    PYTHONPATH=. python benchmarks/train_step.py --model=dcgan64 --batch_size=32,64,128,256 \
        --compare=torch > sweep.jsonl
    python benchmarks/plot_sweep.py sweep.jsonl --out=docs/images/sweep.png
    python benchmarks/plot_sweep.py $OUT/rows.jsonl --out=sweep_gpu.png   # benchmarks/gpu_suite.py

One line per (model, dtype, row) against the batch size, log-log, with the device and versions
of the first record in the title; a second panel shows the peak memory the JAX rows report
(device memory on GPU/TPU, the process' peak RSS on CPU). Needs matplotlib only.
"""

import argparse
import collections
import json


def read_records(paths):
  records = []
  for path in paths:
    with open(path) as f:
      records += [json.loads(line) for line in f if line.startswith("{")]
  # Only step rows (not the peak-matmul or profile lines of train_step.py and gpu_suite.py).
  records = [r for r in records if "images_per_s" in r and "batch_size" in r]
  if not records:
    raise SystemExit(f"no benchmark records in {paths}")
  return records


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("jsonl", nargs="+", help="Output(s) of benchmarks/train_step.py.")
  parser.add_argument("--out", required=True, help="PNG to write.")
  args = parser.parse_args(argv)
  records = read_records(args.jsonl)
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  series = collections.defaultdict(list)
  memory = collections.defaultdict(list)
  for r in records:
    key = f"{r['model']} {r['dtype']} {r['row']}"
    series[key].append((r["batch_size"], r["images_per_s"]))
    if r.get("peak_memory_bytes"):
      memory[f"{r['model']} {r['dtype']}"].append((r["batch_size"], r["peak_memory_bytes"] / 2**30))
  fig, (ax_speed, ax_memory) = plt.subplots(1, 2, figsize=(11, 4))
  for key, points in sorted(series.items()):
    points.sort()
    ax_speed.plot(*zip(*points), "o-", label=key)
  for key, points in sorted(memory.items()):
    points.sort()
    ax_memory.plot(*zip(*points), "o-", label=key)
  first = records[0]
  ax_speed.set(xscale="log", yscale="log", xlabel="batch size", ylabel="images / s",
               title="train step (1 D + 1 G update)")
  ax_memory.set(xscale="log", xlabel="batch size", ylabel="GiB",
                title="peak memory: " + (first.get("peak_memory_kind") or "n/a").split(" (")[0])
  for ax in (ax_speed, ax_memory):
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle(f"{first['device']} ({first.get('cpu_model', '')}), jax {first['jax']}, "
               f"torch {first.get('torch')}", fontsize=9)
  fig.tight_layout()
  fig.savefig(args.out, dpi=90)
  print(args.out)


if __name__ == "__main__":
  main()
