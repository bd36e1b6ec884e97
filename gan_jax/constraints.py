"""Parameter constraints as optax transformations (chained after an optimizer).

WGAN weight clipping (Arjovsky et al., "Wasserstein GAN", 2017, Algorithm 1: after every
critic update, w <- clip(w, -c, c)) is the Euclidean projection of the updated parameters onto
the box [-c, c]^n (`optax.projections.projection_box`). As a `GradientTransformation` it
rewrites the incoming updates so that params + updates is that projection; the train step
stays a plain `tx.update` + `optax.apply_updates`, on one device or many.
"""

import jax
import jax.numpy as jnp
import optax
from optax import projections


def keep_params_in_box(lower, upper):
  """Updates such that `optax.apply_updates(params, updates)` lies in [lower, upper].

  Put it last in an `optax.chain`: it projects the parameters the preceding transformations
  would produce. The result is exact in floating point: where rounding in params + updates
  would land one ulp outside the box, the update is moved by one ulp towards the inside (a
  correction the sum's rounding can no longer undo, since the rounding error of the difference
  is at most half an ulp of it).

  Args:
    lower: scalar lower bound of every parameter.
    upper: scalar upper bound of every parameter.

  Returns:
    An `optax.GradientTransformation` with an empty state.
  """

  def init_fn(params):
    del params
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError("keep_params_in_box needs the current params: pass them to update().")

    def project(param, update):
      target = projections.projection_box(param + update, lower, upper)
      update = target - param
      landed = param + update
      update = jnp.where(landed > upper, jnp.nextafter(update, -jnp.inf), update)
      return jnp.where(landed < lower, jnp.nextafter(update, jnp.inf), update)

    return jax.tree_util.tree_map(project, params, updates), state

  return optax.GradientTransformation(init_fn, update_fn)


def clip_weights(limit):
  """WGAN's weight clipping: every parameter kept in [-limit, limit] (the paper's c = 0.01)."""
  return keep_params_in_box(-limit, limit)
