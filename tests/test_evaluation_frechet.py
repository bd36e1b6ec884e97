"""Fréchet distance: zero for identical Gaussians, analytic values for shifted/scaled ones."""

import numpy as np
import pytest
import scipy.linalg

from gan_jax.errors import UserError
from gan_jax.evaluation import frechet


def _random_covariance(rng, dim, rank=None):
  factor = rng.normal(size=(dim, rank or dim))
  return factor @ factor.T / dim


def test_identical_gaussians_have_distance_zero():
  rng = np.random.default_rng(0)
  mean, covariance = rng.normal(size=16), _random_covariance(rng, 16)
  assert frechet.frechet_distance(mean, covariance, mean, covariance) == pytest.approx(0, abs=1e-10)


def test_same_samples_give_zero_and_shifted_samples_give_the_squared_shift():
  """x and x + delta have exactly equal sample covariances: FD = |delta|^2."""
  rng = np.random.default_rng(1)
  features = rng.normal(size=(2000, 8)).astype(np.float32) @ rng.normal(size=(8, 8)).astype(
      np.float32)
  delta = np.array([1.0, -2.0, 0.5, 0, 0, 0, 0, 3.0], np.float32)
  assert frechet.frechet_distance_from_features(features, features) == pytest.approx(0, abs=1e-6)
  assert frechet.frechet_distance_from_features(features, features + delta) == pytest.approx(
      float(np.sum(delta.astype(np.float64) ** 2)), rel=1e-5)


def test_shifted_gaussians_analytic():
  rng = np.random.default_rng(2)
  covariance = _random_covariance(rng, 32)
  mean1, mean2 = rng.normal(size=32), rng.normal(size=32)
  assert frechet.frechet_distance(mean1, covariance, mean2, covariance) == pytest.approx(
      np.sum((mean1 - mean2) ** 2), rel=1e-9)


def test_diagonal_covariances_closed_form():
  """Diagonal S1, S2: FD = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
  a, b = np.array([1.0, 4.0, 9.0, 0.0]), np.array([4.0, 4.0, 1.0, 2.25])
  mean1, mean2 = np.array([0.0, 1.0, 0, 0]), np.array([3.0, 1.0, 0, 0])
  expected = 9.0 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2 + (0 - 1.5) ** 2
  assert frechet.frechet_distance(mean1, np.diag(a), mean2, np.diag(b)) == pytest.approx(
      expected, rel=1e-12)


@pytest.mark.parametrize("rank", [None, 5])
def test_different_covariances_match_scipy_sqrtm(rank):
  rng = np.random.default_rng(3)
  covariance1, covariance2 = _random_covariance(rng, 20), _random_covariance(rng, 20, rank)
  expected = np.trace(scipy.linalg.sqrtm(covariance1 @ covariance2)).real
  assert frechet.trace_sqrt_product(covariance1, covariance2) == pytest.approx(expected, rel=1e-6)


def test_statistics_on_device_match_float64_numpy():
  rng = np.random.default_rng(4)
  features = (rng.normal(size=(5000, 24)) * 3 + 10).astype(np.float32)
  mean, covariance = frechet.gaussian_statistics(features)
  np.testing.assert_allclose(mean, features.astype(np.float64).mean(0), rtol=1e-5)
  np.testing.assert_allclose(covariance, np.cov(features.astype(np.float64), rowvar=False),
                             rtol=1e-4, atol=1e-4)


def test_samples_of_one_gaussian_are_close_and_shifted_samples_are_not():
  rng = np.random.default_rng(5)
  x, y = rng.normal(size=(10_000, 4)), rng.normal(size=(10_000, 4))
  same = frechet.frechet_distance_from_features(x.astype(np.float32), y.astype(np.float32))
  shifted = frechet.frechet_distance_from_features(x.astype(np.float32),
                                                   (y + [1, 0, 0, 0]).astype(np.float32))
  assert 0 <= same < 0.01
  assert shifted == pytest.approx(1.0, abs=0.05)


def test_needs_two_samples():
  with pytest.raises(UserError, match="at least 2 feature vectors"):
    frechet.gaussian_statistics(np.zeros((1, 3), np.float32))
