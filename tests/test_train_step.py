"""The pure train step: real-data updates, data-parallel equivalence (shard_map and pmap)."""

import functools

import jax
import numpy as np
import optax
import pytest

from gan_jax import data_parallel, train_state, train_step
from gan_jax.models import mlp


def _state(seed=0, tx=None):
  tx = tx or optax.adam(2e-4, b1=0.5)
  return train_state.create_train_state(
      jax.random.key(seed), mlp.MLPGenerator(), mlp.MLPDiscriminator(), tx, tx, latent_dim=100,
      image_shape=(28, 28, 1))


# SGD passes float-rounding differences (summation order across devices) straight through:
# tight tolerance. Adam divides by sqrt(v), so a gradient that is ~0 up to rounding can move a
# weight by up to lr in either direction: tolerance of a few learning rates over 3 steps.
OPTIMIZERS = {"sgd": (optax.sgd(0.1), 1e-5), "adam": (optax.adam(2e-4, b1=0.5), 6e-4)}


def _real_batch(fashion_mnist, n, offset=0):
  return {"image": fashion_mnist.images[offset:offset + n].astype(np.float32) / 255.0}


def _assert_finite(tree):
  for leaf in jax.tree_util.tree_leaves(tree):
    assert np.all(np.isfinite(np.asarray(leaf)))


def test_one_step_on_real_images_changes_both_networks(fashion_mnist):
  state = _state()
  new_state, metrics = jax.jit(train_step.train_step)(
      state, _real_batch(fashion_mnist, 64), jax.random.key(1))
  assert int(new_state.step) == 1
  for name in ("generator", "discriminator"):
    before = jax.tree_util.tree_leaves(getattr(state, name).params)
    after = jax.tree_util.tree_leaves(getattr(new_state, name).params)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after)), name
  # The generator's BatchNorm statistics moved; the optimizer counted one update each.
  assert not np.allclose(state.generator.batch_stats["BatchNorm_0"]["mean"],
                         new_state.generator.batch_stats["BatchNorm_0"]["mean"])
  _assert_finite(new_state)
  _assert_finite(metrics)
  assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "fake_mean", "fake_std",
                          "real_mean", "real_std"}
  assert 0 < float(metrics["d_real"]) < 1 and 0 < float(metrics["d_fake"]) < 1
  np.testing.assert_allclose(float(metrics["real_mean"]),
                             fashion_mnist.images[:64].mean() / 255.0, rtol=1e-5)


def test_discriminator_learns_on_a_fixed_batch(fashion_mnist):
  """With G frozen at init, D(x) rises and D(G(z)) falls as D trains on one real batch."""
  state = _state()
  batch = _real_batch(fashion_mnist, 64)
  update = jax.jit(train_step.discriminator_update)
  metrics = []
  for i in range(30):
    state, m = update(state, batch["image"], jax.random.key(i))
    metrics.append(m)
  assert float(metrics[-1]["d_real"]) > float(metrics[0]["d_real"]) + 0.2
  assert float(metrics[-1]["d_fake"]) < float(metrics[0]["d_fake"]) - 0.2


@pytest.mark.parametrize("generator_loss", ["non_saturating", "minimax"])
def test_several_discriminator_steps_use_their_own_real_batches(fashion_mnist, generator_loss):
  state = _state()
  step = jax.jit(functools.partial(train_step.train_step, n_discriminator_steps=3,
                                   generator_loss=generator_loss))
  new_state, metrics = step(state, _real_batch(fashion_mnist, 3 * 16), jax.random.key(2))
  _assert_finite(new_state)
  # Adam's count: three discriminator updates, one generator update.
  assert int(new_state.discriminator.opt_state[0].count) == 3
  assert int(new_state.generator.opt_state[0].count) == 1
  # real_mean reports the last of the three real batches.
  np.testing.assert_allclose(float(metrics["real_mean"]),
                             fashion_mnist.images[32:48].mean() / 255.0, rtol=1e-5)


def _run_steps(step_fn, state, fashion_mnist, num_steps, put=lambda x: x):
  rng = jax.random.key(7)
  for i in range(num_steps):
    state, metrics = step_fn(state, put(_real_batch(fashion_mnist, 32, offset=32 * i)), rng)
  return state, metrics


def _assert_states_close(a, b, atol):
  for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=atol)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_two_devices_equal_one_device_shard_map(fashion_mnist, optimizer):
  assert jax.device_count() >= 2, "conftest simulates 2 CPU devices"
  tx, atol = OPTIMIZERS[optimizer]
  results = []
  for devices in (jax.devices()[:1], jax.devices()[:2]):
    mesh = data_parallel.create_mesh(devices)
    step_fn = data_parallel.parallelize_train_step(train_step.train_step, mesh)
    state = jax.device_put(_state(tx=tx), data_parallel.replicated(mesh))
    results.append(_run_steps(step_fn, state, fashion_mnist, 3,
                              lambda b: jax.device_put(b, data_parallel.batch_sharded(mesh))))
  (state_1, metrics_1), (state_2, metrics_2) = results
  _assert_states_close(state_1, state_2, atol)
  _assert_states_close(metrics_1, metrics_2, 1e-5)


def test_two_devices_equal_one_device_pmap(fashion_mnist):
  """The same per-device step under the classic pmap, on replicated state."""
  tx, atol = OPTIMIZERS["sgd"]
  reference, _ = _run_steps(jax.jit(train_step.train_step), _state(tx=tx), fashion_mnist, 3)
  step_fn = jax.pmap(functools.partial(train_step.train_step, axis_name="batch"),
                     axis_name="batch", in_axes=(0, 0, None), devices=jax.devices()[:2])

  def split(batch):
    return jax.tree_util.tree_map(lambda x: x.reshape((2, -1) + x.shape[1:]), batch)

  replicated = jax.tree_util.tree_map(lambda x: np.stack([x, x]), _state(tx=tx))
  state, _ = _run_steps(step_fn, replicated, fashion_mnist, 3, split)
  _assert_states_close(reference, jax.tree_util.tree_map(lambda x: x[0], state), atol)
  _assert_states_close(reference, jax.tree_util.tree_map(lambda x: x[1], state), atol)
