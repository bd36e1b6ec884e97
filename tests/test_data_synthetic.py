"""Stacked MNIST (real digits, 1,000 classes) and the 2-D Gaussian mixtures (their statistics)."""

import numpy as np
import pytest

from gan_jax import input_pipeline
from gan_jax.data import synthetic
from gan_jax.data.settings import DataSettings, Toy2DSettings
from gan_jax.errors import UserError
from gan_jax.data import sources


@pytest.fixture(scope="module")
def mnist():
  return sources.load_arrays("mnist", "train")


def test_stacked_mnist_channels_are_real_mnist_digits_and_label_spells_them(mnist):
  stacked = synthetic.stacked_mnist(7, mnist, num_examples=300)
  assert stacked.images.shape == (300, 28, 28, 3) and stacked.images.dtype == np.uint8
  assert stacked.labels.dtype == np.int32 and stacked.num_classes == 1000
  assert 0 <= stacked.labels.min() and stacked.labels.max() <= 999
  labels_of = {image.tobytes(): label for image, label in zip(mnist.images, mnist.labels)}
  for image, label in zip(stacked.images[:50], stacked.labels[:50]):
    digits = [labels_of[np.ascontiguousarray(image[..., c, None]).tobytes()] for c in range(3)]
    assert label == 100 * digits[0] + 10 * digits[1] + digits[2]
  # 300 draws over 1,000 classes: many distinct classes, each hundreds digit present.
  assert len(set(stacked.labels.tolist())) > 200
  assert set((stacked.labels // 100).tolist()) == set(range(10))


def test_stacked_mnist_is_a_function_of_the_seed(mnist):
  a = synthetic.stacked_mnist(1, mnist, num_examples=50)
  b = synthetic.stacked_mnist(1, mnist, num_examples=50)
  c = synthetic.stacked_mnist(2, mnist, num_examples=50)
  np.testing.assert_array_equal(a.images, b.images)
  assert not np.array_equal(a.labels, c.labels)


def test_stacked_mnist_through_the_pipeline():
  settings = DataSettings(name="stacked_mnist", num_examples=64, value_range=(-1.0, 1.0))
  train_input = input_pipeline.create_train_input(settings, 16, seed=0, process_index=0,
                                                  process_count=1)
  assert train_input.info.image_shape == (28, 28, 3) and train_input.info.num_classes == 1000
  batch = next(train_input.batches())
  assert batch["image"].shape == (16, 28, 28, 3)
  assert batch["image"].min() == -1.0 and batch["image"].max() == 1.0


@pytest.mark.parametrize("toy2d, num_modes, std", [
    (Toy2DSettings(), 8, 0.02),
    (Toy2DSettings(layout="grid"), 25, 0.05),
    (Toy2DSettings(layout="ring", num_modes=5, radius=3.0, std=0.1), 5, 0.1),
])
def test_toy2d_mixture_statistics(toy2d, num_modes, std):
  centres, resolved_std = toy2d.resolved()
  assert centres.shape == (num_modes, 2) and resolved_std == std
  num_points = 20_000
  points, modes = synthetic.toy2d_batch(toy2d, seed=0, step=0, batch_size=num_points)
  assert points.shape == (num_points, 2) and points.dtype == np.float32
  # Each point's label is its mode, and the nearest centre (modes are >= 1 apart, std <= 0.1).
  nearest = np.argmin(((points[:, None] - centres[None]) ** 2).sum(-1), axis=1)
  np.testing.assert_array_equal(nearest, modes)
  counts = np.bincount(modes, minlength=num_modes)
  expected = num_points / num_modes
  # Multinomial counts: 5 standard deviations.
  assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
  for k in range(num_modes):
    offsets = points[modes == k] - centres[k]
    # Sample mean within 5 standard errors of the centre; sample std within 10 % of std.
    assert np.all(np.abs(offsets.mean(0)) < 5 * std / np.sqrt(counts[k]))
    np.testing.assert_allclose(offsets.std(0), std, rtol=0.1)


def test_toy2d_ring_and_grid_centres():
  ring, _ = Toy2DSettings().resolved()
  np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0, rtol=1e-6)
  np.testing.assert_allclose(ring[0], [2.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(ring[2], [0.0, 2.0], atol=1e-6)
  grid, _ = Toy2DSettings(layout="grid").resolved()
  assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
  explicit, std = Toy2DSettings(centres=((1.0, 1.0), (-1.0, 0.0)), std=0.3).resolved()
  np.testing.assert_array_equal(explicit, [[1.0, 1.0], [-1.0, 0.0]])
  assert std == 0.3


def test_toy2d_through_the_pipeline_splits_the_global_batch_over_processes():
  settings = DataSettings(name="toy2d")
  single = input_pipeline.create_train_input(settings, 8, seed=3, process_index=0,
                                             process_count=1)
  assert single.info.image_shape == (2,) and single.info.num_classes == 8
  assert single.info.num_examples is None
  whole = next(single.batches(5))
  halves = [next(input_pipeline.create_train_input(
      settings, 8, seed=3, process_index=p, process_count=2).batches(5)) for p in (0, 1)]
  np.testing.assert_array_equal(np.concatenate([h["image"] for h in halves]), whole["image"])


@pytest.mark.parametrize("toy2d, message", [
    (Toy2DSettings(layout="spiral"), "layout='spiral' is invalid"),
    (Toy2DSettings(layout="grid", num_modes=24), "must be a square number"),
    (Toy2DSettings(std=0.0), "std=0.0 is invalid"),
    (Toy2DSettings(radius=-1.0), "radius=-1.0 is invalid"),
])
def test_toy2d_bad_settings(toy2d, message):
  with pytest.raises(UserError, match=message):
    synthetic.check_toy2d(toy2d)


def test_fixed_toy2d_set_is_packed_as_pacgan_builds_it_and_visited_in_epochs():
  toy2d = Toy2DSettings(layout="grid", num_modes=25, radius=4.0, std=0.05, num_examples=50)
  points, modes = synthetic.toy2d_training_set(toy2d, seed=3, pack=4)
  assert points.shape == (50, 4, 2) and modes.shape == (50, 4)
  # Every slot is a draw from the same 50 points (with replacement).
  base = {tuple(p) for p in points.reshape(-1, 2)}
  assert len(base) <= 50
  again, _ = synthetic.toy2d_training_set(toy2d, seed=3, pack=4)
  np.testing.assert_array_equal(points, again)
  # Batches of 20 packs: each epoch (2.5 batches) visits every pack once; resuming at step s
  # gives the batches of an uninterrupted run.
  batches = synthetic.epoch_batches(50, 20, seed=3, start_step=0)
  first_five = [next(batches) for _ in range(5)]
  assert sorted(np.concatenate(first_five)[:50].tolist()) == list(range(50))
  resumed = synthetic.epoch_batches(50, 20, seed=3, start_step=3)
  np.testing.assert_array_equal(next(resumed), first_five[3])
  np.testing.assert_array_equal(next(resumed), first_five[4])


def test_packed_toy2d_input_keeps_each_pack_in_consecutive_rows():
  settings = DataSettings(name="toy2d", toy2d=Toy2DSettings(num_examples=30))
  train_input = input_pipeline.create_train_input(settings, 12, seed=0, process_index=0,
                                                  process_count=1, pack=3)
  assert train_input.info.num_examples == 30
  points, _ = synthetic.toy2d_training_set(settings.toy2d, seed=0, pack=3)
  packs = {tuple(p.ravel()) for p in points}
  for batch in [next(train_input.batches(0)), next(train_input.batches(9))]:
    assert batch["image"].shape == (12, 2)
    assert all(tuple(batch["image"][i:i + 3].ravel()) in packs for i in range(0, 12, 3))
  with pytest.raises(UserError, match="does not fit"):
    input_pipeline.create_train_input(settings, 93, seed=0, process_index=0, process_count=1,
                                      pack=3)


def test_fixed_image_packs_are_pacgan_packed_examples_in_a_fixed_order():
  """config.data.fixed_packs: N packed examples of `pack` rows drawn once with replacement,
  each in consecutive rows; reshuffle=False repeats the first epoch's order; resuming at step s
  and splitting over processes give the uninterrupted run's rows."""
  settings = DataSettings(name="stacked_mnist", num_examples=40, fixed_packs=True,
                          reshuffle=False)
  arrays, _ = sources.load_split(settings, seed=5)
  packs = synthetic.fixed_packs(40, 2, seed=5)
  assert packs.shape == (40, 2) and packs.min() >= 0 and packs.max() < 40
  # With replacement: 80 draws from 40 rows repeat some (probability of none ~ 0).
  assert len(set(packs.ravel().tolist())) < 40
  train_input = input_pipeline.create_train_input(settings, 16, seed=5, process_index=0,
                                                  process_count=1, pack=2)
  batches = train_input.batches(0)
  epochs = [[next(batches) for _ in range(5)] for _ in range(2)]  # 5 batches of 8 packs = 40.
  expected_rows = {tuple(p) for p in packs.tolist()}
  to_rows = lambda images: [int(np.argmax((arrays.images == _to_uint8(x)).all(axis=(1, 2, 3))))
                            for x in images]
  first = np.concatenate([to_rows(b["image"]) for b in epochs[0]]).reshape(-1, 2)
  assert sorted(map(tuple, first.tolist())) == sorted(map(tuple, packs.tolist()))
  assert all(tuple(p) in expected_rows for p in first.tolist())
  for a, b in zip(*epochs):  # The same order every epoch.
    np.testing.assert_array_equal(a["image"], b["image"])
  resumed = next(train_input.batches(3))
  np.testing.assert_array_equal(resumed["image"], epochs[0][3]["image"])
  halves = [next(input_pipeline.create_train_input(
      settings, 16, seed=5, process_index=p, process_count=2, pack=2).batches(3)) for p in (0, 1)]
  np.testing.assert_array_equal(np.concatenate([h["image"] for h in halves]), resumed["image"])


def _to_uint8(image):
  return np.round(np.asarray(image) * 255).astype(np.uint8)


def test_reshuffled_epochs_differ_and_fixed_packs_need_whole_packs():
  settings = DataSettings(name="stacked_mnist", num_examples=24)
  batches = input_pipeline.create_train_input(settings, 24, seed=0, process_index=0,
                                              process_count=1).batches(0)
  first, second = next(batches), next(batches)
  assert not np.array_equal(first["image"], second["image"])
  assert sorted(first["label"].tolist()) == sorted(second["label"].tolist())
  with pytest.raises(UserError, match="no whole number of packed examples"):
    input_pipeline.create_train_input(
        DataSettings(name="stacked_mnist", num_examples=24, fixed_packs=True), 9, seed=0,
        process_index=0, process_count=1, pack=2)
