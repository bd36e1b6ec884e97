"""WGAN weight clipping as an optax transformation: the box holds exactly, in floating point."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import constraints

C = 0.01


def _apply(tx, params, grads, state=None):
  state = tx.init(params) if state is None else state
  updates, state = tx.update(grads, state, params)
  return optax.apply_updates(params, updates), state


def test_params_plus_updates_is_the_projection_onto_the_box():
  params = {"w": jnp.array([0.005, -0.004, 0.0, 0.009]), "b": jnp.array([-0.01])}
  updates = {"w": jnp.array([0.02, -0.001, 0.003, -0.05]), "b": jnp.array([-1.0])}
  new_params, state = jax.jit(_apply, static_argnums=0)(constraints.clip_weights(C), params,
                                                        updates)
  assert state == optax.EmptyState()
  np.testing.assert_allclose(new_params["w"], [0.01, -0.005, 0.003, -0.01], rtol=1e-6)
  assert float(new_params["b"][0]) == np.float32(-C)


def test_box_holds_exactly_for_many_random_params_and_updates():
  """A naive `clip(p + u) - p` update lands one ulp outside the box for ~0.4% of these values;
  every parameter must be inside [-c, c] after `optax.apply_updates`."""
  rng = np.random.default_rng(0)
  n = 200_000
  params = (rng.uniform(-C, C, n) * rng.choice([1.0, 1e-3, 1e-7], n)).astype(np.float32)
  tx = constraints.clip_weights(C)
  step = jax.jit(lambda p, u: _apply(tx, p, u)[0])
  naive_outside = 0
  for scale in (1e-6, 1e-3, 1e-2, 1.0):
    updates = rng.normal(0.0, scale, n).astype(np.float32)
    new_params = np.asarray(step(params, updates))
    assert np.all(np.abs(new_params) <= np.float32(C)), scale
    # Within one ulp of the exact projection, i.e. still the projection up to rounding.
    target = np.clip(params + updates, np.float32(-C), np.float32(C))
    assert np.max(np.abs(new_params - target)) <= 2 * np.spacing(np.float32(C))
    naive = params + (target - params)
    naive_outside += int(np.sum(np.abs(naive) > np.float32(C)))
  assert naive_outside > 0  # the correction is needed, not decoration


def test_chained_after_rmsprop_keeps_every_weight_in_the_box():
  tx = optax.chain(optax.rmsprop(0.05), constraints.clip_weights(C))
  params = {"w": jax.random.normal(jax.random.key(0), (64,))}  # starts far outside the box
  state = tx.init(params)
  step = jax.jit(lambda p, s, g: _apply(tx, p, g, s))
  for i in range(20):
    grads = {"w": jax.random.normal(jax.random.key(i + 1), (64,))}
    params, state = step(params, state, grads)
    assert float(jnp.max(jnp.abs(params["w"]))) <= np.float32(C)
  assert float(jnp.min(state[0][0].nu["w"])) > 0  # RMSProp's own state is kept and updated


def test_needs_params():
  tx = constraints.clip_weights(C)
  with pytest.raises(ValueError, match="needs the current params"):
    tx.update({"w": jnp.zeros(2)}, tx.init(None))
