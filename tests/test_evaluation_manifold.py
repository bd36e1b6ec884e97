"""Precision, recall, density, coverage on hand-countable cases and on known distributions."""

import numpy as np
import pytest

from gan_jax.evaluation import manifold


def _line(n):
  return np.arange(n, dtype=np.float32)[:, None]


def test_knn_radii_on_a_line():
  """Points 0..9: the 3rd nearest other point of 0 is 3, of 5 is 2 (4, 6, then 3 or 7)."""
  radii = np.asarray(manifold.knn_squared_radii(_line(10), (1, 3), block_size=4))
  np.testing.assert_array_equal(radii[0], np.ones(10))
  np.testing.assert_array_equal(np.sqrt(radii[1]), [3, 2, 2, 2, 2, 2, 2, 2, 2, 3])


def test_hand_counted_case():
  """Reals 0..9 (k=1 balls of radius 1), fakes 0.5 and 20 (k=1 balls of radius 19.5):
  0.5 is in the balls of reals 0 and 1, 20 in none -> precision 1/2, density 2 / (1 * 2) = 1;
  every real lies within 19.5 of 0.5 -> recall 1; only reals 0 and 1 have a fake in their
  ball -> coverage 2/10."""
  real = manifold.real_manifold(_line(10), precision_recall_k=1, density_coverage_k=1,
                                block_size=3)
  result = manifold.precision_recall_density_coverage(
      real, np.array([[0.5], [20.0]], np.float32), precision_recall_k=1, density_coverage_k=1,
      block_size=3)
  assert result == {"precision": 0.5, "recall": 1.0, "density": 1.0, "coverage": 0.2}


def test_identical_sets_are_perfect():
  """Density and coverage count strictly inside a ball (prdc's `<`): each real's ball then holds
  itself and its k-1 nearest others, so a copy of the real set has density exactly 1, not the
  (k+1)/k = 1.2 of `<=`."""
  features = np.random.default_rng(0).normal(size=(500, 6)).astype(np.float32)
  result = manifold.precision_recall_density_coverage(manifold.real_manifold(features), features)
  assert result["precision"] == result["recall"] == result["coverage"] == 1.0
  assert result["density"] == pytest.approx(1.0, abs=1e-6)


def test_two_samples_of_one_distribution_score_near_one():
  rng = np.random.default_rng(1)
  real, fake = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
  result = manifold.precision_recall_density_coverage(
      manifold.real_manifold(real.astype(np.float32)), fake.astype(np.float32))
  assert result["precision"] > 0.9 and result["recall"] > 0.9
  # Naeem et al. 2020: E[density] = 1 and coverage ~ 1 - 2^-k for identical distributions.
  assert result["density"] == pytest.approx(1.0, abs=0.1)
  assert result["coverage"] == pytest.approx(1 - 0.5 ** 5, abs=0.03)


def test_noise_far_from_the_data_scores_zero():
  rng = np.random.default_rng(2)
  real = rng.normal(size=(1000, 4)).astype(np.float32)
  noise = rng.uniform(50, 60, size=(1000, 4)).astype(np.float32)
  result = manifold.precision_recall_density_coverage(manifold.real_manifold(real), noise)
  assert result == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_collapse_onto_one_cluster_keeps_precision_and_loses_recall():
  """Real: two far clusters. Fake: only the first. Precision ~1, recall and coverage ~1/2."""
  rng = np.random.default_rng(3)
  real = np.concatenate([rng.normal(size=(1000, 2)), rng.normal(size=(1000, 2)) + 100])
  fake = rng.normal(size=(2000, 2))
  result = manifold.precision_recall_density_coverage(
      manifold.real_manifold(real.astype(np.float32)), fake.astype(np.float32))
  assert result["precision"] > 0.95
  assert result["recall"] == pytest.approx(0.5, abs=0.03)
  assert result["coverage"] == pytest.approx(0.5, abs=0.03)


def test_block_size_does_not_change_the_result():
  rng = np.random.default_rng(4)
  real, fake = rng.normal(size=(1003, 5)), rng.normal(size=(777, 5)) + 0.3
  results = [manifold.precision_recall_density_coverage(
      manifold.real_manifold(real.astype(np.float32), block_size=b), fake.astype(np.float32),
      block_size=b) for b in (128, 2000)]
  assert results[0] == results[1]
