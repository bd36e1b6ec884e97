"""The generator's latent space: latents addressed by (seed, index), paths and arithmetic.

Latents are addressed by (seed, index): sample `i` of seed `s` always has the latent
`latents(s, [i])`, whatever the batch size or number of samples drawn. `gan_jax.sampling`
applies a trained generator to them; everything here is plain `jnp` on latent vectors.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import UserError

INTERPOLATIONS = ("linear", "slerp")
# The generator's prior p(z) (`config.model.latent_distribution`): "normal" N(0, I) (the
# articles, Radford et al.) or "uniform" U(-1, 1) per coordinate (DCGAN-tensorflow, the code of
# PacGAN's and VEEGAN's Stacked MNIST experiments).
LATENT_DISTRIBUTIONS = ("normal", "uniform")


def draw(key, shape, distribution="normal"):
  """float32 latents of `shape` from the prior `distribution` (one of LATENT_DISTRIBUTIONS)."""
  if distribution == "normal":
    return jax.random.normal(key, shape, jnp.float32)
  if distribution == "uniform":
    return jax.random.uniform(key, shape, jnp.float32, -1.0, 1.0)
  raise ValueError(f"Unknown latent distribution {distribution!r}; expected one of "
                   f"{LATENT_DISTRIBUTIONS}.")


@functools.partial(jax.jit, static_argnums=(2, 3))
def _latents(key, indices, latent_dim, distribution):
  return jax.vmap(lambda i: draw(jax.random.fold_in(key, i), (latent_dim,), distribution))(
      indices)


def latents(seed, indices, latent_dim, distribution="normal"):
  """Latents [len(indices), latent_dim] of samples `indices` of `seed`, from the prior
  `distribution` (the generator's `latent_distribution`).

  Each sample's latent depends only on (seed, index): the first 64 latents of 10,000 are the
  64 latents of a 64-image grid, and batching does not change them.

  Args:
    seed: integer seed.
    indices: sample indices (a sequence of non-negative ints), or an int n for 0..n-1.
    latent_dim: size of z.
    distribution: one of LATENT_DISTRIBUTIONS.
  """
  if isinstance(indices, (int, np.integer)):
    indices = np.arange(indices)
  indices = np.asarray(indices, np.uint32)
  return _latents(jax.random.key(seed), jnp.asarray(indices), latent_dim, distribution)


def lerp(z0, z1, t):
  """Straight line from z0 (t=0) to z1 (t=1); t is a scalar or a vector of positions."""
  t = jnp.asarray(t, jnp.float32)[..., None]
  return (1.0 - t) * z0 + t * z1


def slerp(z0, z1, t):
  """Spherical interpolation (Shoemake 1985; for GAN latents: White, "Sampling Generative
  Networks", 2016): along the great circle between the directions of z0 and z1.

  A straight line between two Gaussian latents passes near the origin, where latents almost
  never lie (their norm concentrates around sqrt(latent_dim)); the arc keeps the norm constant
  when |z0| = |z1|. Nearly parallel endpoints fall back to the straight line.
  """
  t = jnp.asarray(t, jnp.float32)[..., None]
  z0, z1 = jnp.asarray(z0, jnp.float32), jnp.asarray(z1, jnp.float32)
  cos = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
  omega = jnp.arccos(jnp.clip(cos, -1.0, 1.0))
  sin = jnp.sin(omega)
  parallel = sin < 1e-6
  safe_sin = jnp.where(parallel, 1.0, sin)
  arc = (jnp.sin((1.0 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / safe_sin
  return jnp.where(parallel, (1.0 - t) * z0 + t * z1, arc)


def interpolate(z0, z1, num_steps, method="slerp"):
  """Latents [num_steps, latent_dim] from z0 to z1 (both included), evenly spaced in t."""
  if method not in INTERPOLATIONS:
    raise UserError(f"Interpolation method {method!r} is invalid: choose one of "
                    f"{INTERPOLATIONS}.")
  if num_steps < 2:
    raise UserError(f"An interpolation needs at least 2 steps; got {num_steps}.")
  t = jnp.linspace(0.0, 1.0, num_steps)
  return (slerp if method == "slerp" else lerp)(z0, z1, t)


# Latent arithmetic.

def latent_arithmetic(terms):
  """Sum of signed term means: [(+1, za), (-1, zb), (+1, zc)] -> mean(za) - mean(zb) + mean(zc).

  Each term is a [k, latent_dim] array of the latents of chosen samples; averaging several
  exemplars of a concept before adding and subtracting gives a steadier result than single
  samples (Radford et al., "Unsupervised Representation Learning with Deep Convolutional
  Generative Adversarial Networks", 2015, which averaged three).
  """
  if not terms:
    raise UserError("Latent arithmetic needs at least one term.")
  return sum(sign * jnp.mean(jnp.asarray(z, jnp.float32), axis=0) for sign, z in terms)


def variations(z, num, noise=0.25, seed=0):
  """`num` latents near z: z itself, then z plus uniform noise in [-noise, noise] per coordinate
  (how Radford et al. 2015 showed the neighbourhood of an arithmetic result)."""
  offsets = jax.random.uniform(jax.random.key(seed), (num - 1, z.shape[-1]), jnp.float32,
                               -noise, noise)
  return jnp.concatenate([z[None], z[None] + offsets])
