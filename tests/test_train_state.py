"""gan_jax.train_state: the EMA of the generator's weights (update math, where it lives)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import train_state
from gan_jax.models import mlp


def _state(ema_decay=None):
  return train_state.create_train_state(
      jax.random.key(0), mlp.MLPGenerator(image_shape=(4, 4, 1), hidden_features=(8,)),
      mlp.MLPDiscriminator(hidden_features=(8,)), optax.sgd(0.5), optax.sgd(0.5), latent_dim=4,
      image_shape=(4, 4, 1), ema_decay=ema_decay)


def test_ema_update_on_a_hand_computed_case():
  ema = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(-4.0)}
  params = {"w": jnp.array([3.0, 6.0]), "b": jnp.array(4.0)}
  # 0.75 * ema + 0.25 * params (exact in float32).
  new = train_state.ema_update(ema, params, 0.75)
  np.testing.assert_array_equal(np.asarray(new["w"]), [1.5, 3.0])
  np.testing.assert_array_equal(np.asarray(new["b"]), -2.0)


def test_ema_starts_at_the_initial_weights_and_follows_each_generator_update():
  state = _state(ema_decay=0.9)
  generator = state.generator
  assert generator.ema_decay == 0.9
  for ema, param in zip(jax.tree_util.tree_leaves(generator.ema_params),
                        jax.tree_util.tree_leaves(generator.params)):
    np.testing.assert_array_equal(np.asarray(ema), np.asarray(param))
  grads = jax.tree_util.tree_map(jnp.ones_like, generator.params)
  updated = generator.apply_gradients(grads)  # SGD(0.5): params - 0.5
  for ema, param in zip(jax.tree_util.tree_leaves(updated.ema_params),
                        jax.tree_util.tree_leaves(generator.params)):
    np.testing.assert_allclose(np.asarray(ema), np.asarray(param) - 0.1 * 0.5, atol=1e-6)
  # Only the generator keeps one.
  assert state.discriminator.ema_params is None


def test_without_ema_the_state_has_no_ema_leaves():
  with_ema, without = _state(ema_decay=0.999), _state()
  assert without.generator.ema_params is None and without.generator.ema_decay is None
  num_params = len(jax.tree_util.tree_leaves(without.generator.params))
  assert (len(jax.tree_util.tree_leaves(with_ema)) - len(jax.tree_util.tree_leaves(without))
          == num_params)
  # 0 means off as well.
  assert _state(ema_decay=0.0).generator.ema_params is None


def test_inference_variables_hold_the_ema_and_the_live_batch_norm_statistics():
  state = _state(ema_decay=0.5)
  generator = state.generator.replace(
      ema_params=jax.tree_util.tree_map(lambda p: p + 1.0, state.generator.params))
  variables = generator.inference_variables()
  assert variables["params"] is generator.ema_params
  assert variables["batch_stats"] is generator.batch_stats
  assert state.discriminator.inference_variables()["params"] is state.discriminator.params
