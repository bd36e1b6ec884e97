"""KID: the estimator against a brute-force double loop and an analytic population value."""

import jax
import numpy as np
import pytest

from gan_jax.evaluation import kid


def _brute_force_mmd2(x, y):
  k = lambda a, b: (np.dot(a, b) / len(a) + 1.0) ** 3
  m, n = len(x), len(y)
  kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
  return kxx + kyy - 2 * kxy


def test_unbiased_mmd2_matches_brute_force():
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) + 0.5
  assert float(kid.unbiased_mmd2(x.astype(np.float32), y.astype(np.float32))) == pytest.approx(
      _brute_force_mmd2(x, y), rel=1e-5)


def test_one_dimensional_gaussians_analytic_value():
  """x ~ N(0, 1), y ~ N(1, 1), k(a, b) = (ab + 1)^3. With independent copies,
  E k(x, x') = (E x^3)^2 + 3 (E x^2)^2 + 3 (E x)^2 + 1 = 4,
  E k(y, y') = (1 + 3)^2 + 3 * 2^2 + 3 + 1 = 32, E k(x, y) = 3 * 1 * 2 + 1 = 7,
  so MMD^2 = 4 + 32 - 2 * 7 = 22."""
  rng = np.random.default_rng(1)
  x = rng.normal(size=(100_000, 1)).astype(np.float32)
  y = (rng.normal(size=(100_000, 1)) + 1).astype(np.float32)
  result = kid.kernel_distance(x, y, jax.random.key(0), subset_size=2500, num_subsets=40)
  # One subset's estimate has a std of ~1.6 here; the mean of 40 about 0.25 (1.1%).
  assert result["kid"] == pytest.approx(22.0, rel=0.03)
  assert result["kid_subset_size"] == 2500 and result["kid_num_subsets"] == 40


def test_same_distribution_is_near_zero_and_noise_is_far():
  rng = np.random.default_rng(2)
  x, y = rng.normal(size=(3000, 16)), rng.normal(size=(3000, 16))
  same = kid.kernel_distance(x.astype(np.float32), y.astype(np.float32), jax.random.key(1),
                             subset_size=500, num_subsets=40)
  noise = kid.kernel_distance(x.astype(np.float32), rng.uniform(0, 4, size=(3000, 16)).astype(
      np.float32), jax.random.key(1), subset_size=500, num_subsets=40)
  assert abs(same["kid"]) < same["kid_std"]
  assert noise["kid"] > 20 * noise["kid_std"] > 0


def test_subset_size_is_capped_by_the_smaller_set():
  x = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)
  result = kid.kernel_distance(x, x[:30], jax.random.key(0), subset_size=1000, num_subsets=3)
  assert result["kid_subset_size"] == 30
