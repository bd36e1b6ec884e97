"""The pure train step: real-data updates, data-parallel equivalence (shard_map and pmap), the
DCGAN/WGAN variants (losses, weight clipping, gradient penalty, spectral norm), every config."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import dcgan64, dcgan_fashion_mnist, dcgan_mnist, dcgan_rps, mlp_fashion_mnist
from configs import stacked_mnist, wgan_fashion_mnist, wgan_food101
from gan_jax import constraints, data_parallel, losses, train, train_state
from gan_jax import objectives, train_step
from gan_jax.train_step import StepOptions
from gan_jax.models import mlp, registry


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
  options = StepOptions(n_discriminator_steps=3, generator_loss=generator_loss)
  step = jax.jit(functools.partial(train_step.train_step, options=options))
  new_state, metrics = step(state, _real_batch(fashion_mnist, 3 * 16), jax.random.key(2))
  _assert_finite(new_state)
  # Adam's count: three discriminator updates, one generator update.
  assert int(new_state.discriminator.opt_state[0].count) == 3
  assert int(new_state.generator.opt_state[0].count) == 1
  # real_mean reports the last of the three real batches: rows 2, 5, 8, ... of the batch.
  np.testing.assert_allclose(float(metrics["real_mean"]),
                             fashion_mnist.images[2:48:3].mean() / 255.0, rtol=1e-5)


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


# ---------------------------------------------------------------------------------------------
# DCGAN and WGAN: the same step with convolutional models, other losses, clipping, penalties.

TINY_SHAPE = (8, 8, 1)


def _tiny_dcgan(tx=None, discriminator_tx=None, **model_overrides):
  """A 2-layer DCGAN on 8x8x1 images (G: 2x2 -> 4 -> 8), built like the configs build theirs."""
  config = dcgan_fashion_mnist.get_config()
  config.model.latent_dim = 8
  config.model.generator_features = (6, 4)
  config.model.discriminator_features = (4, 6)
  config.model.generator_kernel_sizes = (3, 3)
  config.model.discriminator_kernel_sizes = (3, 3)
  config.model.dropout_rate = 0.0
  config.model.update(model_overrides)
  generator, discriminator = registry.create_models(config.model, TINY_SHAPE)
  tx = tx or optax.sgd(0.1)
  return train_state.create_train_state(
      jax.random.key(0), generator, discriminator, tx, discriminator_tx or tx,
      latent_dim=config.model.latent_dim, image_shape=TINY_SHAPE)


def _synthetic_batch(num, shape=TINY_SHAPE, seed=0):
  return {"image": jax.random.uniform(jax.random.key(seed), (num, *shape), minval=-1.0,
                                      maxval=1.0)}


def _run_on(devices, step_fn, state, num_steps, batch_size, check=None, batch_fn=None):
  """num_steps parallel steps over `devices` on fixed batches `batch_fn(batch_size, seed=i)`
  (default: synthetic images); returns (state, metrics)."""
  batch_fn = batch_fn or _synthetic_batch
  mesh = data_parallel.create_mesh(devices)
  # Not donated: the caller runs the same initial state on other devices too.
  step = data_parallel.parallelize_train_step(step_fn, mesh, donate_state=False)
  state = jax.device_put(state, data_parallel.replicated(mesh))
  for i in range(num_steps):
    batch = jax.device_put(batch_fn(batch_size, seed=i), data_parallel.batch_sharded(mesh))
    state, metrics = step(state, batch, jax.random.key(3))
    if check is not None:
      check(state)
  return state, metrics


def test_critic_weights_stay_in_the_box_after_every_step_on_one_and_two_devices():
  """WGAN with weight clipping: 8 steps x 5 critic updates, the bound checked after each step."""
  c = 0.01
  step_fn = functools.partial(train_step.train_step,
                              options=StepOptions(loss="wasserstein", n_discriminator_steps=5))
  at_bound = []

  def check(state):
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(state.discriminator.params)]
    assert max(float(np.abs(x).max()) for x in leaves) <= np.float32(c)
    at_bound.append(np.mean(np.concatenate([np.abs(x).ravel() for x in leaves]) ==
                            np.float32(c)))

  for devices in (jax.devices()[:1], jax.devices()[:2]):
    # lr 1e-3 moves weights past the box in a few updates; RMSProp as in the paper.
    critic_tx = optax.chain(optax.rmsprop(1e-3, decay=0.99), constraints.clip_weights(c))
    state = _tiny_dcgan(tx=optax.rmsprop(1e-3), discriminator_tx=critic_tx,
                        discriminator_batch_norm=True)
    state, metrics = _run_on(devices, step_fn, state, 8, 5 * 8, check)
    assert int(state.discriminator.opt_state[0][0].nu["Conv_0"]["kernel"].size) > 0
    assert np.isfinite(float(metrics["critic_loss"]))
  # The constraint is active: after every step several percent of the critic's weights sit
  # exactly on the bound (6-18% here), which unclipped float weights essentially never do.
  assert min(at_bound) > 0.03, at_bound


def test_dcgan_with_batch_norm_two_devices_equal_one_device():
  """BatchNorm in G and D computes global-batch statistics over the device axis."""
  state = _tiny_dcgan(discriminator_batch_norm=True)
  assert state.discriminator.batch_stats  # D really has BatchNorm statistics to sync
  results = [_run_on(devices, train_step.train_step, state, 3, 8)
             for devices in (jax.devices()[:1], jax.devices()[:2])]
  (state_1, metrics_1), (state_2, metrics_2) = results
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)


def test_wgan_gp_two_devices_equal_one_device():
  """Per-example gradient norms on each device's shard, then the mean over devices."""
  step_fn = functools.partial(train_step.train_step, options=StepOptions(loss="wasserstein",
                              gradient_penalty_weight=10.0, n_discriminator_steps=2))
  state = _tiny_dcgan(tx=optax.sgd(0.01))
  results = [_run_on(devices, step_fn, state, 3, 2 * 8)
             for devices in (jax.devices()[:1], jax.devices()[:2])]
  (state_1, metrics_1), (state_2, metrics_2) = results
  assert float(metrics_1["gradient_penalty"]) > 0
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)


@pytest.mark.parametrize("loss", losses.LOSSES)
def test_every_loss_takes_a_finite_step(loss):
  step = jax.jit(functools.partial(train_step.train_step, options=StepOptions(loss=loss)))
  state, metrics = step(_tiny_dcgan(), _synthetic_batch(8), jax.random.key(0))
  _assert_finite(state)
  _assert_finite(metrics)
  if loss == "bce":
    assert 0 < float(metrics["d_real"]) < 1
  if loss == "wasserstein":
    # The logged -W estimate is E[D(G(z))] - E[D(x)] of this update's critic outputs.
    assert float(metrics["critic_loss"]) == pytest.approx(
        float(metrics["d_fake"]) - float(metrics["d_real"]), abs=1e-6)
    assert float(metrics["critic_loss"]) == pytest.approx(float(metrics["d_loss"]), abs=1e-6)
  else:
    assert "critic_loss" not in metrics


def test_spectral_norm_vectors_are_carried_by_the_state():
  state = _tiny_dcgan(spectral_norm=True)
  before = state.discriminator.batch_stats
  assert "SpectralNorm_0" in before
  new_state, _ = jax.jit(train_step.train_step)(state, _synthetic_batch(8), jax.random.key(0))
  u_before = before["SpectralNorm_0"]["Conv_0/kernel/u"]
  u_after = new_state.discriminator.batch_stats["SpectralNorm_0"]["Conv_0/kernel/u"]
  assert not np.allclose(u_before, u_after)  # one power iteration per D update
  np.testing.assert_allclose(np.linalg.norm(u_after), 1.0, rtol=1e-5)


@pytest.mark.parametrize("penalty", [dict(loss="wasserstein", gradient_penalty_weight=10.0),
                                     dict(r1_gamma=1.0), dict(r2_gamma=1.0)])
def test_gradient_penalties_refuse_a_batch_norm_critic(penalty):
  with pytest.raises(ValueError, match="without BatchNorm"):
    train_step.train_step(_tiny_dcgan(discriminator_batch_norm=True), _synthetic_batch(8),
                          jax.random.key(0), StepOptions(**penalty))


# R1 and R2: the step against a hand-written D update, eager and lazy.


@jax.jit
def _reference_discriminator_update(state, real, rng, r1_gamma, r2_gamma):
  """`discriminator_update` of the tiny DCGAN (no BatchNorm, no dropout, SGD 0.1) by hand: the
  same generated batch, BCE + r1_gamma/2 E‖∇D(x)‖² + r2_gamma/2 E‖∇D(G(z))‖²; returns (new D
  parameters, R1, R2)."""
  latent_rng, _ = jax.random.split(rng)
  z = train_step.sample_latents(latent_rng, real.shape[0], state.latent_dim)
  fake, _ = state.generator.module.apply(state.generator.variables(), z, train=True,
                                         mutable=["batch_stats"])
  d = lambda params, x: state.discriminator.module.apply({"params": params}, x, train=True)

  def penalty(params, x):
    grads = jax.grad(lambda images: jnp.sum(d(params, images)))(x)
    return jnp.mean(jnp.sum(jnp.square(grads), axis=(1, 2, 3)))

  def loss(params):
    bce = (jnp.mean(jax.nn.softplus(-d(params, real)))
           + jnp.mean(jax.nn.softplus(d(params, fake))))
    return bce + r1_gamma / 2 * penalty(params, real) + r2_gamma / 2 * penalty(params, fake)

  params = state.discriminator.params
  new_params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, jax.grad(loss)(params))
  return new_params, penalty(params, real), penalty(params, fake)


def test_r1_and_r2_in_the_discriminator_update_equal_hand_computed_gradient_norms():
  state, real, rng = _tiny_dcgan(), _synthetic_batch(8)["image"], jax.random.key(4)
  new_state, metrics = jax.jit(functools.partial(
      train_step.discriminator_update, options=StepOptions(r1_gamma=2.0, r2_gamma=1.0)))(
          state, real, rng)
  expected_params, r1, r2 = _reference_discriminator_update(state, real, rng, 2.0, 1.0)
  assert float(r1) > 0 and float(r2) > 0
  assert float(metrics["r1_penalty"]) == pytest.approx(float(r1), rel=1e-5)
  assert float(metrics["r2_penalty"]) == pytest.approx(float(r2), rel=1e-5)
  _assert_states_close(new_state.discriminator.params, expected_params, 1e-6)


def test_lazy_r1_with_interval_1_is_eager_r1_and_with_k_is_k_times_r1_every_kth_step():
  state, real, rng = _tiny_dcgan(), _synthetic_batch(8)["image"], jax.random.key(4)

  def update(interval, step):
    options = StepOptions(r1_gamma=2.0, regularization_interval=interval)
    return jax.jit(functools.partial(train_step.discriminator_update, options=options))(
        state.replace(step=jnp.asarray(step, jnp.int32)), real, rng)

  eager, r1, _ = _reference_discriminator_update(state, real, rng, 2.0, 0.0)
  lazy, metrics = update(1, 5)
  _assert_states_close(lazy.discriminator.params, eager, 1e-6)
  assert float(metrics["r1_penalty"]) == pytest.approx(float(r1), rel=1e-5)
  # k = 3: steps 0, 3, 6, ... take 3 * R1 (gamma 6 for that step); the others none.
  tripled, _, _ = _reference_discriminator_update(state, real, rng, 6.0, 0.0)
  lazy, metrics = update(3, 3)
  _assert_states_close(lazy.discriminator.params, tripled, 1e-6)
  assert float(metrics["r1_penalty"]) == pytest.approx(3 * float(r1), rel=1e-5)
  plain, _, _ = _reference_discriminator_update(state, real, rng, 0.0, 0.0)
  lazy, metrics = update(3, 4)
  _assert_states_close(lazy.discriminator.params, plain, 1e-6)
  assert float(metrics["r1_penalty"]) == 0.0


def test_lazy_r1_and_r2_two_devices_equal_one_device():
  """Per-example input gradients on each device's shard, averaged over the devices; the lazy
  interval counts the same steps everywhere."""
  step_fn = functools.partial(train_step.train_step, options=StepOptions(
      loss="hinge", r1_gamma=1.0, r2_gamma=0.5, regularization_interval=2))
  state = _tiny_dcgan(tx=optax.sgd(0.01))
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_on(devices, step_fn, state, 3, 8) for devices in (jax.devices()[:1], jax.devices()[:2]))
  assert float(metrics_1["r1_penalty"]) > 0 and float(metrics_1["r2_penalty"]) > 0  # step 2
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)


def _shrunk(config, width=4):
  """The config's layer structure with every width set to `width`, and batch size 2."""
  model = config.model
  for field in ("generator_features", "discriminator_features", "discriminator_hidden_features"):
    model[field] = (width,) * len(model[field])
  model.latent_dim = 8
  config.batch_size = 2
  return config


CONFIGS = {
    "dcgan_fashion_mnist": (dcgan_fashion_mnist, (28, 28, 1)),
    "dcgan64": (dcgan64, (64, 64, 3)),
    "dcgan_rps": (dcgan_rps, (300, 300, 3)),
    "wgan_fashion_mnist": (wgan_fashion_mnist, (28, 28, 1)),
    "wgan_food101": (wgan_food101, (64, 64, 3)),
    "stacked_mnist": (stacked_mnist, (28, 28, 3)),
}


def test_dcgan_mnist_trains_the_fashion_mnist_networks():
  """So the Fashion-MNIST step below covers it."""
  mnist, fashion = dcgan_mnist.get_config(), dcgan_fashion_mnist.get_config()
  assert mnist.data.name == "mnist"
  mnist.data.name = fashion.data.name
  assert mnist.to_dict() == fashion.to_dict()


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.slow] if name == "dcgan_rps" else [])
    for name in sorted(CONFIGS)])
def test_one_step_of_each_config_is_finite(name):
  """Each config's networks (tiny widths), optimizers, loss and n_critic on a synthetic batch."""
  module, image_shape = CONFIGS[name]
  config = _shrunk(module.get_config())
  assert config.data.get("image_size") in (None, image_shape[0])
  state = train_state.state_from_config(config, image_shape, jax.random.key(0))
  step = jax.jit(functools.partial(train_step.train_step,
                                   options=StepOptions.from_config(config)))
  low, high = config.data.value_range
  batch = {"image": jax.random.uniform(
      jax.random.key(1), (config.batch_size * config.n_discriminator_steps, *image_shape),
      minval=low, maxval=high)}
  new_state, metrics = step(state, batch, jax.random.key(2))
  _assert_finite(new_state)
  _assert_finite(metrics)
  assert int(new_state.step) == 1
  if config.discriminator_weight_clip is not None:
    for leaf in jax.tree_util.tree_leaves(new_state.discriminator.params):
      assert float(jnp.abs(leaf).max()) <= np.float32(config.discriminator_weight_clip)


def test_batch_norm_critic_sees_generated_images_as_a_batch_of_their_own():
  """D's update calls D on real and generated images separately (DCGAN/WGAN reference code), so
  its output on G(z) is what G's update will see, not a mix with the real batch's statistics."""
  state = _tiny_dcgan(discriminator_batch_norm=True)
  real = _synthetic_batch(8)["image"]
  rng = jax.random.key(4)
  _, metrics = jax.jit(functools.partial(train_step.discriminator_update,
                                         options=StepOptions(loss="wasserstein")))(state, real, rng)
  # The same generated batch, rebuilt from the update's key, through D alone in training mode.
  latent_rng, _ = jax.random.split(rng)
  z = train_step.sample_latents(latent_rng, 8, state.latent_dim)
  fake, _ = state.generator.module.apply(state.generator.variables(), z, train=True,
                                         mutable=["batch_stats"])
  d = state.discriminator
  alone, _ = d.module.apply(d.variables(), fake, train=True, mutable=["batch_stats"])
  mixed, _ = d.module.apply(d.variables(), jnp.concatenate([real, fake]), train=True,
                            mutable=["batch_stats"])
  np.testing.assert_allclose(float(metrics["d_fake"]), float(jnp.mean(alone)), rtol=1e-4)
  assert not np.allclose(mixed[8:], alone, rtol=0.05)  # a mixed batch would give other values


# ---------------------------------------------------------------------------------------------
# Speed: bfloat16 compute and several steps per jitted call.


def _tiny_state(model, dtype, seed=0, tx=None):
  """Tiny MLP or BatchNorm DCGAN (8x8x1) computing in `dtype`, built like train.build_state."""
  config = (dcgan_fashion_mnist if model == "dcgan" else mlp_fashion_mnist).get_config()
  config.model.latent_dim = 8
  if model == "dcgan":
    config.model.update(generator_features=(6, 4), discriminator_features=(4, 6),
                        generator_kernel_sizes=(3, 3), discriminator_kernel_sizes=(3, 3),
                        dropout_rate=0.0, discriminator_batch_norm=True)
  else:
    config.model.update(generator_features=(16, 32), discriminator_features=(32, 16))
  generator, discriminator = registry.create_models(config.model, TINY_SHAPE, dtype=dtype)
  tx = tx or optax.adam(2e-4, b1=0.5)
  return train_state.create_train_state(
      jax.random.key(seed), generator, discriminator, tx, tx,
      latent_dim=config.model.latent_dim, image_shape=TINY_SHAPE)


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_bfloat16_step_is_finite_float32_where_it_matters_and_close_to_float32(model):
  batch = _synthetic_batch(16)
  if model == "mlp":
    batch = {"image": (batch["image"] + 1.0) / 2.0}
  # SGD, so each weight's change is its gradient (Adam's first step is ~lr * sign(gradient), and
  # gradients that are ~0 flip sign under any rounding).
  initial = _tiny_state(model, "float32", tx=optax.sgd(0.1))
  results = {}
  for dtype in ("float32", "bfloat16"):
    results[dtype] = jax.jit(train_step.train_step)(
        _tiny_state(model, dtype, tx=optax.sgd(0.1)), batch, jax.random.key(1))
  state, metrics = results["bfloat16"]
  _assert_finite((state, metrics))
  # Parameters, optimizer states, BatchNorm statistics and losses stay float32.
  for leaf in jax.tree_util.tree_leaves((state, metrics)):
    assert leaf.dtype in (jnp.float32, jnp.int32), leaf.dtype
  reference_state, reference_metrics = results["float32"]
  # bf16 keeps 8 bits of mantissa (~0.4% per rounding): losses agree to ~1e-2, and each
  # network's update (its gradient, all parameters as one vector) to within ~20% of its size.
  # (Per layer the error can be much larger: a conv bias before BatchNorm has gradient ~0.)
  for name in ("d_loss", "g_loss", "d_real", "d_fake", "fake_mean"):
    np.testing.assert_allclose(float(metrics[name]), float(reference_metrics[name]), rtol=3e-2,
                               atol=1e-2, err_msg=name)
  for name in ("generator", "discriminator"):
    update_bf16, update_fp32 = (
        np.concatenate([np.ravel(after - before) for before, after in zip(
            jax.tree_util.tree_leaves(getattr(initial, name).params),
            jax.tree_util.tree_leaves(getattr(s, name).params))])
        for s in (state, reference_state))
    error = np.linalg.norm(update_bf16 - update_fp32) / np.linalg.norm(update_fp32)
    assert error < 0.2, (name, error)
  # ... and bf16 did compute in bf16: the numbers are not the float32 ones.
  assert float(metrics["d_loss"]) != float(reference_metrics["d_loss"])


def test_steps_per_dispatch_equals_single_steps_on_two_devices():
  """k steps in one scanned call = k single calls: same states and per-step metrics.

  Not bitwise: XLA fuses the loop body differently, ~1 ulp apart after 3 steps (a run resumed
  with the same steps_per_dispatch repeats the same calls, so resume stays bitwise).
  """
  k = 3
  mesh = data_parallel.create_mesh(jax.devices()[:2])
  single = data_parallel.parallelize_train_step(train_step.train_step, mesh)
  multi = data_parallel.parallelize_train_step(train_step.train_step, mesh, multi_step=True)
  batches = [{"image": (_synthetic_batch(16, seed=i)["image"] + 1) / 2} for i in range(k)]
  rng = jax.random.key(3)

  state = jax.device_put(_tiny_state("mlp", "float32"), data_parallel.replicated(mesh))
  single_metrics = []
  for batch in batches:
    state, metrics = single(state, jax.device_put(batch, data_parallel.batch_sharded(mesh)), rng)
    single_metrics.append(metrics)

  stacked = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *batches)
  multi_state = jax.device_put(_tiny_state("mlp", "float32"), data_parallel.replicated(mesh))
  multi_state, multi_metrics = multi(
      multi_state, jax.device_put(stacked, data_parallel.batch_sharded(mesh, multi_step=True)), rng)

  assert int(multi_state.step) == int(state.step) == k
  _assert_states_close(multi_state, state, 1e-6)
  for i, metrics in enumerate(single_metrics):
    _assert_states_close({name: multi_metrics[name][i] for name in metrics}, metrics, 1e-6)


def test_donated_state_is_deleted_by_the_parallel_step():
  """The loop must continue from the returned state: the one passed in no longer exists."""
  mesh = data_parallel.create_mesh(jax.devices()[:2])
  step = data_parallel.parallelize_train_step(train_step.train_step, mesh)
  state = jax.device_put(_tiny_state("mlp", "float32"), data_parallel.replicated(mesh))
  batch = jax.device_put({"image": (_synthetic_batch(16)["image"] + 1) / 2},
                         data_parallel.batch_sharded(mesh))
  new_state, _ = step(state, batch, jax.random.key(0))
  assert all(leaf.is_deleted() for leaf in jax.tree_util.tree_leaves(state.generator.params))
  assert not any(leaf.is_deleted() for leaf in jax.tree_util.tree_leaves(new_state))


def test_shared_generator_forward_two_devices_equal_one_device_and_differ_from_two_forwards():
  step_fn = functools.partial(train_step.train_step,
                              options=StepOptions(update_order="shared_forward"))
  state = _tiny_state("mlp", "float32", tx=optax.sgd(0.1))
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_on(devices, step_fn, state, 1, 16) for devices in (jax.devices()[:1], jax.devices()[:2]))
  _assert_finite((state_1, metrics_1))
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)
  separate, _ = _run_on(jax.devices()[:1], train_step.train_step, state, 1, 16)
  assert not np.allclose(separate.generator.params["Dense_0"]["kernel"],
                         state_1.generator.params["Dense_0"]["kernel"])
  with pytest.raises(ValueError, match="n_discriminator_steps=1"):
    StepOptions(update_order="shared_forward", n_discriminator_steps=2)


# ---------------------------------------------------------------------------------------------
# Class-conditional networks and the EMA of the generator's weights.

NUM_CLASSES = 3


def _tiny_mlp_state(num_classes=0, ema_decay=None, tx=None, pack=1):
  generator, discriminator = mlp.MLPGenerator(image_shape=TINY_SHAPE, hidden_features=(8,)), (
      mlp.MLPDiscriminator(hidden_features=(8,)))
  if num_classes:
    generator = generator.clone(num_classes=num_classes, label_features=4)
    discriminator = discriminator.clone(num_classes=num_classes)
  tx = tx or optax.adam(1e-2)
  return train_state.create_train_state(
      jax.random.key(0), generator, discriminator, tx, tx, latent_dim=4, image_shape=TINY_SHAPE,
      ema_decay=ema_decay, pack=pack)


def _labelled_batch(num, seed=0):
  images = jax.random.uniform(jax.random.key(seed), (num, *TINY_SHAPE))
  return {"image": images,
          "label": jax.random.randint(jax.random.key(seed + 100), (num,), 0, NUM_CLASSES)}


def test_conditional_step_trains_every_parameter_including_the_label_embeddings():
  state = _tiny_mlp_state(NUM_CLASSES)
  new_state, metrics = jax.jit(train_step.train_step)(state, _labelled_batch(16),
                                                       jax.random.key(1))
  _assert_finite(metrics)
  assert "label_embedding" in state.generator.params
  assert "label_projection" in state.discriminator.params
  for name in ("generator", "discriminator"):
    before = jax.tree_util.tree_leaves(getattr(state, name).params)
    after = jax.tree_util.tree_leaves(getattr(new_state, name).params)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after)), name
  # The real labels reach D: other labels for the same images give another update.
  other = {**_labelled_batch(16), "label": (_labelled_batch(16)["label"] + 1) % NUM_CLASSES}
  other_state, _ = jax.jit(train_step.train_step)(state, other, jax.random.key(1))
  assert not np.array_equal(
      np.asarray(new_state.discriminator.params["label_projection"]["embedding"]),
      np.asarray(other_state.discriminator.params["label_projection"]["embedding"]))


def test_sampled_labels_are_one_global_draw():
  rng = jax.random.key(5)
  labels = train_step.sample_labels(rng, 8, NUM_CLASSES)
  assert labels.dtype == jnp.int32 and set(np.asarray(labels)) <= set(range(NUM_CLASSES))
  halves = jax.vmap(lambda _: train_step.sample_labels(rng, 4, NUM_CLASSES, axis_name="d"),
                    axis_name="d")(jnp.arange(2))
  np.testing.assert_array_equal(np.asarray(halves).ravel(), np.asarray(labels))


def _run_labelled(devices, step_fn, state):
  """3 parallel steps on labelled batches of 8 (`_run_on`)."""
  return _run_on(devices, step_fn, state, 3, 8, batch_fn=_labelled_batch)


def test_conditional_and_ema_two_devices_equal_one_device():
  state = _tiny_mlp_state(NUM_CLASSES, ema_decay=0.5, tx=optax.sgd(0.1))
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_labelled(devices, train_step.train_step, state)
      for devices in (jax.devices()[:1], jax.devices()[:2]))
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)


@pytest.mark.parametrize("variant", ["conditional_ema", "pack"])
def test_shared_generator_forward_with_labels_ema_or_packing(variant):
  """update_order="shared_forward" composes with conditional networks + EMA and with packing:
  every parameter (label embeddings too) trains, and 2 devices compute what 1 device does."""
  pack = 2 if variant == "pack" else 1
  state = (_tiny_mlp_state(NUM_CLASSES, ema_decay=0.5, tx=optax.sgd(0.1)) if pack == 1 else
           _tiny_mlp_state(tx=optax.sgd(0.1), pack=pack))
  step_fn = functools.partial(train_step.train_step,
                              options=StepOptions(update_order="shared_forward", pack=pack))
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_labelled(devices, step_fn, state) for devices in (jax.devices()[:1], jax.devices()[:2]))
  _assert_finite((state_1, metrics_1))
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)
  for name in ("generator", "discriminator"):
    before = jax.tree_util.tree_leaves(getattr(state, name).params)
    after = jax.tree_util.tree_leaves(getattr(state_1, name).params)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after)), name
  if variant == "conditional_ema":
    assert "label_embedding" in state_1.generator.params
    assert not np.array_equal(np.asarray(state_1.generator.ema_params["Dense_0"]["kernel"]),
                              np.asarray(state_1.generator.params["Dense_0"]["kernel"]))


def test_ema_does_not_change_training_and_averages_the_generator():
  """The same steps with and without an EMA train the same networks; the EMA after two steps is
  decay^2 * init + (1 - decay) * (decay * p1 + p2)."""
  decay = 0.5
  step = jax.jit(train_step.train_step)
  states = {}
  for ema_decay in (None, decay):
    state = _tiny_mlp_state(ema_decay=ema_decay)
    history = [state.generator.params]
    for i in range(2):
      state, _ = step(state, {"image": _labelled_batch(16, seed=i)["image"]}, jax.random.key(1))
      history.append(state.generator.params)
    states[ema_decay] = (state, history)
  (plain, _), (averaged, history) = states[None], states[decay]
  assert plain.generator.ema_params is None
  for x, y in zip(jax.tree_util.tree_leaves((plain.generator.params, plain.discriminator)),
                  jax.tree_util.tree_leaves((averaged.generator.params,
                                             averaged.discriminator))):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  expected = jax.tree_util.tree_map(
      lambda p0, p1, p2: decay**2 * p0 + (1 - decay) * (decay * p1 + p2), *history)
  _assert_states_close(averaged.generator.ema_params, expected, 1e-6)


# ---------------------------------------------------------------------------------------------
# PacGAN's code: simultaneous updates, G once per pack slot.

def _tiny_points_state(pack=1, tx=None):
  """PacGAN's 2-D networks at small widths: G Linear (no bias) -> BN -> ReLU, D maxout."""
  generator = mlp.MLPGenerator(image_shape=(2,), hidden_features=(8, 8), activation="relu",
                               output_activation="linear", batch_norm_after_activation=False,
                               hidden_bias=False, batch_norm_momentum=0.95,
                               batch_norm_epsilon=1e-4, init_std=0.5)
  discriminator = mlp.MLPDiscriminator(hidden_features=(6, 6), maxout_pieces=3, init_std=0.5)
  tx = tx or optax.sgd(0.1)
  return train_state.create_train_state(jax.random.key(0), generator, discriminator, tx, tx,
                                        latent_dim=2, image_shape=(2,), pack=pack)


def _points_batch(num, seed=0):
  return {"image": jax.random.normal(jax.random.key(seed), (num, 2)) * 2.0}


def test_simultaneous_updates_equal_a_hand_written_reference():
  """Both players' gradients from one forward on the old parameters, applied together."""
  state = _tiny_points_state(pack=2)
  real = _points_batch(8)["image"]
  rng = jax.random.key(4)
  new_state, metrics = jax.jit(functools.partial(
      train_step.simultaneous_updates, options=StepOptions(pack=2)))(state, real, rng)

  # The reference: the same latents, each loss differentiated on its own.
  latent_rng, _ = jax.random.split(rng)
  z = jax.random.normal(latent_rng, (8, 2))
  generator, discriminator = state.generator.module, state.discriminator.module

  def generate(g_params):
    variables = {"params": g_params, "batch_stats": state.generator.batch_stats}
    out, updates = generator.apply(variables, z, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]

  def logits(d_params, x):
    return discriminator.apply({"params": d_params}, x.reshape(-1, 4))

  def d_loss(d_params):
    fake, _ = generate(state.generator.params)
    return (jnp.mean(jax.nn.softplus(-logits(d_params, real)))
            + jnp.mean(jax.nn.softplus(logits(d_params, fake))))

  def g_loss(g_params):
    fake, _ = generate(g_params)
    return jnp.mean(jax.nn.softplus(-logits(state.discriminator.params, fake)))

  sgd = lambda params, grads: jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
  expected_d = sgd(state.discriminator.params, jax.grad(d_loss)(state.discriminator.params))
  expected_g = sgd(state.generator.params, jax.grad(g_loss)(state.generator.params))
  _assert_states_close(new_state.discriminator.params, expected_d, 1e-6)
  _assert_states_close(new_state.generator.params, expected_g, 1e-6)
  _assert_states_close(new_state.generator.batch_stats, generate(state.generator.params)[1], 1e-6)
  np.testing.assert_allclose(float(metrics["d_loss"]), float(d_loss(state.discriminator.params)),
                             rtol=1e-5)
  np.testing.assert_allclose(float(metrics["g_loss"]), float(g_loss(state.generator.params)),
                             rtol=1e-5)


def test_two_generator_updates_on_the_discriminators_uniform_latents():
  """DCGAN-tensorflow's step (PacGAN's Stacked MNIST code): one D update, then two G updates,
  all three on the same U(-1, 1) latents, each update on the parameters the previous left."""
  state = _tiny_points_state().replace(latent_distribution="uniform")
  real = _points_batch(8)["image"]
  rng = jax.random.key(4)
  options = StepOptions(n_generator_steps=2, generator_latents="discriminator")
  new_state, metrics = jax.jit(functools.partial(train_step.train_step, options=options))(
      state, {"image": real}, rng)

  # The reference: D's latents (its rng's first half), reused by both G updates.
  discriminator_rng, _ = jax.random.split(jax.random.fold_in(rng, 0))
  z = jax.random.uniform(jax.random.split(discriminator_rng)[0], (8, 2), minval=-1, maxval=1)
  generator, discriminator = state.generator.module, state.discriminator.module

  def generate(g_params, batch_stats):
    out, updates = generator.apply({"params": g_params, "batch_stats": batch_stats}, z,
                                   train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]

  logits = lambda d_params, x: discriminator.apply({"params": d_params}, x)
  sgd = lambda params, grads: jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
  g_params, d_params, stats = (state.generator.params, state.discriminator.params,
                               state.generator.batch_stats)
  fake, stats = generate(g_params, stats)
  d_loss = lambda d: (jnp.mean(jax.nn.softplus(-logits(d, real)))
                      + jnp.mean(jax.nn.softplus(logits(d, fake))))
  d_params = sgd(d_params, jax.grad(d_loss)(d_params))
  for _ in range(2):
    g_loss = lambda g, s: jnp.mean(jax.nn.softplus(-logits(d_params, generate(g, s)[0])))
    g_value, grads = jax.value_and_grad(g_loss)(g_params, stats)
    stats = generate(g_params, stats)[1]
    g_params = sgd(g_params, grads)
  _assert_states_close(new_state.discriminator.params, d_params, 1e-6)
  _assert_states_close(new_state.generator.params, g_params, 1e-6)
  _assert_states_close(new_state.generator.batch_stats, stats, 1e-6)
  np.testing.assert_allclose(float(metrics["g_loss"]), float(g_value), rtol=1e-5)
  # Fresh latents per G update give another step.
  fresh, _ = jax.jit(functools.partial(train_step.train_step, options=StepOptions(
      n_generator_steps=2)))(state, {"image": real}, rng)
  assert not np.allclose(np.asarray(jax.tree_util.tree_leaves(fresh.generator.params)[0]),
                         np.asarray(jax.tree_util.tree_leaves(g_params)[0]))


def test_generator_groups_are_separate_batch_norm_batches():
  """groups=m: row i*m + j is G(z[i*m + j]) with slot j's latents as one BatchNorm batch; the
  moving statistics take the mean of the slots' updates."""
  state = _tiny_points_state()
  z = jax.random.normal(jax.random.key(1), (12, 2))
  images, stats = objectives.generate(state.generator, state.generator.variables(), z,
                                      jax.random.key(0), StepOptions(generator_groups=3))
  slot_outputs = []
  slot_stats = []
  for j in range(3):
    out, updates = state.generator.module.apply(
        state.generator.variables(), z[j::3], train=True, mutable=["batch_stats"])
    slot_outputs.append(out)
    slot_stats.append(updates["batch_stats"])
  for j in range(3):
    np.testing.assert_allclose(np.asarray(images[j::3]), np.asarray(slot_outputs[j]), atol=1e-6)
  mean_stats = jax.tree_util.tree_map(lambda *xs: sum(xs) / 3, *slot_stats)
  _assert_states_close(stats, mean_stats, 1e-6)
  whole, _ = objectives.generate(state.generator, state.generator.variables(), z,
                                 jax.random.key(0), StepOptions())
  assert not np.allclose(np.asarray(whole), np.asarray(images))


@pytest.mark.parametrize("update_order", ["simultaneous", "alternating"])
def test_paper_packing_two_devices_equal_one_device(update_order):
  """PacGAN's batch: 2 x 8 rows make 8 packed inputs of D, G runs once per slot; 2 devices
  compute what 1 device does."""
  step_fn = functools.partial(train_step.train_step, options=StepOptions(pack=2, generator_groups=2,
                              update_order=update_order))
  state = _tiny_points_state(pack=2)
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_on(devices, step_fn, state, 3, 16, batch_fn=_points_batch)
      for devices in (jax.devices()[:1], jax.devices()[:2]))
  _assert_finite((state_1, metrics_1))
  _assert_states_close(state_1, state_2, 1e-5)
  _assert_states_close(metrics_1, metrics_2, 1e-5)
