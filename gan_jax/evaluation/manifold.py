"""Precision, recall, density and coverage: k-nearest-neighbour estimates of two feature manifolds.

References:
  Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
  Models" (precision, recall; k = 3).
  Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models" (density,
  coverage; k = 5).

Each real feature x_i owns a ball of radius NND_k(x_i), its distance to its k-th nearest other
real feature (likewise for the fake features y_j). "In a ball" means distance <= radius for
precision and recall (Kynkäänniemi et al.'s code) and distance < radius for density and coverage
(Naeem et al.'s prdc), so that a fake set equal to the real one scores density 1 and coverage 1:
  precision = fraction of fakes inside at least one real ball,
  recall    = fraction of reals inside at least one fake ball,
  density   = (1 / kM) sum_j #{real balls containing y_j}   (k = 5; 1 on average for P = Q),
  coverage  = fraction of reals whose ball contains at least one fake   (k = 5).
Distances are computed in blocks of rows on device (squared distances, full matmul precision),
so 10,000 x 10,000 comparisons never hold more than `block_size` rows of the matrix.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

HIGHEST = jax.lax.Precision.HIGHEST


def squared_distances(x, y):
  """|x_i - y_j|^2 for all pairs: [n, d], [m, d] -> [n, m]."""
  cross = jnp.matmul(x, y.T, precision=HIGHEST)
  return jnp.maximum(
      jnp.sum(x * x, axis=1)[:, None] + jnp.sum(y * y, axis=1)[None, :] - 2.0 * cross, 0.0)


def _map_blocks(fn, rows, block_size):
  """fn over blocks of `block_size` rows of the arrays in tuple `rows` (the last block padded
  with zeros), outputs concatenated and trimmed to the number of rows."""
  num_rows = rows[0].shape[0]
  num_blocks = -(-num_rows // block_size)

  def blocks(x):
    padded = jnp.pad(x, [(0, num_blocks * block_size - num_rows)] + [(0, 0)] * (x.ndim - 1))
    return padded.reshape(num_blocks, block_size, *x.shape[1:])

  outputs = jax.lax.map(lambda block: fn(*block), tuple(blocks(x) for x in rows))
  return jax.tree_util.tree_map(lambda o: o.reshape(-1, *o.shape[2:])[:num_rows], outputs)


@functools.partial(jax.jit, static_argnames=("ks", "block_size"))
def knn_squared_radii(features, ks, block_size=1000):
  """Squared distance of each row to its k-th nearest other row, for each k in `ks`: [len(ks), N].

  The row itself is its own nearest neighbour at distance 0, so the k-th other neighbour is
  the (k+1)-th smallest distance.
  """
  features = features.astype(jnp.float32)

  def block(rows):
    nearest = -jax.lax.top_k(-squared_distances(rows, features), max(ks) + 1)[0]
    return jnp.stack([nearest[:, k] for k in ks])

  return jnp.transpose(_map_blocks(lambda rows: block(rows).T, (features,), block_size))


@functools.partial(jax.jit, static_argnames=("block_size",))
def _fake_side(real, real_radii_pr, fake, block_size):
  """Per fake: inside any real k=3 ball (precision)."""

  def block(rows):
    return jnp.any(squared_distances(rows, real) <= real_radii_pr[None, :], axis=1)

  return _map_blocks(block, (fake,), block_size)


@functools.partial(jax.jit, static_argnames=("block_size",))
def _real_side(real, real_radii_dc, fake, fake_radii_pr, block_size):
  """Per real: inside any fake k=3 ball (recall); fakes inside its own k=5 ball (density, whose
  sum over fakes of balls equals this sum over balls of fakes) and whether any is (coverage).

  Density is counted from the real side so that its distances are computed exactly as the
  radii were: a fake equal to a real then sits at the same distances, bit for bit.
  """

  def block(rows, radii):
    distances = squared_distances(rows, fake)
    inside = distances < radii[:, None]
    return (jnp.any(distances <= fake_radii_pr[None, :], axis=1),
            jnp.sum(inside, axis=1), jnp.any(inside, axis=1))

  return _map_blocks(block, (real, real_radii_dc), block_size)


def real_manifold(real_features, precision_recall_k=3, density_coverage_k=5, block_size=1000):
  """The reference side, computed once per reference set: (features, k=3 radii, k=5 radii)."""
  real = jnp.asarray(real_features, jnp.float32)
  radii = knn_squared_radii(real, (precision_recall_k, density_coverage_k), block_size)
  return real, radii[0], radii[1]


def precision_recall_density_coverage(real_manifold_, fake_features, precision_recall_k=3,
                                      density_coverage_k=5, block_size=1000):
  """The four metrics of fake features [M, D] against a `real_manifold(...)`.

  Returns:
    {"precision", "recall", "density", "coverage"} as floats.
  """
  real, real_radii_pr, real_radii_dc = real_manifold_
  fake = jnp.asarray(fake_features, jnp.float32)
  fake_radii_pr = knn_squared_radii(fake, (precision_recall_k,), block_size)[0]
  in_real_manifold = _fake_side(real, real_radii_pr, fake, block_size)
  in_fake_manifold, fakes_in_ball, covered = _real_side(real, real_radii_dc, fake, fake_radii_pr,
                                                        block_size)
  in_real_manifold, in_fake_manifold, fakes_in_ball, covered = jax.device_get(
      (in_real_manifold, in_fake_manifold, fakes_in_ball, covered))
  return {
      "precision": float(np.mean(in_real_manifold)),
      "recall": float(np.mean(in_fake_manifold)),
      "density": float(np.sum(fakes_in_ball, dtype=np.int64)) / (
          density_coverage_k * len(in_real_manifold)),
      "coverage": float(np.mean(covered)),
  }
