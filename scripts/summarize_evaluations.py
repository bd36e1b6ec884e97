"""Mean ± std of the final evaluation of several runs (seeds), as a Markdown table.

    python scripts/summarize_evaluations.py "GAN=runs/toy2d/ring8_pack1_seed*" \
        "PacGAN4=runs/toy2d/ring8_pack4_seed*"

Each argument is `label=glob` of run workdirs; each workdir contributes its newest
`evaluation/step_XXXXXX.json` (or the one of `--step`), and a run of `config.num_seeds = K`
contributes each of its K seeds' (`evaluation/seed_<k>/`). The std is the sample standard
deviation over the runs (ddof=1), so it says how far runs with different seeds differ;
`--standard_error` gives std / sqrt(runs) instead, the statistic of the papers' tables.
"""

import argparse
import glob
import json
import os
import sys

import numpy as np

# (record entry, key) -> the name the loop's "eval/" scalars give that number.
_COUNTS = {
    ("class_coverage", "classes_covered"): "classes_covered",
    ("class_coverage", "kl_uniform"): "class_kl_uniform",
    ("stacked_mnist_modes", "modes_covered"): "modes_covered",
    ("stacked_mnist_modes", "kl_uniform"): "modes_kl_uniform",
    ("mixture_modes", "modes_captured"): "modes_captured",
    ("mixture_modes", "high_quality_fraction"): "high_quality_fraction",
}


def record_scalars(record):
  """metric -> float for one evaluation record (the JSON the loop and `gan_jax.evaluate` write)."""
  scalars = {}
  for name, metric in record["metrics"].items():
    if "value" in metric:
      scalars[name] = float(metric["value"])
  for (name, key), label in _COUNTS.items():
    if key in record["metrics"].get(name, {}):
      scalars[label] = float(record["metrics"][name][key])
  return scalars


def evaluation_folders(workdir):
  """The evaluation folders of a run: one per seed for a `num_seeds` run, else one."""
  seeds = glob.glob(os.path.join(workdir, "evaluation", "seed_*"))
  if seeds:
    return sorted(seeds, key=lambda path: int(path.rsplit("_", 1)[1]))
  return [os.path.join(workdir, "evaluation")]


def final_record(folder, step=None):
  """(step, record) of the newest evaluation in the evaluation `folder` (or of `step`)."""
  paths = sorted(glob.glob(os.path.join(folder, "step_*.json")))
  if step is not None:
    paths = [p for p in paths if p.endswith(f"step_{step:06d}.json")]
  if not paths:
    raise FileNotFoundError(f"no evaluation JSON in {folder}"
                            + (f" for step {step}" if step is not None else ""))
  with open(paths[-1]) as f:
    record = json.load(f)
  return int(os.path.basename(paths[-1])[5:11]), record


def summarize(groups, metrics=None, step=None, standard_error=False):
  """[(label, num_runs, steps, {metric: (mean, std)})] for `groups` = [(label, [workdirs])];
  with `standard_error`, std / sqrt(num_runs) in place of the std."""
  rows = []
  for label, workdirs in groups:
    per_run = []
    for folder in (f for workdir in workdirs for f in evaluation_folders(workdir)):
      try:
        per_run.append(final_record(folder, step))
      except FileNotFoundError as e:  # A run still training: leave it out, say so.
        print(f"note: {e}", file=sys.stderr)
    if not per_run:
      raise SystemExit(f"error: no run of {label!r} has an evaluation yet.")
    values = [record_scalars(record) for _, record in per_run]
    names = metrics or sorted(set.intersection(*(set(v) for v in values)))
    stats = {}
    for name in names:
      column = np.array([v[name] for v in values if name in v], np.float64)
      if len(column):
        std = float(np.std(column, ddof=1)) if len(column) > 1 else float("nan")
        if standard_error:
          std /= np.sqrt(len(column))
        stats[name] = (float(np.mean(column)), std)
    rows.append((label, len(per_run), sorted({s for s, _ in per_run}), stats))
  return rows


def to_markdown(rows):
  names = list(dict.fromkeys(name for row in rows for name in row[3]))
  lines = ["| run | seeds | step | " + " | ".join(names) + " |",
           "|---|---|---|" + "---|" * len(names)]
  for label, num_runs, steps, stats in rows:
    cells = []
    for name in names:
      if name not in stats:
        cells.append("–")
        continue
      mean, std = stats[name]
      digits = 1 if abs(mean) >= 10 else 3
      cells.append(f"{mean:.{digits}f}" + ("" if np.isnan(std) else f" ± {std:.{digits}f}"))
    lines.append(f"| {label} | {num_runs} | {','.join(map(str, steps))} | "
                 + " | ".join(cells) + " |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("groups", nargs="+", help="label=glob of workdirs")
  parser.add_argument("--metrics", default=None,
                      help="comma-separated metric names (default: all the runs share)")
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--standard_error", action="store_true",
                      help="± standard error of the mean (std / sqrt(runs)) instead of the std")
  args = parser.parse_args()
  groups = []
  for group in args.groups:
    label, _, pattern = group.partition("=")
    workdirs = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
    if not pattern or not workdirs:
      raise SystemExit(f"error: {group!r}: give label=glob matching at least one workdir.")
    groups.append((label, workdirs))
  metrics = args.metrics.split(",") if args.metrics else None
  print(to_markdown(summarize(groups, metrics, args.step, args.standard_error)))


if __name__ == "__main__":
  main()
