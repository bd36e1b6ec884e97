"""Evaluates a run's newest checkpoint, or samples from anywhere, and prints the metrics.

    python -m gan_jax.evaluate --workdir=runs/fashion [--num_samples=10000]
    python -m gan_jax.evaluate --samples=samples.npz --dataset=fashion_mnist [--value_range=-1,1]

With --workdir, the run's `config.json` says the dataset, model and value range; the generator
of the newest checkpoint (or --step) is loaded by `gan_jax.sampling.load_generator`'s logic
(EMA weights when the run kept them) and sampled in inference mode.
With --samples, an .npz holding `images` ([N, H, W, C], uint8 in [0, 255] or float in
--value_range; [N, 2] points for the 2-D mixtures) is evaluated, e.g. the output of
`python -m gan_jax.generate --out=samples.npz`; an `image` array (the npz data source's default
name) is accepted too. The table is printed and the full
record (sample counts, reference split, extractor, histograms) written as JSON, with the class
histogram or scatter plot as PNG: under <workdir>/evaluation/, or at --output.
"""

import dataclasses
import os

import jax
import numpy as np
from absl import app, flags, logging

from gan_jax import sampling, workdir as workdir_lib
from gan_jax.data import catalog
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError, fail
from gan_jax.evaluation import evaluator as evaluator_lib
from gan_jax.evaluation import mixtures
from gan_jax.evaluation.reference import load_reference

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Run folder (config.json, checkpoints/) to evaluate.")
flags.DEFINE_string("samples", None, ".npz with an `images` array to evaluate instead of a run.")
flags.DEFINE_string("dataset", None, "Dataset of --samples (default: the run's config.data.name).")
flags.DEFINE_integer("num_samples", None, "Samples generated from the checkpoint (default: 10,000; "
                     "26,000 for stacked_mnist; 2,500 for the 2-D mixtures).")
flags.DEFINE_list("value_range", None, "low,high of float images (default: the run's "
                  "config.data.value_range, else 0,1).")
flags.DEFINE_string("reference_split", None, "Real images compared against: 'test' or 'train' "
                    "(default: test where the dataset has one, else train).")
flags.DEFINE_integer("num_reference", 10_000, "Real reference images used (a seeded random subset "
                     "when the split is larger): k-NN radii cost N^2.")
flags.DEFINE_enum("extractor", "classifier", evaluator_lib.EXTRACTORS,
                  "Features for FD/KID/precision/recall: the shipped domain classifier or "
                  "Inception-v3 (FID; needs --inception_weights).")
flags.DEFINE_string("inception_weights", None, "Inception .npz (docs/evaluation.md).")
flags.DEFINE_string("output", None, "JSON file for the record (default: "
                    "<workdir>/evaluation/step_XXXXXX.json; none for --samples alone).")
flags.DEFINE_integer("seed", 0, "Seed of the latents and the KID subsets.")
flags.DEFINE_integer("step", None, "Checkpoint step to evaluate (default: the newest).")
flags.DEFINE_integer("seed_index", None, "A run of config.num_seeds = K GANs: which one, 0 .. K-1 "
                     "(GAN k is that of seed config.seed + k; default 0).")

# The MLP generator ends in a sigmoid; configs without data.value_range are [0, 1].
DEFAULT_VALUE_RANGE = (0.0, 1.0)
# Array names read from --samples: ours (`gan_jax.generate`), then the npz data source's default.
SAMPLE_KEYS = ("images", "image")


def _image_shape(config, dataset, reference):
  """The run's sample shape: points, the training size, or the reference images' shape."""
  entry = catalog.get(dataset)
  if entry.evaluation in ("mixture", "stacked_modes"):
    return entry.image_shape
  size = config.data.get("image_size")
  if size:
    return (size, size, reference.shape[-1])
  return tuple(reference.shape[1:])


def load_samples(path):
  if not os.path.isfile(path):
    raise UserError(f"--samples={path!r} is not a file.")
  try:
    with np.load(path) as archive:
      for key in SAMPLE_KEYS:
        if key in archive.files:
          samples = archive[key]
          break
      else:
        raise UserError(f"--samples={path!r} has no `images` array (it has {archive.files}); "
                        "save with np.savez(path, images=...).")
  except (OSError, ValueError) as e:
    raise UserError(f"--samples={path!r} is not a readable .npz ({e}).") from e
  if samples.ndim == 3 and samples.shape[-1] not in (1, 3):
    # [N, H, W] grayscale (the usual MNIST array) is unambiguous: add the channel axis.
    logging.warning("--samples: images of shape %s read as grayscale [N, H, W, 1].",
                    samples.shape[1:])
    samples = samples[..., None]
  return samples


def run_evaluation(workdir=None, samples=None, dataset=None, num_samples=None, value_range=None,
                   reference_split=None, num_reference=10_000, extractor="classifier",
                   inception_weights=None, output=None, seed=0, step=None, seed_index=None):
  """Evaluates a run's newest checkpoint (workdir) or an .npz of samples; returns the result.

  Args:
    workdir: a training run's folder.
    samples: path of an .npz with `images`; evaluated instead of generating from `workdir`.
    dataset: dataset name (default: the run's).
    num_samples: samples generated from the checkpoint.
    value_range: (low, high) of float images (default: the run's config, else (0, 1)).
    reference_split: "test" or "train" (default: test where available).
    num_reference: at most this many reference images (a seeded random subset).
    extractor: "classifier" or "inception".
    inception_weights: Inception .npz path.
    output: JSON path of the record (default: under <workdir>/evaluation/ when workdir is given).
    seed: latents and KID subsets.
    step: checkpoint step of `workdir` (default: the newest).
    seed_index: for a run of `config.num_seeds` = K > 1 GANs, which one (default 0); its record
      goes to <workdir>/evaluation/seed_<k>/.

  Returns:
    An `EvaluationResult` whose record also holds the checkpoint step / samples file.
  """
  if workdir is None and samples is None:
    raise UserError("Pass --workdir=<run folder> or --samples=<file.npz>.")
  config = sampling.read_config(workdir) if workdir is not None else None
  if dataset is None:
    if config is None:
      raise UserError("--samples needs --dataset (e.g. --dataset=fashion_mnist).")
    dataset = config.data.name
  if value_range is None:
    value_range = tuple(config.data.value_range) if config else DEFAULT_VALUE_RANGE
  value_range = tuple(float(v) for v in value_range)
  if len(value_range) != 2 or value_range[0] >= value_range[1]:
    raise UserError(f"--value_range={value_range} is invalid: give low,high with low < high.")
  sample_array = load_samples(samples) if samples is not None else None
  if sample_array is None:
    step = workdir_lib.resolve_step(workdir, step)  # Before the reference set is prepared.
    sampling.check_seed_index(config, seed_index)
  data = config.data if config is not None else DataSettings(name=dataset)
  if config is not None and dataset != config.data.name:
    data = dataclasses.replace(DataSettings.from_config(config.data), name=dataset,
                               source="auto")
  reference, reference_split = load_reference(data, reference_split, num_reference, seed)
  evaluator = evaluator_lib.Evaluator(
      dataset, reference,
      num_samples=len(sample_array) if sample_array is not None else num_samples,
      value_range=value_range, reference_split=reference_split, extractor=extractor,
      inception_weights=inception_weights, seed=seed,
      mixture=(mixtures.from_data_config(config.data)
               if catalog.get(dataset).evaluation == "mixture" and config is not None
               else None))
  if sample_array is not None:
    result = evaluator.evaluate_samples(sample_array)
    result.record["samples_file"] = os.path.abspath(samples)
    step = None
  else:
    state, step, _ = sampling.restore_state(
        workdir, step, image_shape=_image_shape(config, dataset, reference), config=config,
        seed_index=seed_index)
    generator = sampling.generator_from_state(state, value_range, step=step, config=config)

    def draw(rng, n):
      # A conditional generator gets uniformly drawn classes, as in the training loop.
      labels = jax.random.randint(jax.random.fold_in(rng, 1), (n,), 0, generator.num_classes
                                  ) if generator.num_classes else None
      return generator(generator.draw_latents(rng, n), labels)

    result = evaluator.evaluate(draw)
    result.record["checkpoint_step"] = step
    result.record["ema_weights"] = generator.uses_ema
    result.record["workdir"] = os.path.abspath(workdir)

  if output is None and workdir is not None and samples is None:
    output = os.path.join(workdir, "evaluation", f"step_{step:06d}.json")
    if config.num_seeds > 1:  # Next to the loop's per-seed records.
      output = os.path.join(workdir, "evaluation", f"seed_{seed_index or 0}",
                            f"step_{step:06d}.json")
  if output is not None:
    result.save(output)
    result.record["output"] = os.path.abspath(output)
  return result


def format_table(result):
  """The metrics as an aligned text table, one row per number, with what it was computed from."""
  rows = [("metric", "value", "samples", "reference", "extractor")]
  for name, metric in result.record["metrics"].items():
    reference = f"{metric.get('reference_split')} ({metric.get('num_reference', '-')})"
    where = (str(metric.get("num_samples")), reference, str(metric.get("extractor")))
    if "value" in metric:
      value = f"{metric['value']:.4f}"
      if "std" in metric:
        value += f" ± {metric['std']:.4f}"
      rows.append((name, value, *where))
    else:
      for key in ("classes_covered", "modes_covered", "modes_captured", "high_quality_fraction",
                  "reverse_kl", "kl_uniform", "kl_reference"):
        if key in metric:
          value = metric[key]
          rows.append((f"{name}.{key}", f"{value:.4f}" if isinstance(value, float) else str(value),
                       *where))
  widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
  lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
  lines.insert(1, "  ".join("-" * width for width in widths))
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  try:
    result = run_evaluation(
        workdir=FLAGS.workdir, samples=FLAGS.samples, dataset=FLAGS.dataset,
        num_samples=FLAGS.num_samples, value_range=FLAGS.value_range,
        reference_split=FLAGS.reference_split, num_reference=FLAGS.num_reference,
        extractor=FLAGS.extractor,
        inception_weights=FLAGS.inception_weights, output=FLAGS.output, seed=FLAGS.seed,
        step=FLAGS.step, seed_index=FLAGS.seed_index)
  except UserError as e:
    logging.flush()
    fail(e)
  header = result.record.get("workdir") or result.record.get("samples_file")
  if result.record.get("checkpoint_step") is not None:
    header += f" (checkpoint step {result.record['checkpoint_step']})"
  print(f"{header}\n{result.record['dataset']}: {result.record['num_samples']} samples evaluated "
        f"in {result.record['seconds']:.1f} s (reference prepared in "
        f"{result.record['reference']['seconds']:.1f} s)\n")
  print(format_table(result))
  if "output" in result.record:
    print(f"\nrecord: {result.record['output']}")


if __name__ == "__main__":
  app.run(main)
