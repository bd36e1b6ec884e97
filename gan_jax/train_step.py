"""The GAN train step: a pure function `(state, batch, rng) -> (state, metrics)`.

No I/O, no globals, no logging. Static choices (loss kind, number of discriminator steps, the
device axis name) are bound with `functools.partial` where the step is used, and the caller
applies `jax.jit` / `jax.shard_map` / `jax.pmap` (see `gan_jax.data_parallel`).

With `axis_name` set, the step runs per device on its shard of the global batch: gradients,
BatchNorm statistics and metrics are averaged over the axis and the latents are sliced from one
global draw, so N devices compute what 1 device computes on the whole batch.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import losses


def _pmean(tree, axis_name):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def sample_latents(rng, num, latent_dim, axis_name=None):
  """Standard-normal latents; under a device axis, this device's slice of one global draw."""
  if axis_name is None:
    return jax.random.normal(rng, (num, latent_dim), jnp.float32)
  num_devices = lax.psum(1, axis_name)
  z = jax.random.normal(rng, (num_devices * num, latent_dim), jnp.float32)
  return lax.dynamic_slice_in_dim(z, lax.axis_index(axis_name) * num, num)


def _apply(network, variables, x, *, train, rng, axis_name):
  """Runs one network; returns (output, new batch_stats) with BatchNorm synced over the axis."""
  module = network.module if axis_name is None else network.module.clone(axis_name=axis_name)
  if "batch_stats" in variables and train:
    out, updates = module.apply(
        variables, x, train=True, rngs={"dropout": rng}, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  out = module.apply(variables, x, train=train, rngs={"dropout": rng})
  return out, network.batch_stats


def _moments(x, axis_name):
  """Mean and std of all elements of x over the global batch."""
  mean, mean_sq = _pmean((jnp.mean(x), jnp.mean(jnp.square(x))), axis_name)
  return mean, jnp.sqrt(jnp.maximum(mean_sq - jnp.square(mean), 0.0))


def discriminator_update(state, real_images, rng, axis_name=None):
  """One discriminator step on a real batch and a fresh generated batch."""
  latent_rng, dropout_rng = jax.random.split(rng)
  z = sample_latents(latent_rng, real_images.shape[0], state.latent_dim, axis_name)
  fake_images, generator_stats = _apply(
      state.generator, state.generator.variables(), z, train=True, rng=dropout_rng,
      axis_name=axis_name)
  fake_images = lax.stop_gradient(fake_images)
  both = jnp.concatenate([real_images, fake_images], axis=0)
  discriminator = state.discriminator

  def loss_fn(params):
    variables = {**discriminator.variables(), "params": params}
    logits, batch_stats = _apply(
        discriminator, variables, both, train=True, rng=dropout_rng, axis_name=axis_name)
    real_logits, fake_logits = jnp.split(logits, 2)
    return losses.discriminator_loss(real_logits, fake_logits), (real_logits, fake_logits,
                                                                  batch_stats)

  (loss, (real_logits, fake_logits, batch_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(discriminator.params)
  discriminator = discriminator.apply_gradients(_pmean(grads, axis_name))
  state = state.replace(
      generator=state.generator.replace(batch_stats=generator_stats),
      discriminator=discriminator.replace(batch_stats=batch_stats))
  metrics = {
      "d_loss": loss,
      "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
      "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
  }
  return state, _pmean(metrics, axis_name)


def generator_update(state, num, rng, generator_loss="non_saturating", axis_name=None):
  """One generator step against the current discriminator (which is not updated)."""
  latent_rng, dropout_rng = jax.random.split(rng)
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
  generator = state.generator

  def loss_fn(params):
    variables = {**generator.variables(), "params": params}
    fake_images, batch_stats = _apply(
        generator, variables, z, train=True, rng=dropout_rng, axis_name=axis_name)
    # D's BatchNorm statistics (if any) are only updated by the discriminator's own step.
    fake_logits, _ = _apply(state.discriminator, state.discriminator.variables(), fake_images,
                            train=True, rng=dropout_rng, axis_name=axis_name)
    return losses.generator_loss(fake_logits, generator_loss), (fake_images, batch_stats)

  (loss, (fake_images, batch_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(generator.params)
  generator = generator.apply_gradients(_pmean(grads, axis_name)).replace(batch_stats=batch_stats)
  fake_mean, fake_std = _moments(fake_images, axis_name)
  metrics = {"g_loss": _pmean(loss, axis_name), "fake_mean": fake_mean, "fake_std": fake_std}
  return state.replace(generator=generator), metrics


def train_step(state, batch, rng, *, generator_loss="non_saturating", n_discriminator_steps=1,
               axis_name=None):
  """`n_discriminator_steps` discriminator updates, then one generator update.

  Args:
    state: a `GANState`.
    batch: {"image": [n_discriminator_steps * batch_size, H, W, C]} (this device's shard under an
      axis); each discriminator update sees its own `batch_size` real images.
    rng: the run's base PRNG key; the step folds in `state.step`, so the same key can be passed at
      every step and a resumed run draws the same noise as an uninterrupted one.
    generator_loss: "non_saturating" or "minimax" (see `gan_jax.losses`).
    n_discriminator_steps: discriminator updates per generator update.
    axis_name: the mapped device axis when run under `shard_map`/`pmap`, else None.

  Returns:
    (new state, metrics): scalar metrics d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)),
    fake/real pixel mean and std, averaged over the devices.
  """
  rng = jax.random.fold_in(rng, state.step)
  discriminator_rng, generator_rng = jax.random.split(rng)
  images = batch["image"]
  real_batches = images.reshape((n_discriminator_steps, -1) + images.shape[1:])
  update = functools.partial(discriminator_update, axis_name=axis_name)
  if n_discriminator_steps == 1:
    state, d_metrics = update(state, real_batches[0], discriminator_rng)
  else:
    rngs = jax.random.split(discriminator_rng, n_discriminator_steps)
    state, all_metrics = lax.scan(lambda s, xs: update(s, *xs), state, (real_batches, rngs))
    d_metrics = jax.tree_util.tree_map(lambda m: m[-1], all_metrics)
  state, g_metrics = generator_update(
      state, real_batches.shape[1], generator_rng, generator_loss, axis_name)
  real_mean, real_std = _moments(real_batches[-1], axis_name)
  metrics = {**d_metrics, **g_metrics, "real_mean": real_mean, "real_std": real_std}
  return state.replace(step=state.step + 1), metrics
