"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel, over random subsets.

Reference: Bińkowski et al. 2018, "Demystifying MMD GANs", with k(x, y) = (x.y / d + 1)^3.
Unlike FD, the estimator is unbiased: its expectation is 0 when both sets come from one
distribution, whatever the sample size, so it can be compared across sample counts. It is
computed on `num_subsets` random subsets of `subset_size` samples from each set (drawn without
replacement within a subset), reporting the mean and the standard deviation over subsets.
"""

import functools

import jax
import jax.numpy as jnp

from gan_jax.errors import UserError

HIGHEST = jax.lax.Precision.HIGHEST


def polynomial_kernel(x, y):
  """(x.y / d + 1)^3 for all pairs of rows: [n, d], [m, d] -> [n, m]."""
  return (jnp.matmul(x, y.T, precision=HIGHEST) / x.shape[-1] + 1.0) ** 3


def _mean_off_diagonal(kernel):
  m = kernel.shape[0]
  # Row sums first: float32 sums of 10^6 terms in one go lose digits the difference needs.
  total = jnp.sum(jnp.sum(kernel, axis=1) - jnp.diagonal(kernel))
  return total / (m * (m - 1))


def unbiased_mmd2(x, y):
  """Unbiased MMD^2 estimate between sample sets x [m, d] and y [n, d] (Gretton et al. 2012)."""
  return (_mean_off_diagonal(polynomial_kernel(x, x)) + _mean_off_diagonal(polynomial_kernel(y, y))
          - 2.0 * jnp.mean(jnp.mean(polynomial_kernel(x, y), axis=1)))


@functools.partial(jax.jit, static_argnames=("subset_size", "num_subsets"))
def _subset_mmd2(real, fake, rng, subset_size, num_subsets):
  def one_subset(subset_rng):
    real_rng, fake_rng = jax.random.split(subset_rng)
    x = real[jax.random.permutation(real_rng, real.shape[0])[:subset_size]]
    y = fake[jax.random.permutation(fake_rng, fake.shape[0])[:subset_size]]
    return unbiased_mmd2(x, y)

  return jax.lax.map(one_subset, jax.random.split(rng, num_subsets))


def kernel_distance(real_features, fake_features, rng, subset_size=1000, num_subsets=100):
  """KID over random subsets.

  Args:
    real_features: [N, D] reference features.
    fake_features: [M, D] sample features.
    rng: PRNG key choosing the subsets.
    subset_size: samples per subset from each set; capped at min(N, M).
    num_subsets: number of subsets.

  Returns:
    {"kid": mean over subsets, "kid_std": standard deviation over subsets, "kid_subset_size": the
    subset size used, "kid_num_subsets": num_subsets}.
  """
  subset_size = min(subset_size, real_features.shape[0], fake_features.shape[0])
  if subset_size < 2:
    raise UserError("KID needs at least 2 samples in each set.")
  values = _subset_mmd2(jnp.asarray(real_features, jnp.float32),
                        jnp.asarray(fake_features, jnp.float32), rng, subset_size, num_subsets)
  return {"kid": float(jnp.mean(values)), "kid_std": float(jnp.std(values)),
          "kid_subset_size": subset_size, "kid_num_subsets": num_subsets}
