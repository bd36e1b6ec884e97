"""The mode-collapse benchmarks: Stacked MNIST (1,000 modes) and 2-D Gaussian mixtures.

Stacked MNIST (used e.g. in "Unrolled Generative Adversarial Networks", Metz et al. 2016, and
"VEEGAN", Srivastava et al. 2017) puts three random MNIST digits into the R, G and B channels; its
class is the 3-digit number they spell, so a classifier on the channels counts how many of the
1,000 modes a generator covers. The 2-D mixtures (a ring of 8 and a 5x5 grid of Gaussians, same
papers) make collapse visible in a scatter plot.
"""

import itertools

import numpy as np

from gan_jax.data import catalog
from gan_jax.data.arrays import ArrayDataset
from gan_jax.errors import UserError

# Examples in the Stacked MNIST set when `config.data.num_examples` is None.
STACKED_MNIST_DEFAULT_SIZE = 100_000
# Separate the data's random streams from the other uses of `config.seed`.
_STACKED_SEED_SALT = 0x57AC4ED
_TOY2D_SEED_SALT = 0x70F2D
_FIXED_SET_SALT = 0xF1
_EPOCH_SALT = 0xE9


def stacked_mnist(seed, mnist, num_examples=None):
  """`num_examples` RGB images [28, 28, 3], each channel a random real digit of `mnist`.

  The triple of digits of example i is fixed by `seed`; label = 100 * d_R + 10 * d_G + d_B.
  `mnist` is an `ArrayDataset` of MNIST (`gan_jax.data.sources.load_arrays("mnist", ...)`).
  """
  num_examples = num_examples or STACKED_MNIST_DEFAULT_SIZE
  rng = np.random.default_rng([seed, _STACKED_SEED_SALT])
  picks = rng.integers(0, len(mnist.images), size=(num_examples, 3))
  images = np.ascontiguousarray(np.moveaxis(mnist.images[picks, ..., 0], 1, -1))
  labels = (mnist.labels[picks] * np.array([100, 10, 1], np.int32)).sum(axis=1).astype(np.int32)
  return ArrayDataset(images=images, labels=labels,
                      num_classes=catalog.get(catalog.STACKED_MNIST_SOURCE).num_classes,
                      source=f"Stacked MNIST ({num_examples} triples of {mnist.source})")


def check_toy2d(toy2d):
  """Raises `UserError` for an unusable `config.data.toy2d`."""
  if toy2d.centres is None:
    if toy2d.layout not in ("ring", "grid"):
      raise UserError(f"config.data.toy2d.layout={toy2d.layout!r} is invalid: choose 'ring' or "
                      "'grid' (or give config.data.toy2d.centres).")
    if toy2d.num_modes is not None and toy2d.num_modes < 1:
      raise UserError(f"config.data.toy2d.num_modes={toy2d.num_modes!r} is invalid: it must be "
                      "a positive integer.")
    if toy2d.layout == "grid" and toy2d.num_modes is not None:
      side = int(round(np.sqrt(toy2d.num_modes)))
      if side * side != toy2d.num_modes:
        raise UserError(f"config.data.toy2d.num_modes={toy2d.num_modes} is invalid for the grid "
                        "layout: it must be a square number (25 = 5x5).")
    if toy2d.radius is not None and not toy2d.radius > 0:
      raise UserError(f"config.data.toy2d.radius={toy2d.radius!r} is invalid: it must be > 0.")
  elif not len(toy2d.centres):
    raise UserError("config.data.toy2d.centres is empty; give at least one [x, y] pair.")
  if toy2d.std is not None and not toy2d.std > 0:
    raise UserError(f"config.data.toy2d.std={toy2d.std!r} is invalid: it must be > 0.")
  if toy2d.num_examples is not None and not (
      isinstance(toy2d.num_examples, int) and toy2d.num_examples > 0):
    raise UserError(f"config.data.toy2d.num_examples={toy2d.num_examples!r} is invalid: it must "
                    "be a positive integer (PacGAN: 100,000) or None (fresh points every step).")


def toy2d_batch(toy2d, seed, step, batch_size):
  """Global batch `step` of points: float32 [batch_size, 2] and their mode index [batch_size].

  A function of (seed, step) alone, so resuming needs nothing but the step.
  """
  centres, std = toy2d.resolved()
  rng = np.random.default_rng([seed, _TOY2D_SEED_SALT, step])
  modes = rng.integers(0, len(centres), size=batch_size)
  points = centres[modes] + std * rng.standard_normal((batch_size, 2), dtype=np.float32)
  return points.astype(np.float32), modes.astype(np.int32)


def toy2d_training_set(toy2d, seed, pack=1):
  """PacGAN's finite training set: points float32 [num_examples, pack, 2] and their modes.

  `toy2d.num_examples` points are drawn once from the mixture; each of the num_examples packed
  examples takes its `pack` points by independent draws with replacement from them (PacGAN's
  `GaussianPackingMixture`, which does this for every pack size, 1 included).
  """
  centres, std = toy2d.resolved()
  rng = np.random.default_rng([seed, _TOY2D_SEED_SALT, _FIXED_SET_SALT])
  num = toy2d.num_examples
  modes = rng.integers(0, len(centres), size=num)
  points = (centres[modes] + std * rng.standard_normal((num, 2), dtype=np.float32))
  picks = draw_packs(rng, num, pack)
  return points.astype(np.float32)[picks], modes.astype(np.int32)[picks]


def draw_packs(rng, num_examples, pack):
  """PacGAN's packed examples (`GaussianPackingMixture`, and its Stacked MNIST `load_mnist`):
  int [num_examples, pack] indices, each packed example `pack` draws with replacement."""
  return rng.integers(0, num_examples, size=(num_examples, pack))


def fixed_packs(num_examples, pack, seed):
  """`draw_packs` of an image set from the seed (`config.data.fixed_packs`)."""
  return draw_packs(np.random.default_rng([seed, _STACKED_SEED_SALT, _FIXED_SET_SALT]),
                    num_examples, pack)


def epoch_batches(num_examples, batch_size, seed, start_step, reshuffle=True):
  """Indices of each global batch from `start_step` on: epoch e visits the examples in a
  permutation seeded by (seed, e) (by (seed, 0) in every epoch if not `reshuffle`); batch k
  holds examples [k*B, (k+1)*B) of the concatenated epochs, so batch k is a function of
  (seed, k) and resuming needs only the step."""
  start = start_step * batch_size
  epoch, offset = divmod(start, num_examples)
  pending = np.zeros((0,), np.int64)
  while True:
    order = np.random.default_rng(
        [seed, _TOY2D_SEED_SALT, _EPOCH_SALT, epoch if reshuffle else 0]).permutation(
            num_examples)
    pending = np.concatenate([pending, order[offset:]])
    offset = 0
    epoch += 1
    while len(pending) >= batch_size:
      yield pending[:batch_size]
      pending = pending[batch_size:]


def toy2d_batches(toy2d, seed, global_batch_size, pack=1, reshuffle=True):
  """start_step -> iterator of global batches {"image": float32 [B, 2], "label": int32 [B]}.

  Fresh points every step (`toy2d_batch`) or, with `toy2d.num_examples`, PacGAN's fixed set of
  packed examples (`toy2d_training_set`) visited in epochs (`epoch_batches`): consecutive rows
  are the `pack` points of one packed example. Batch k is a function of (seed, k).
  """
  num_examples = toy2d.num_examples
  if num_examples is None:
    def fresh(start_step):
      for step in itertools.count(start_step):
        points, modes = toy2d_batch(toy2d, seed, step, global_batch_size)
        yield {"image": points, "label": modes}
    return fresh
  if global_batch_size % pack or global_batch_size // pack > num_examples:
    raise UserError(f"A global batch of {global_batch_size} points ({pack} per packed "
                    f"example) does not fit the {num_examples} examples of "
                    "config.data.toy2d.num_examples; use a smaller batch or more examples.")
  packed_points, packed_modes = toy2d_training_set(toy2d, seed, pack)

  def epochs(start_step):
    for index in epoch_batches(num_examples, global_batch_size // pack, seed, start_step,
                               reshuffle):
      yield {"image": packed_points[index].reshape(-1, 2),
             "label": packed_modes[index].reshape(-1)}
  return epochs


def describe_toy2d(toy2d):
  centres, std = toy2d.resolved()
  size = (f", a fixed set of {toy2d.num_examples} points" if toy2d.num_examples else
          ", fresh points every step")
  if toy2d.centres is not None:
    return f"toy2d: {len(centres)} Gaussians at the given centres, std {std:g}{size}"
  radius = float(np.abs(centres).max())
  shape = "ring" if toy2d.layout == "ring" else "grid"
  return f"toy2d: {shape} of {len(centres)} Gaussians (radius {radius:g}, std {std:g}){size}"
