"""What researchers do with a trained generator: load it, sample, interpolate, do latent arithmetic.

    from gan_jax import sampling
    generator = sampling.load_generator("runs/fashion")          # newest checkpoint, EMA if any
    images = sampling.sample(generator, 64, seed=0)               # uint8 [64, 28, 28, 1]
    z = generator.latents(0, [3, 17])                              # samples 3 and 17 of seed 0
    path = sampling.interpolate(z[0], z[1], 10, method="slerp")   # [10, latent_dim]
    pictures = sampling.generate(generator, path)                 # float, in the value range

Latents are addressed by (seed, index): sample `i` of seed `s` always has the latent
`latents(s, [i])`, whatever the batch size or number of samples drawn, so "sample 17 of the grid
of seed 0" names one latent in every tool (`python -m gan_jax.generate`).

A class-conditional generator (`generator.num_classes` > 0) also takes labels:

    images = sampling.sample(generator, 64, seed=0, label=3)      # 64 samples of class 3
    images = sampling.sample(generator, 64, seed=0)               # sample i of class i % K

Nothing here imports the training loop, TensorFlow, clu or ml_collections: a run is read
through `gan_jax.workdir` and rebuilt with `gan_jax.train_state.state_from_config`.
"""

import dataclasses
import functools
import json
import os
from typing import Any, Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import checkpointing, latent_space, seeds, train_state, workdir as workdir_lib
from gan_jax import images as images_lib
from gan_jax.data import catalog, sources
from gan_jax.errors import UserError
from gan_jax.evaluation import domain
# The latent-space operations are part of this module's API (see the module docstring).
from gan_jax.latent_space import (  # pylint: disable=unused-import
    INTERPOLATIONS, interpolate, latent_arithmetic, latents, lerp, slerp, variations)

@dataclasses.dataclass(frozen=True)
class Generator:
  """A trained generator, ready to sample.

  Attributes:
    module: the Flax generator module.
    variables: {"params": ..., ["batch_stats": ...]}; the EMA parameters when the run kept them.
    latent_dim: size of z.
    latent_distribution: its prior, one of `latent_space.LATENT_DISTRIBUTIONS`.
    value_range: (low, high) of the outputs (the run's config.data.value_range).
    step: the checkpoint's step (None when built from a state in memory).
    uses_ema: whether `variables` hold EMA parameters.
    config: the run's config (None when built from a state in memory).
    num_classes: number of classes of a class-conditional generator; 0: unconditional.
  """

  module: nn.Module
  variables: Any
  latent_dim: int
  latent_distribution: str = "normal"
  value_range: Tuple[float, float] = (0.0, 1.0)
  step: Optional[int] = None
  uses_ema: bool = False
  config: Any = None
  num_classes: int = 0

  def __call__(self, z, labels=None):
    """Images (float32, in `value_range`) for latents z [n, latent_dim] (and class labels [n] if
    the generator is conditional); BatchNorm in inference mode (moving statistics), so each
    image depends only on its own latent and label."""
    if self.num_classes and labels is None:
      raise UserError("This generator is class-conditional: give a class label for each latent "
                      "(python -m gan_jax.generate: --label=K).")
    if labels is not None:
      labels = jnp.asarray(labels, jnp.int32)
    return train_state.apply_generator(self.module, self.variables,
                                       jnp.asarray(z, jnp.float32), labels)

  def draw_latents(self, rng, num):
    """num latents [num, latent_dim] from the generator's prior."""
    return latent_space.draw(rng, (num, self.latent_dim), self.latent_distribution)

  def latents(self, seed, indices):
    """The latents of samples `indices` of `seed` (`latent_space.latents`) from its prior."""
    return latents(seed, indices, self.latent_dim, self.latent_distribution)


def generator_from_state(state, value_range=(0.0, 1.0), step=None, config=None):
  """The `Generator` of a `GANState`, with its EMA parameters when the state keeps them."""
  network = state.generator
  ema_params = getattr(network, "ema_params", None)
  params = ema_params if ema_params is not None else network.params
  variables = {"params": params}
  if network.batch_stats:
    variables["batch_stats"] = network.batch_stats
  return Generator(module=network.module, variables=variables, latent_dim=state.latent_dim,
                   latent_distribution=state.latent_distribution, value_range=tuple(float(v) for v in value_range), step=step,
                   uses_ema=ema_params is not None, config=config,
                   num_classes=getattr(network.module, "num_classes", 0))


# Loading a run.

def read_config(workdir):
  """The run's config.json, upgraded to today's fields (`gan_jax.workdir.read_config`)."""
  return workdir_lib.read_config(workdir)


def _catalog_facts(data):
  """(image shape or None, number of classes or None) of `config.data` from the catalog alone:
  the catalog describes a dataset as its own sources hold it, not a folder named after it."""
  entry = sources.dataset_of(data)
  if data.get("source", "auto") not in ("auto", *entry.sources):
    return None, None
  size, channels = data.get("image_size"), data.get("channels")
  shape = entry.image_shape
  if shape is not None and len(shape) == 3:
    shape = (size or shape[0], size or shape[1], channels or shape[2])
  elif shape is None and size and channels:
    shape = (size, size, channels)
  return shape, entry.num_classes


def _opened_info(config):
  """`InputInfo` of the data, opened as training opens them (reads their metadata)."""
  from gan_jax import input_pipeline  # pylint: disable=g-import-not-at-top  (TensorFlow)
  return input_pipeline.create_train_input(config.data, 1, seed=config.get("seed", 0),
                                           process_index=0, process_count=1).info


def image_shape_of(config):
  """The shape of one training example of `config`, without reading the data where it can."""
  shape, _ = _catalog_facts(config.data)
  return tuple(shape) if shape is not None else tuple(_opened_info(config).image_shape)


def num_classes_of(config):
  """Classes a run's networks are conditioned on (0 unless config.conditional), without reading
  the data where the catalog knows the dataset."""
  if not config.conditional:
    return 0
  _, num_classes = _catalog_facts(config.data)
  source = config.data.name
  if num_classes is None:
    info = _opened_info(config)
    num_classes, source = info.num_classes, info.source
  return train_state.conditioning_classes(config, num_classes, source)


def check_seed_index(config, seed_index):
  """`seed_index` (None: 0) if the run trained that many seeds (`config.num_seeds`); else a
  `UserError`."""
  seed_index = 0 if seed_index is None else seed_index
  if not 0 <= seed_index < config.num_seeds:
    raise UserError(f"--seed_index={seed_index}: the run trained {config.num_seeds} seed(s) "
                    f"(config.num_seeds); choose 0 to {config.num_seeds - 1}.")
  return seed_index


def restore_state(workdir, step=None, image_shape=None, config=None, seed_index=None):
  """(state, step, config): the run's `GANState` restored from checkpoint `step` (default newest).

  The state is rebuilt from the run's `config.json` with `train_state.state_from_config`, then
  restored into that structure, so a checkpoint of another architecture is refused with the
  mismatched shapes. Nothing in the workdir is changed.

  Args:
    workdir: a training run's folder.
    step: checkpoint step; None: the newest.
    image_shape: shape of one training example; None: from the config (`image_shape_of`).
    config: the run's config; None: read from `<workdir>/config.json`.
    seed_index: for a run of `config.num_seeds` = K > 1 GANs, which one (0 .. K-1; None: 0,
      the GAN of `config.seed`; GAN k is that of seed `config.seed + k`).
  """
  config = read_config(workdir) if config is None else config
  step = workdir_lib.resolve_step(workdir, step)
  seed_index = check_seed_index(config, seed_index)
  image_shape = image_shape_of(config) if image_shape is None else tuple(image_shape)
  rng = jax.random.key(config.seed)
  build = functools.partial(train_state.state_from_config, config, image_shape,
                            num_classes=num_classes_of(config))
  if config.num_seeds == 1:
    state = build(rng)
  else:  # The checkpoint holds the K states stacked.
    state = jax.vmap(build)(jax.random.split(rng, config.num_seeds))
  checkpointer = checkpointing.Checkpointer(workdir_lib.checkpoint_dir(workdir),
                                            config.checkpoint_every_steps,
                                            config.keep_checkpoints)
  try:
    state = checkpointer.restore(step, state)
  finally:
    checkpointer.close()
  if config.num_seeds > 1:
    state = seeds.select(state, seed_index)
  return state, step, config


def load_generator(workdir, step=None, image_shape=None, seed_index=None):
  """The generator of a training run, from its newest (or a given) checkpoint.

  Prefers the exponential moving average of the generator's weights when the run kept one.

  Args:
    workdir: the folder `main.py --workdir` wrote (config.json, checkpoints/).
    step: checkpoint step; None: the newest.
    image_shape: shape of one training example; None: from the run's config.
    seed_index: for a run of `config.num_seeds` = K > 1 GANs, which one (0 .. K-1; None: 0).

  Returns:
    A `Generator`: call it on latents, or pass it to `sample`, `generate`.
  """
  state, step, config = restore_state(workdir, step, image_shape, seed_index=seed_index)
  value_range = tuple(config.data.value_range)
  return generator_from_state(state, value_range, step=step, config=config)


# Latents and samples.

def check_label(generator, label):
  """A `UserError` unless `label` is None or a class of the (conditional) generator."""
  if label is None:
    return
  if not generator.num_classes:
    raise UserError(f"--label={label}: this run is not class-conditional (train with "
                    "--config.conditional=True); leave --label out.")
  if not 0 <= int(label) < generator.num_classes:
    raise UserError(f"--label={label} is invalid: this generator has classes 0 .. "
                    f"{generator.num_classes - 1}.")


def labels_for(generator, indices, label=None):
  """Labels of samples `indices`: `label` for all, else sample i gets class i % num_classes (so
  any run of consecutive samples is balanced); None for an unconditional generator."""
  check_label(generator, label)
  if not generator.num_classes:
    return None
  indices = np.asarray(indices)
  if label is not None:
    return np.full(indices.shape, int(label), np.int32)
  return (indices % generator.num_classes).astype(np.int32)


def generate(generator, z, batch_size=500, labels=None):
  """Float32 images (numpy, in `generator.value_range`) for latents z, `batch_size` at a time;
  `labels` [len(z)] for a class-conditional generator.

  The last batch is padded, so the generator compiles for one shape only.
  """
  z = np.asarray(z, np.float32)
  if generator.num_classes and labels is None:
    generator(z[:0])  # The error that says how to give labels.
  outputs = []
  for start in range(0, len(z), batch_size):
    batch = z[start:start + batch_size]
    batch_labels = None if labels is None else np.asarray(labels, np.int32)[
        start:start + batch_size]
    padding = batch_size - len(batch)
    if padding:
      batch = np.concatenate([batch, np.zeros((padding, z.shape[1]), np.float32)])
      if batch_labels is not None:
        batch_labels = np.concatenate([batch_labels, np.zeros(padding, np.int32)])
    outputs.append(np.asarray(generator(batch, batch_labels))[:batch_size - padding])
  if not outputs:
    return np.zeros((0, *image_shape(generator)), np.float32)
  return np.concatenate(outputs)


def to_uint8(generator, images):
  """Generated float images -> uint8 in [0, 255] (as the PNGs and the .npz files hold them)."""
  return images_lib.to_uint8(images, generator.value_range)


def sample(generator, num, seed=0, batch_size=500, dtype="uint8", start=0, label=None):
  """Samples `start` .. `start + num - 1` of `seed` (of class `label` for a conditional
  generator; None: sample i of class i % num_classes).

  Args:
    generator: a `Generator`.
    num: number of samples.
    seed: integer seed of the latents (see `latents`).
    batch_size: latents per generator call; does not change the samples.
    dtype: "uint8" ([0, 255]) or "float32" (in `generator.value_range`).
    start: index of the first sample.
    label: class of every sample (conditional generators only); None: see above.

  Returns:
    numpy images [num, *image_shape].
  """
  if dtype not in ("uint8", "float32"):
    raise ValueError(f"dtype={dtype!r}; expected 'uint8' or 'float32'.")
  check_label(generator, label)
  chunks = []
  for chunk_start in range(start, start + num, batch_size):
    indices = np.arange(chunk_start, min(chunk_start + batch_size, start + num))
    images = generate(generator, generator.latents(seed, indices), batch_size,
                      labels_for(generator, indices, label))
    chunks.append(to_uint8(generator, images) if dtype == "uint8" else images)
  return np.concatenate(chunks)


def predict_classes(dataset, images, value_range=(0.0, 1.0), batch_size=500):
  """(classes [n], probabilities [n, K]) from the evaluation's shipped classifier for `dataset`
  ("mnist" or "fashion_mnist"); images uint8 or float in `value_range`."""
  extractor = domain.classifier_extractor(dataset)
  logits = extractor(np.asarray(images), batch_size, value_range)["logits"]
  probabilities = np.asarray(jax.nn.softmax(logits, axis=-1))
  return probabilities.argmax(-1), probabilities


def class_names(dataset):
  """Class names (the catalog's) of the datasets with a shipped classifier, else None."""
  if dataset not in catalog.classifier_datasets():
    return None
  return list(catalog.get(dataset).class_names)


def classify_samples(generator, dataset, num, seed=0, batch_size=500, label=None):
  """(classes [num], probabilities [num, K]) of samples 0 .. num-1 of `seed` (of class `label`
  for a conditional generator, see `sample`), by the shipped classifier of `dataset`."""
  images = sample(generator, num, seed=seed, batch_size=batch_size, dtype="float32", label=label)
  return predict_classes(dataset, images, generator.value_range, batch_size)


def most_confident(classes, probabilities, class_index, num):
  """Indices of the `num` samples predicted as `class_index` with the highest probability (in
  decreasing order), and those probabilities; a `UserError` if fewer are of that class."""
  candidates = np.flatnonzero(np.asarray(classes) == class_index)
  if len(candidates) < num:
    raise UserError(f"Only {len(candidates)} of {len(classes)} samples are classified as class "
                    f"{class_index}; {num} are needed. Classify more samples (generate: "
                    "--pool) or take fewer (--class_samples).")
  confidence = np.asarray(probabilities)[candidates, class_index]
  chosen = candidates[np.argsort(-confidence, kind="stable")[:num]]
  return chosen, np.asarray(probabilities)[chosen, class_index]


def image_shape(generator):
  """Shape of one output of `generator` (computed abstractly, nothing is run)."""
  labels = jax.ShapeDtypeStruct((1,), jnp.int32) if generator.num_classes else None
  out = jax.eval_shape(generator, jax.ShapeDtypeStruct((1, generator.latent_dim), jnp.float32),
                       labels)
  return tuple(out.shape[1:])

