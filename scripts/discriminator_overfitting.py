"""D's mean output on its training images against held-out real images, at every checkpoint.

    python scripts/discriminator_overfitting.py none=runs/fm2500/none ADA=runs/fm2500/ada \
        --out=runs/fm2500/overfitting.json --plot=runs/fm2500/overfitting.png

A discriminator that memorises its training set scores those images higher than real images it
has not seen; the gap between the two curves over a run is the overfitting picture of Karras et
al. 2020 ("Training Generative Adversarial Networks with Limited Data", Figure 1). For every
checkpoint of the run and every seed (`config.num_seeds`), D in inference mode (no dropout,
BatchNorm's moving statistics) scores up to `--num_images` of the images the run trains on (its
training subset, `config.data.subset_size`, or split) and as many of the evaluation's held-out
reference images; D's outputs are probabilities σ(D(x)) for the BCE loss and raw critic values
otherwise. ADA's p is recorded where the run has it. The run's checkpoints must be kept
(`config.keep_checkpoints`; the small-data configs keep all of them).

Each argument is `label=workdir` (or a workdir, labelled by its name). Writes a JSON object
label -> list of {"step", "seed", "d_train", "d_held_out", "ada_p"} and, with `--plot`, the
curves of all runs in one figure (matplotlib), with ADA's p beside them where a run has it.
"""

import argparse
import json
import os

import jax
import numpy as np

from gan_jax import input_pipeline, objectives, sampling, workdir as workdir_lib
from gan_jax.data import sources
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError, fail
from gan_jax.evaluation import reference


def to_value_range(images, value_range):
  """uint8 [0, 255] -> float32 in the run's value range (as the input pipeline scales them)."""
  low, high = value_range
  return images.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low)


def evaluation_images(config, num_images):
  """(training images, held-out images), each at most `num_images`, in the run's value range."""
  settings = DataSettings.from_config(config.data)
  arrays, _ = sources.load_split(settings, seed=config.seed)
  training = input_pipeline.prepare_arrays(arrays, settings).images[:num_images]
  held_out, _ = reference.load_reference(config.data, config.evaluation.reference_split,
                                         num_images, config.seed)
  if held_out is None:
    raise UserError(f"{config.data.name} has no held-out real images to compare with.")
  value_range = tuple(config.data.value_range)
  return to_value_range(training, value_range), to_value_range(held_out, value_range)


def mean_output(state, images, loss, pack=1, batch_size=500):
  """Mean of D's outputs (σ of the logits for "bce") over `images`, in inference mode; a packed D
  (PacGAN, `config.pack`) scores consecutive groups of `pack` images."""
  discriminator = state.discriminator
  apply = jax.jit(lambda variables, x: discriminator.module.apply(variables, x, train=False))
  usable = len(images) - len(images) % pack
  outputs = []
  for start in range(0, usable, batch_size * pack):
    batch = objectives.pack_samples(images[start:min(start + batch_size * pack, usable)], pack)
    logits = np.asarray(apply(discriminator.variables(), batch), np.float64)
    outputs.append(1.0 / (1.0 + np.exp(-logits)) if loss == "bce" else logits)
  return float(np.mean(np.concatenate(outputs)))


def measure(workdir, num_images=2_500):
  """The records of every checkpoint and seed of the run in `workdir`."""
  config = workdir_lib.read_config(workdir)
  if config.conditional:
    raise UserError("A conditional D scores (image, label) pairs; this script measures "
                    "unconditional runs.")
  training, held_out = evaluation_images(config, num_images)
  records = []
  for step in workdir_lib.checkpoint_steps(workdir):
    for seed_index in range(config.num_seeds):
      state, _, _ = sampling.restore_state(workdir, step, config=config, seed_index=seed_index)
      records.append({
          "step": step, "seed": seed_index,
          "d_train": mean_output(state, training, config.loss, config.pack),
          "d_held_out": mean_output(state, held_out, config.loss, config.pack),
          "ada_p": None if state.ada is None else float(state.ada.p)})
  return records


def plot(runs, path):
  """The runs' curves (label -> records), averaged over seeds: D's mean output on training
  (solid) and held-out (dashed) images; their gap, the overfitting; ADA's p of every seed where
  a run has it."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  with_p = {label: records for label, records in runs.items()
            if any(r["ada_p"] is not None for r in records)}
  panels = 3 if with_p else 2
  figure, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.8), squeeze=False)
  outputs, gap, p_axis = axes[0, 0], axes[0, 1], axes[0, 2] if with_p else None
  colours = {}
  for label, records in runs.items():
    steps = sorted({r["step"] for r in records})
    mean = lambda key, step: np.mean([r[key] for r in records if r["step"] == step])
    line, = outputs.plot(steps, [mean("d_train", s) for s in steps], label=f"{label}: training")
    outputs.plot(steps, [mean("d_held_out", s) for s in steps], linestyle="--",
                 color=line.get_color(), label=f"{label}: held out")
    gap.plot(steps, [mean("d_train", s) - mean("d_held_out", s) for s in steps],
             color=line.get_color(), label=label)
    colours[label] = line.get_color()
  seeds = len({r["seed"] for records in runs.values() for r in records})
  of_seeds = f" (mean of {seeds} seeds)" if seeds > 1 else ""
  outputs.set(xlabel="step", ylabel="mean D output" + of_seeds,
              title="D on real images: trained on vs held out")
  outputs.legend(fontsize=7)
  gap.axhline(0.0, color="grey", linewidth=0.5)
  gap.set(xlabel="step", ylabel="training minus held out" + of_seeds,
          title="overfitting: the gap")
  gap.legend(fontsize=7)
  for label, records in with_p.items():
    for seed in sorted({r["seed"] for r in records}):
      rows = [r for r in records if r["seed"] == seed]
      p_axis.plot([r["step"] for r in rows], [r["ada_p"] for r in rows],
                  color=colours[label], alpha=0.5 + 0.5 / (seed + 1),
                  label=f"{label}, seed {seed}")
  if with_p:
    p_axis.set(xlabel="step", ylabel="ADA p", title="augmentation probability p")
    p_axis.legend(fontsize=7)
  figure.tight_layout()
  figure.savefig(path, dpi=110)
  plt.close(figure)


def parse_run(argument):
  """`label=workdir` or `workdir` -> (label, workdir)."""
  label, separator, workdir = argument.partition("=")
  if not separator:
    workdir = argument
    label = os.path.basename(os.path.normpath(argument))
  return label, workdir


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("runs", nargs="+", help="label=workdir, or a workdir.")
  parser.add_argument("--out", required=True, help="JSON file for the records.")
  parser.add_argument("--plot", help="PNG file for the curves.")
  parser.add_argument("--num_images", type=int, default=2_500)
  args = parser.parse_args()
  runs = dict(parse_run(argument) for argument in args.runs)
  try:
    records = {label: measure(workdir, args.num_images) for label, workdir in runs.items()}
  except UserError as e:
    fail(e)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(records, f, indent=1)
  if args.plot:
    plot(records, args.plot)
  for label, rows in records.items():
    for record in rows:
      print(json.dumps({"run": label, **record}))


if __name__ == "__main__":
  main()
