"""TFDS datasets by name: the articles' datasets under `tfds.testing.mock_data`, and a tiny real
prepared dataset for what mock data cannot show (split names, per-process shares, file order,
streaming and its exact resume, errors).

`mock_data` (default policy) works offline for all six datasets below: it builds random examples
from each builder's features (fixed-size images for mnist/fashion_mnist/cifar10/RPS/celeb_a,
random sizes for food101, no label for celeb_a). It ignores split names, sub-splits and shuffle
seeds, so those paths are tested on `GanJaxTinyImages`, prepared for real in a temporary folder.
"""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax import input_pipeline
from gan_jax.data import tfds_source
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError

NUM_TINY = {"train": 40, "test": 8}


class GanJaxTinyImages(tfds.core.GeneratorBasedBuilder):
  """40 + 8 RGB images of varying size (20-22 x 24); label = example number (an id)."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self,
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3)),
            "label": tfds.features.ClassLabel(num_classes=48),
        }))

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split) for split in NUM_TINY}

  def _generate_examples(self, split):
    offset = 0 if split == "train" else NUM_TINY["train"]
    for i in range(NUM_TINY[split]):
      rng = np.random.default_rng(offset + i)
      image = rng.integers(0, 256, size=(20 + i % 3, 24, 3), dtype=np.uint8)
      yield i, {"image": image, "label": offset + i}


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  GanJaxTinyImages(data_dir=data_dir).download_and_prepare()
  return data_dir


def _batches(settings, batch_size, num, start_step=0, process_index=0, process_count=1, seed=0):
  train_input = input_pipeline.create_train_input(
      settings, batch_size, seed=seed, process_index=process_index, process_count=process_count)
  iterator = train_input.batches(start_step)
  return train_input.info, [next(iterator) for _ in range(num)]


# (name, settings, expected image shape, expected number of classes)
MOCK_CASES = [
    ("mnist", {}, (28, 28, 1), 10),
    ("fashion_mnist", {"value_range": (-1.0, 1.0)}, (28, 28, 1), 10),
    ("cifar10", {"random_flip": True}, (32, 32, 3), 10),
    ("rock_paper_scissors", {}, (300, 300, 3), 3),
    ("rock_paper_scissors", {"image_size": 64, "value_range": (-1.0, 1.0)}, (64, 64, 3), 3),
    ("rock_paper_scissors", {"image_size": 128, "resize_method": "bilinear"}, (128, 128, 3), 3),
    ("food101", {"image_size": 32, "crop": "center"}, (32, 32, 3), 101),
    ("food101", {"image_size": 16, "in_memory": True}, (16, 16, 3), 101),
    ("celeb_a", {"image_size": 64, "crop": "center", "value_range": (-1.0, 1.0)}, (64, 64, 3),
     None),
]


@pytest.mark.parametrize("name, overrides, shape, num_classes", MOCK_CASES)
def test_mock_tfds_datasets(name, overrides, shape, num_classes):
  settings = DataSettings(name=name, **overrides)
  with tfds.testing.mock_data(num_examples=12):
    info, batches = _batches(settings, 8, 2)
  assert info.image_shape == shape and info.num_classes == num_classes
  assert info.num_examples == 12 and info.source == f"TFDS {name}/train"
  low, high = settings.value_range
  for batch in batches:
    assert batch["image"].shape == (8, *shape) and batch["image"].dtype == np.float32
    assert low <= batch["image"].min() and batch["image"].max() <= high
    assert batch["label"].dtype == np.int32 and batch["label"].shape == (8,)
    if num_classes is None:
      assert not batch["label"].any()
    else:
      assert 0 <= batch["label"].min() and batch["label"].max() < num_classes
  if "image_size" not in overrides:
    # Mock pixels are uniform in [0, 255]: the whole range is used, not a corner of it.
    assert batches[0]["image"].max() - batches[0]["image"].min() > 0.9 * (high - low)


def test_in_memory_when_small_streamed_when_large(monkeypatch):
  settings = DataSettings(name="food101", image_size=32)
  with tfds.testing.mock_data(num_examples=12):
    small = input_pipeline.create_train_input(settings, 8, seed=0, process_index=0,
                                              process_count=1)
    # 12 images of 32x32x3 take 36,864 bytes.
    monkeypatch.setattr(input_pipeline, "MAX_IN_MEMORY_BYTES", 36_863)
    large = input_pipeline.create_train_input(settings, 8, seed=0, process_index=0,
                                              process_count=1)
    batch = next(large.batches())
  assert small.info.in_memory and not large.info.in_memory
  assert batch["image"].shape == (8, 32, 32, 3)


def test_random_crop_in_memory_needs_one_size(tiny_dir):
  with pytest.raises(UserError, match="random crop of images held in memory needs them"):
    input_pipeline.create_train_input(
        DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, crop="random",
                     image_size=8, in_memory=True), 8, seed=0, process_index=0, process_count=1)


def test_images_of_varying_size_need_a_size():
  with tfds.testing.mock_data(num_examples=12):
    for in_memory in (None, False, True):
      with pytest.raises(UserError, match="no fixed size|Images differ in size"):
        input_pipeline.create_train_input(DataSettings(name="food101", in_memory=in_memory), 8,
                                          seed=0, process_index=0, process_count=1)


def test_mock_rps_batches_split_over_two_devices():
  import jax  # pylint: disable=g-import-not-at-top

  from gan_jax import data_parallel  # pylint: disable=g-import-not-at-top

  assert jax.device_count() == 2  # tests/conftest.py
  sharding = data_parallel.batch_sharded(data_parallel.create_mesh())
  with tfds.testing.mock_data(num_examples=12):
    train_input = input_pipeline.create_train_input(
        DataSettings(name="rock_paper_scissors", image_size=64), 8, seed=0, process_index=0,
        process_count=1)
    host = next(train_input.batches())
    placed = next(data_parallel.prefetch_to_device(train_input.batches(), sharding))
  assert placed["image"].shape == (8, 64, 64, 3)
  shards = sorted(placed["image"].addressable_shards, key=lambda s: s.index[0].start)
  assert [s.data.shape for s in shards] == [(4, 64, 64, 3)] * 2
  assert {s.device for s in shards} == set(jax.devices())
  for i, shard in enumerate(shards):
    np.testing.assert_array_equal(np.asarray(shard.data), host["image"][4 * i:4 * i + 4])


def test_tiny_real_dataset_in_memory_and_streamed_give_the_same_pixels(tiny_dir):
  settings = DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, image_size=16)
  by_label = {}
  for in_memory in (True, False):
    info, batches = _batches(
        DataSettings(**{**settings.__dict__, "in_memory": in_memory}), 8, 5)
    assert info.in_memory == in_memory and info.num_examples == 40
    images = np.concatenate([b["image"] for b in batches])
    labels = np.concatenate([b["label"] for b in batches])
    assert sorted(labels.tolist()) == list(range(40))  # 5 batches of 8: one whole epoch
    by_label[in_memory] = images[np.argsort(labels)]
  np.testing.assert_array_equal(by_label[True], by_label[False])


@pytest.mark.parametrize("in_memory, crop", [(True, "center"), (False, "random")])
def test_tiny_real_dataset_resumes_exactly(tiny_dir, in_memory, crop):
  """Batches of 12 over epochs of 40 cross epoch boundaries; random crops and flips included."""
  settings = DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, image_size=12,
                          crop=crop, crop_size=18, random_flip=True, shuffle_buffer=16,
                          in_memory=in_memory, value_range=(-1.0, 1.0))
  _, uninterrupted = _batches(settings, 12, 9)
  labels = np.concatenate([b["label"] for b in uninterrupted])
  for epoch in range(2):  # every epoch visits each example once, in its own order
    assert sorted(labels[40 * epoch:40 * (epoch + 1)].tolist()) == list(range(40))
  assert labels[:40].tolist() != labels[40:80].tolist()
  for start in (1, 3, 4, 6):
    _, resumed = _batches(settings, 12, 3, start_step=start)
    for a, b in zip(resumed, uninterrupted[start:start + 3]):
      np.testing.assert_array_equal(a["label"], b["label"])
      np.testing.assert_array_equal(a["image"], b["image"])
  _, other_seed = _batches(settings, 12, 1, seed=1)
  assert other_seed[0]["label"].tolist() != uninterrupted[0]["label"].tolist()


def test_tiny_real_dataset_streamed_share_per_process(tiny_dir):
  settings = DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, image_size=8,
                          in_memory=False)
  seen = []
  for process_index in (0, 1):
    _, batches = _batches(settings, 8, 5, process_index=process_index, process_count=2)
    assert all(b["image"].shape == (4, 8, 8, 3) for b in batches)
    labels = np.concatenate([b["label"] for b in batches]).tolist()
    assert len(set(labels[:20])) == 20  # epoch 0 of this process: its 20 examples
    seen.append(set(labels[:20]))
  assert not seen[0] & seen[1] and seen[0] | seen[1] == set(range(40))


def test_tiny_real_dataset_in_memory_processes_share_each_global_batch(tiny_dir):
  settings = DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, image_size=8,
                          random_flip=True, crop="center", in_memory=True)
  _, whole = _batches(settings, 8, 3)
  halves = [_batches(settings, 8, 3, process_index=p, process_count=2)[1] for p in (0, 1)]
  for step in range(3):
    for key in ("image", "label"):
      np.testing.assert_array_equal(
          np.concatenate([halves[0][step][key], halves[1][step][key]]), whole[step][key])


def test_test_split_and_slices(tiny_dir):
  info, batches = _batches(DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir,
                                        split="test", image_size=8), 8, 1)
  assert info.num_examples == 8 and sorted(batches[0]["label"].tolist()) == list(range(40, 48))
  info, _ = _batches(DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir,
                                  split="train[:25%]", image_size=8), 8, 1)
  assert info.num_examples == 10


def test_wrong_split_lists_the_splits(tiny_dir):
  with pytest.raises(UserError, match=r"config.data.split='validation' is not a split of "
                     r"gan_jax_tiny_images.*\['test', 'train'\]"):
    input_pipeline.create_train_input(
        DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, split="validation"), 8,
        seed=0, process_index=0, process_count=1)


def test_wrong_name_suggests_close_ones():
  with pytest.raises(UserError, match=r"'cifar' is not a TFDS dataset \(did you mean 'cifar10'"):
    tfds_source.open_split("cifar", "train", None)


def test_not_prepared_says_how_to_prepare(tmp_path):
  with pytest.raises(tfds_source.NotPreparedError) as e:
    input_pipeline.create_train_input(
        DataSettings(name="rock_paper_scissors", data_dir=str(tmp_path)), 8, seed=0,
        process_index=0, process_count=1)
  message = str(e.value)
  assert f"not prepared in {tmp_path}" in message
  assert "tfds.builder('rock_paper_scissors').download_and_prepare()" in message


def test_wrong_image_or_label_key(tiny_dir):
  with pytest.raises(UserError, match="image_key='picture' is not an image feature"):
    tfds_source.open_split("gan_jax_tiny_images", "train", tiny_dir, image_key="picture")
  # A missing label feature means unlabelled data (celeb_a), not an error.
  tfds_split = tfds_source.open_split("gan_jax_tiny_images", "train", tiny_dir,
                                      label_key="class")
  assert tfds_split.label_key is None and tfds_split.num_classes is None


def test_batch_larger_than_the_split(tiny_dir):
  with pytest.raises(UserError, match="larger than"):
    input_pipeline.create_train_input(
        DataSettings(name="gan_jax_tiny_images", data_dir=tiny_dir, image_size=8,
                     in_memory=False), 48, seed=0, process_index=0, process_count=1)
