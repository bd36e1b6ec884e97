"""Plots a run's D(x), D(G(z)) (or a WGAN's critic estimate) and pixel statistics from its events.

    python scripts/plot_training_curves.py --workdir=runs/mlp_fashion_mnist --out=curves.png

Article 003: at the game's equilibrium D outputs 1/2 on real and generated images alike.
Article 000 / WGAN: the critic's Wasserstein estimate (-train/critic_loss) tracks sample quality.
Article 001: the generated images' mean and std approach the data's as training goes on.
"""

import argparse
import collections
import glob
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top


def read_scalars(workdir):
  """{tag: (steps, values)} from all event files in `workdir`."""
  series = collections.defaultdict(dict)
  for path in sorted(glob.glob(os.path.join(workdir, "events.out.tfevents.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        if value.HasField("tensor") and value.metadata.plugin_data.plugin_name == "scalars":
          series[value.tag][event.step] = float(tf.make_ndarray(value.tensor))
  return {tag: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)]))
          for tag, v in series.items()}


def plot(scalars, title, out):
  fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
  if "train/critic_loss" in scalars:
    # WGAN (article 000): the critic's estimate of the Wasserstein distance, -critic_loss, which
    # falls as the samples improve; the critic's raw outputs have no 0.5 equilibrium.
    steps, critic_loss = scalars["train/critic_loss"]
    axes[0].plot(steps, -critic_loss, label="W estimate = E[D(x)] - E[D(G(z))]")
    axes[0].set_title("Critic's Wasserstein estimate (-critic_loss)")
  else:
    for tag, label in (("train/d_real", "D(x)"), ("train/d_fake", "D(G(z))")):
      axes[0].plot(*scalars[tag], label=label)
    axes[0].axhline(0.5, color="gray", ls="--", lw=1, label="equilibrium 0.5")
    axes[0].set_title("Discriminator outputs (mean per logging interval)")
  for tag, label in (("train/d_loss", "d_loss"), ("train/g_loss", "g_loss")):
    axes[1].plot(*scalars[tag], label=label)
  axes[1].set_title("Losses")
  for tag, label, style in (("train/fake_mean", "generated mean", "-"),
                            ("train/real_mean", "data mean", "--"),
                            ("train/fake_std", "generated std", "-"),
                            ("train/real_std", "data std", "--")):
    axes[2].plot(*scalars[tag], style, label=label)
  axes[2].set_title("Pixel statistics")
  for ax in axes:
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(out, dpi=80)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--title", default=None)
  args = parser.parse_args()
  plot(read_scalars(args.workdir), args.title or args.workdir, args.out)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
