"""PacGAN Table 1's metrics against steps for several runs, mean ± standard error over their trials.

    python scripts/plot_mixture_curves.py --out=docs/images/pacgan_grid25_curves.png \
        "GAN=runs/grid25_pack1" "PacGAN4=runs/grid25_pack4" --published=grid25
    python scripts/plot_mixture_curves.py --out=curves.png "PacGAN2=results/pacgan_grid25_pack2"

Each argument is `label=folder`: a run's workdir (`main.py`, its trials the seeds of
`config.num_seeds`: evaluation/seed_<k>/step_*.json, or evaluation/step_*.json for one seed), a
packing folder of scripts/reproduce_on_device.py (trial_<k>/step_*.json), or a glob of such
folders whose trials are pooled ("GAN=runs/ring8_pack1_seed*": one run per seed). Prints a Markdown table
of each run's last common step (mean ± standard error over trials, as the paper reports them,
beside its Table 1 with --published) and writes the three curves.
"""

import argparse
import collections
import glob
import json
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

METRICS = (("modes_captured", "modes captured"),
           ("high_quality_fraction", "high-quality samples"), ("reverse_kl", "reverse KL"))
# PacGAN (Lin et al. 2018) Table 1: mean ± standard error over 10 trials.
PUBLISHED = {
    "grid25": {"GAN": (17.3, 0.8, 0.948, 0.007, 0.70, 0.07),
               "PacGAN2": (23.8, 0.7, 0.913, 0.008, 0.13, 0.04),
               "PacGAN3": (24.6, 0.4, 0.942, 0.004, 0.06, 0.02),
               "PacGAN4": (24.8, 0.2, 0.936, 0.006, 0.04, 0.01)},
    "ring8": {"GAN": (6.3, 0.5, 0.982, 0.002, 0.45, 0.09),
              "PacGAN2": (7.9, 0.1, 0.956, 0.020, 0.07, 0.03),
              "PacGAN3": (7.8, 0.1, 0.977, 0.003, 0.10, 0.02),
              "PacGAN4": (7.8, 0.1, 0.959, 0.014, 0.07, 0.02)},
}


def _record_paths(folder):
  patterns = [os.path.join(folder, "evaluation", "seed_*", "step_*.json"),
              os.path.join(folder, "trial_*", "step_*.json")]
  paths = [p for pattern in patterns for p in glob.glob(pattern)]
  return paths or glob.glob(os.path.join(folder, "evaluation", "step_*.json"))


def trial_records(folders):
  """{step: [mixture_modes record of each trial]} of run folders (a glob pattern: the trials of
  every folder it matches, e.g. one run per seed)."""
  paths = [p for folder in sorted(glob.glob(folders)) or [folders] for p in _record_paths(folder)]
  by_step = collections.defaultdict(list)
  for path in sorted(paths):
    with open(path) as f:
      record = json.load(f)
    if "mixture_modes" in record.get("metrics", {}):
      step = int(re.search(r"step_(\d+)\.json$", path).group(1))
      by_step[step].append(record["metrics"]["mixture_modes"])
  if not by_step:
    raise SystemExit(f"error: no 2-D mixture evaluations under {folders!r}.")
  return dict(sorted(by_step.items()))


def mean_and_stderr(values):
  values = np.asarray(values, np.float64)
  stderr = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
  return float(values.mean()), float(stderr)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("runs", nargs="+", help="label=folder")
  parser.add_argument("--out", required=True, help="PNG of the curves.")
  parser.add_argument("--published", choices=tuple(PUBLISHED), default=None,
                      help="Add PacGAN's Table 1 (rows matched by label) to the table and plot.")
  args = parser.parse_args()
  runs = [run.split("=", 1) for run in args.runs]
  data = {label: trial_records(folder) for label, folder in runs}
  figure, axes = plt.subplots(1, 3, figsize=(15, 4))
  print("| run | trials | steps | modes | high quality | reverse KL |\n|---|---|---|---|---|---|")
  for index, (label, by_step) in enumerate(data.items()):
    colour = f"C{index}"
    steps = [s for s, records in by_step.items() if len(records) == max(map(len, by_step.values()))]
    for axis, (metric, title) in zip(axes, METRICS):
      stats = np.array([mean_and_stderr([r[metric] for r in by_step[s]]) for s in steps])
      axis.plot(steps, stats[:, 0], color=colour, label=label)
      axis.fill_between(steps, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1],
                        color=colour, alpha=0.2)
      axis.set_title(title)
      axis.set_xlabel("step")
      published = PUBLISHED.get(args.published, {}).get(label)
      if published:
        axis.axhline(published[2 * METRICS.index((metric, title))], color=colour, ls="--", lw=1)
    last = by_step[steps[-1]]
    cells = [mean_and_stderr([r[m] for r in last]) for m, _ in METRICS]
    print(f"| {label} | {len(last)} | {steps[-1]:,} | {cells[0][0]:.1f} ± {cells[0][1]:.1f} | "
          f"{100 * cells[1][0]:.1f} ± {100 * cells[1][1]:.1f}% | "
          f"{cells[2][0]:.2f} ± {cells[2][1]:.2f} |")
    published = PUBLISHED.get(args.published, {}).get(label)
    if published:
      print(f"| {label}, published | 10 | 400,000 | {published[0]} ± {published[1]} | "
            f"{100 * published[2]:.1f} ± {100 * published[3]:.1f}% | "
            f"{published[4]:.2f} ± {published[5]:.2f} |")
  axes[0].legend()
  figure.suptitle("mean ± standard error over trials (dashed: PacGAN Table 1)" if args.published
                  else "mean ± standard error over trials")
  figure.tight_layout()
  figure.savefig(args.out, dpi=80)


if __name__ == "__main__":
  main()
