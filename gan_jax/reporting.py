"""The loop's pictures and evaluations, written the same way for one seed and for K seeds.

Every `sample_every_steps` the loop draws the fixed latents' samples: an image grid (one row per
class for a conditional generator) or, for 2-D points, a scatter plot over the mixture. Every
`eval_every_steps` it evaluates (`gan_jax.evaluation`) and writes "eval/..." scalars and
evaluation/step_XXXXXX.json. With `config.num_seeds` = K > 1 each seed gets its own picture and
record (samples/seed_<k>/, evaluation/seed_<k>/), the pictures are shown side by side and the
record of the step holds each seed's metrics with their mean and std.
"""

import glob
import json
import logging
import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import images, latent_space, seeds, train_state, workdir as workdir_lib
from gan_jax.data import catalog, sources
from gan_jax.errors import is_int, require
from gan_jax.evaluation import evaluator as evaluator_lib
from gan_jax.evaluation import mixtures, plots, reference


def validate(config):
  """The evaluation fields (checked even when evaluation is off: a wrong value should not wait
  for a later run)."""
  every = config.eval_every_steps
  require(is_int(every) and every >= 0, "eval_every_steps", every,
          "it must be an integer >= 0 (0 = never)")
  evaluation = config.evaluation
  num_samples = evaluation.num_samples
  require(num_samples is None or (is_int(num_samples) and num_samples >= 2),
          "evaluation.num_samples", num_samples, "it must be None or an integer >= 2")
  require(is_int(evaluation.num_reference) and evaluation.num_reference >= 2,
          "evaluation.num_reference", evaluation.num_reference, "it must be an integer >= 2")
  require(evaluation.reference_split in (None, "train", "test"), "evaluation.reference_split",
          evaluation.reference_split, "choose None, 'train' or 'test'")


def global_latents(rng, shape, sharding, distribution="normal"):
  """Latents of the prior `distribution` as one global array (the same on every process)."""
  return jax.jit(lambda key: latent_space.draw(key, shape, distribution),
                 out_shardings=sharding)(rng)


def class_grid_inputs(fixed_z, num_classes):
  """(z, labels) of a grid with one row per class and the same latents in every row."""
  num_columns = max(1, fixed_z.shape[0] // num_classes)
  z = jnp.tile(fixed_z[:num_columns], (num_classes, 1))
  return z, jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), num_columns)


def create_evaluator(config, image_shape):
  """The run's `Evaluator` (reference statistics computed once), or None if it has none."""
  if not config.eval_every_steps:
    return None
  data, evaluation = config.data, config.evaluation
  entry = sources.dataset_of(data)
  weights = evaluation.inception_weights
  if not weights and (entry.evaluation == "inception" or (
      entry.evaluation == "classifier" and tuple(image_shape) != entry.image_shape)):
    logging.warning("No evaluation for %s at %s: the shipped classifiers cover %s at their "
                    "native size; set config.evaluation.inception_weights for FID.",
                    data.name, tuple(image_shape), catalog.classifier_datasets())
    return None
  images_, split = reference.load_reference(data, evaluation.reference_split,
                                            evaluation.num_reference, config.seed)
  return evaluator_lib.Evaluator(
      entry.name, images_, num_samples=evaluation.num_samples,
      value_range=tuple(data.value_range), reference_split=split,
      extractor="inception" if weights else "classifier", inception_weights=weights,
      seed=config.seed,
      mixture=mixtures.from_data_config(data) if entry.evaluation == "mixture" else None)


class Reporter:
  """Writes a run's sample pictures and evaluations (TensorBoard, PNG, JSON) for its K seeds."""

  def __init__(self, config, workdir, writer, image_shape, sharding, sample_rng):
    self.workdir, self.writer, self.sharding = workdir, writer, sharding
    self.num_seeds = config.num_seeds
    self.value_range = tuple(config.data.value_range)
    self.mixture = (mixtures.from_data_config(config.data) if sources.points(config.data)
                    else None)
    latent_shape = (config.num_sample_images, config.model.latent_dim)
    # One fixed latent batch per seed: seed k's are those of the run with seed config.seed + k.
    draw = lambda key: latent_space.draw(key, latent_shape, config.model.latent_distribution)
    self.fixed_z = jax.jit(draw if self.num_seeds == 1 else jax.vmap(draw),
                           out_shardings=sharding)(sample_rng)
    self.evaluator = create_evaluator(config, image_shape)

  def _per_seed(self, state):
    if self.num_seeds == 1:
      return [(state, self.fixed_z)]
    return [(seeds.select(state, k), self.fixed_z[k]) for k in range(self.num_seeds)]

  def _picture(self, state, fixed_z, step):
    """uint8 [H, W, 3|1]: the scatter plot, the class grid or the sample grid of one seed."""
    num_classes = getattr(state.generator.module, "num_classes", 0)
    if self.mixture is not None:
      return plots.mixture_scatter_image(np.asarray(train_state.generate(state, fixed_z)),
                                         self.mixture, title=f"step {step}")
    if num_classes:
      z, labels = class_grid_inputs(fixed_z, num_classes)
      return images.make_grid(images.to_uint8(train_state.generate(state, z, labels),
                                              self.value_range), num_rows=num_classes)
    return images.make_grid(images.to_uint8(train_state.generate(state, fixed_z),
                                            self.value_range))

  def write_samples(self, state, step):
    """Every process generates (the state is global); process 0 writes the PNGs."""
    pictures = [self._picture(s, z, step) for s, z in self._per_seed(state)]
    shown = pictures[0] if len(pictures) == 1 else images.make_grid(
        np.stack(pictures), num_rows=1, padding=8)
    name = f"step_{step:06d}.png"
    if jax.process_index() == 0:
      if len(pictures) > 1:
        for k, picture in enumerate(pictures):
          folder = os.path.join(self.workdir, workdir_lib.SAMPLES, f"seed_{k}")
          os.makedirs(folder, exist_ok=True)
          images.save_png(picture, os.path.join(folder, name))
      images.save_png(shown, os.path.join(self.workdir, workdir_lib.SAMPLES, name))
    self.writer.write_images(step, {"samples": shown[None]})

  def write_progress_gif(self):
    """The sample grids so far as samples/training.gif (process 0), and say where they are."""
    frames = sorted(glob.glob(os.path.join(self.workdir, workdir_lib.SAMPLES, "step_*.png")))
    if frames and jax.process_index() == 0:
      gif = images.save_gif(frames, os.path.join(self.workdir, workdir_lib.SAMPLES,
                                                 "training.gif"))
      logging.info("Samples: %s (progress GIF: %s).", os.path.dirname(gif), gif)

  def _sampler(self, state):
    """(rng, n) -> samples; a conditional generator gets uniformly drawn classes."""
    num_classes = getattr(state.generator.module, "num_classes", 0)

    def sample(rng, num):
      z = global_latents(rng, (num, state.latent_dim), self.sharding, state.latent_distribution)
      labels = jax.jit(lambda key: jax.random.randint(key, (num,), 0, num_classes),
                       out_shardings=self.sharding)(jax.random.fold_in(rng, 1)) if (
                           num_classes) else None
      return train_state.generate(state, z, labels)

    return sample

  def evaluate(self, state, step):
    """Every metric to TensorBoard ("eval/..."; "eval/seed_<k>/", "eval/mean/", "eval/std/"
    with K seeds) and evaluation/step_XXXXXX.json; returns the seeds' `EvaluationResult`s."""
    results = [self.evaluator.evaluate(self._sampler(s)) for s, _ in self._per_seed(state)]
    folder = os.path.join(self.workdir, workdir_lib.EVALUATION)
    name = f"step_{step:06d}.json"
    if len(results) == 1:
      result = results[0]
      self.writer.write_scalars(step, {f"eval/{k}": v for k, v in result.scalars.items()})
      if result.images:
        self.writer.write_images(step, {f"eval/{k}": v[None] for k, v in result.images.items()})
      if jax.process_index() == 0:
        result.save(os.path.join(folder, name))
      logging.info("Evaluation at step %d: %s", step,
                   ", ".join(f"{k}={v:.4g}" for k, v in result.scalars.items()))
      return results
    summary = seeds.mean_and_std([r.scalars for r in results])
    scalars = {f"eval/seed_{k}/{metric}": v for k, r in enumerate(results)
               for metric, v in r.scalars.items()}
    scalars.update({f"eval/mean/{metric}": mean for metric, (mean, _) in summary.items()})
    scalars.update({f"eval/std/{metric}": std for metric, (_, std) in summary.items()})
    self.writer.write_scalars(step, scalars)
    if jax.process_index() == 0:
      for k, result in enumerate(results):
        result.save(os.path.join(folder, f"seed_{k}", name))
      with open(os.path.join(folder, name), "w") as f:
        json.dump({"step": step, "num_seeds": len(results),
                   "mean": {metric: mean for metric, (mean, _) in summary.items()},
                   "std": {metric: std for metric, (_, std) in summary.items()},
                   "per_seed": [r.scalars for r in results]}, f, indent=2, allow_nan=True)
    logging.info("Evaluation at step %d, mean ± std over %d seeds: %s", step, len(results),
                 ", ".join(f"{m}={mean:.4g} ± {std:.2g}" for m, (mean, std) in summary.items()))
    return results
