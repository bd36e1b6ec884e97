"""The GAN train step: a pure function `(state, batch, rng) -> (state, metrics)`.

No I/O, no globals, no logging. Static choices (loss kind, number of discriminator steps, the
device axis name) are bound with `functools.partial` where the step is used, and the caller
applies `jax.jit` / `jax.shard_map` / `jax.pmap` (see `gan_jax.data_parallel`).

With `axis_name` set, the step runs per device on its shard of the global batch: gradients,
BatchNorm statistics and metrics are averaged over the axis and the latents are sliced from one
global draw, so N devices compute what 1 device computes on the whole batch. The same holds for
the WGAN-GP interpolation weights; dropout masks differ per device (as they differ per example).

Class-conditional networks (`module.num_classes` > 0) take labels: D sees the real batch with its
labels and generated images with the labels they were generated for, drawn uniformly (like the
latents, one global draw); G's update draws its own. When the generator's state keeps an EMA of
its weights, `NetworkState.apply_gradients` updates it after each generator update.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import losses


def _pmean(tree, axis_name):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def _per_device_draw(draw, rng, num, axis_name):
  """draw(rng, num); under a device axis, this device's slice of one global draw.

  So N devices use exactly the random numbers 1 device would use on the whole batch.
  """
  if axis_name is None:
    return draw(rng, num)
  values = draw(rng, lax.psum(1, axis_name) * num)
  return lax.dynamic_slice_in_dim(values, lax.axis_index(axis_name) * num, num)


def sample_latents(rng, num, latent_dim, axis_name=None):
  """Standard-normal latents; under a device axis, this device's slice of one global draw."""
  return _per_device_draw(
      lambda key, n: jax.random.normal(key, (n, latent_dim), jnp.float32), rng, num, axis_name)


def pack_samples(x, pack):
  """PacGAN packing: each group of `pack` consecutive samples becomes one input of D.

  [n, ..., C] -> [n / pack, ..., pack * C]: images are stacked along channels, 2-D points (or
  any flat vectors) concatenated. Lin et al. 2018, "PacGAN: The power of two samples in
  generative adversarial networks": a discriminator judging several samples jointly sees a lack
  of diversity that it cannot see in one sample, which penalises mode collapse.
  """
  if pack == 1:
    return x
  grouped = x.reshape((x.shape[0] // pack, pack) + x.shape[1:])
  grouped = jnp.moveaxis(grouped, 1, -2)  # [n / pack, ..., pack, C]
  return grouped.reshape(grouped.shape[:-2] + (pack * x.shape[-1],))


def sample_labels(rng, num, num_classes, axis_name=None):
  """Uniform class labels in [0, num_classes); under a device axis, this device's slice."""
  return _per_device_draw(
      lambda key, n: jax.random.randint(key, (n,), 0, num_classes, jnp.int32), rng, num,
      axis_name)


def _num_classes(state):
  return getattr(state.generator.module, "num_classes", 0)


def _fake_labels(state, latent_rng, num, axis_name):
  """Labels for a generated batch (None for an unconditional GAN)."""
  if not _num_classes(state):
    return None
  return sample_labels(jax.random.fold_in(latent_rng, 2), num, _num_classes(state), axis_name)


def _apply(network, variables, x, *, train, rng, axis_name, labels=None):
  """Runs one network; returns (output, new batch_stats) with BatchNorm synced over the axis.

  "batch_stats" holds BatchNorm's moving statistics and spectral normalisation's power-iteration
  vectors; both are updated in training mode.
  """
  module = network.module
  inputs = (x,) if labels is None else (x, labels)
  if axis_name is not None:
    module = module.clone(axis_name=axis_name)
    # Different dropout masks on each device's examples, as on one device.
    rng = jax.random.fold_in(rng, lax.axis_index(axis_name))
  if "batch_stats" in variables and train:
    out, updates = module.apply(
        variables, *inputs, train=True, rngs={"dropout": rng}, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  out = module.apply(variables, *inputs, train=train, rngs={"dropout": rng})
  return out, network.batch_stats


def _moments(x, axis_name):
  """Mean and std of all elements of x over the global batch."""
  mean, mean_sq = _pmean((jnp.mean(x), jnp.mean(jnp.square(x))), axis_name)
  return mean, jnp.sqrt(jnp.maximum(mean_sq - jnp.square(mean), 0.0))


def _generator_metrics(value, fake_images, axis_name):
  """g_loss and the generated pixels' mean and std, averaged over the devices."""
  fake_mean, fake_std = _moments(fake_images, axis_name)
  return {"g_loss": _pmean(value, axis_name), "fake_mean": fake_mean, "fake_std": fake_std}


def _discriminator_metrics(loss_value, real_logits, fake_logits, penalty, loss):
  """d_real/d_fake: mean D(x), D(G(z)) as probabilities for BCE, raw critic values otherwise."""
  to_output = jax.nn.sigmoid if loss == "bce" else (lambda logits: logits)
  metrics = {"d_loss": loss_value, "d_real": jnp.mean(to_output(real_logits)),
             "d_fake": jnp.mean(to_output(fake_logits))}
  if loss == "wasserstein":
    # E[D(G(z))] - E[D(x)]: the negated Wasserstein estimate, which tracks sample quality (WGAN).
    metrics["critic_loss"] = jnp.mean(fake_logits) - jnp.mean(real_logits)
  if penalty is not None:
    metrics["gradient_penalty"] = penalty
  return metrics


def discriminator_update(state, real_images, rng, loss="bce", gradient_penalty_weight=0.0,
                         pack=1, axis_name=None, real_labels=None, generated=None):
  """One discriminator (critic) step on a real batch and a fresh generated batch.

  A conditional critic's gradient penalty is taken with the real labels at the interpolates.
  `generated`: (images, G's new batch_stats, labels) of a generator forward the caller already
  ran (`share_generator_forward`); None draws and generates a fresh batch here.
  """
  if gradient_penalty_weight and getattr(state.discriminator.module, "batch_norm", False):
    raise ValueError("The gradient penalty is per example; use a discriminator without BatchNorm.")
  latent_rng, dropout_rng = jax.random.split(rng)
  num = real_images.shape[0]
  if generated is None:
    z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
    fake_labels = _fake_labels(state, latent_rng, num, axis_name)
    fake_images, generator_stats = _apply(
        state.generator, state.generator.variables(), z, train=True, rng=dropout_rng,
        axis_name=axis_name, labels=fake_labels)
  else:
    fake_images, generator_stats, fake_labels = generated
  fake_images = lax.stop_gradient(fake_images)
  real_images, fake_images = pack_samples(real_images, pack), pack_samples(fake_images, pack)
  discriminator = state.discriminator

  def critic(params, batch_stats, images, key, labels):
    variables = {"params": params, "batch_stats": batch_stats} if batch_stats else {
        "params": params}
    return _apply(discriminator.replace(batch_stats=batch_stats), variables, images, train=True,
                  rng=key, axis_name=axis_name, labels=labels)

  def loss_fn(params):
    # Real and generated images in separate calls, as in the DCGAN and WGAN reference code:
    # a BatchNorm critic then sees generated-only batches here exactly as in G's update. (With
    # one mixed batch it learns on mixed statistics, and G, judged on generated-only
    # statistics, got no useful gradient: a WGAN stuck at noise.)
    real_logits, batch_stats = critic(params, discriminator.batch_stats, real_images,
                                      jax.random.fold_in(dropout_rng, 0), real_labels)
    fake_logits, batch_stats = critic(params, batch_stats, fake_images,
                                      jax.random.fold_in(dropout_rng, 1), fake_labels)
    value = losses.discriminator_loss(real_logits, fake_logits, loss)
    penalty = None
    if gradient_penalty_weight:
      mix = _per_device_draw(lambda key, n: jax.random.uniform(key, (n,)),
                             jax.random.fold_in(latent_rng, 1), num // pack, axis_name)
      penalty = losses.gradient_penalty(
          lambda x: critic(params, batch_stats, x, dropout_rng, real_labels)[0], real_images,
          fake_images, mix)
      value = value + gradient_penalty_weight * penalty
    return value, (real_logits, fake_logits, batch_stats, penalty)

  (value, (real_logits, fake_logits, batch_stats, penalty)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(discriminator.params)
  discriminator = discriminator.apply_gradients(_pmean(grads, axis_name))
  state = state.replace(
      generator=state.generator.replace(batch_stats=generator_stats),
      discriminator=discriminator.replace(batch_stats=batch_stats))
  metrics = _discriminator_metrics(value, real_logits, fake_logits, penalty, loss)
  return state, _pmean(metrics, axis_name)


def generator_update(state, num, rng, generator_loss="non_saturating", loss="bce", pack=1,
                     axis_name=None):
  """One generator step against the current discriminator (which is not updated)."""
  latent_rng, dropout_rng = jax.random.split(rng)
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
  labels = _fake_labels(state, latent_rng, num, axis_name)
  generator = state.generator

  def loss_fn(params):
    variables = {**generator.variables(), "params": params}
    fake_images, batch_stats = _apply(
        generator, variables, z, train=True, rng=dropout_rng, axis_name=axis_name, labels=labels)
    # D's BatchNorm statistics (if any) are only updated by the discriminator's own step.
    fake_logits, _ = _apply(state.discriminator, state.discriminator.variables(),
                            pack_samples(fake_images, pack), train=True, rng=dropout_rng,
                            axis_name=axis_name, labels=labels)
    value = losses.generator_loss(fake_logits, generator_loss, loss)
    return value, (fake_images, batch_stats)

  (value, (fake_images, batch_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(generator.params)
  generator = generator.apply_gradients(_pmean(grads, axis_name)).replace(batch_stats=batch_stats)
  return state.replace(generator=generator), _generator_metrics(value, fake_images, axis_name)


def shared_forward_updates(state, real_images, rng, loss="bce", generator_loss="non_saturating",
                           gradient_penalty_weight=0.0, pack=1, axis_name=None, real_labels=None):
  """One D and one G update from a single generator forward (PyTorch's DCGAN example).

  D learns on the detached fakes; G then backpropagates through the same fakes (the forward's
  saved activations, `jax.vjp`) against the updated D. One G forward a step instead of two. What
  changes against `discriminator_update` + `generator_update`: G's update reuses D's latents,
  labels and dropout mask, its BatchNorm sees one batch per step (moving statistics updated
  once, not twice), and its BatchNorm statistics are those of the generated batch D saw.
  """
  latent_rng, dropout_rng = jax.random.split(jax.random.fold_in(rng, 0))
  num = real_images.shape[0]
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
  labels = _fake_labels(state, latent_rng, num, axis_name)
  generator = state.generator

  def generate(params):
    return _apply(generator, {**generator.variables(), "params": params}, z, train=True,
                  rng=dropout_rng, axis_name=axis_name, labels=labels)

  fake_images, generator_vjp, generator_stats = jax.vjp(generate, generator.params, has_aux=True)
  state, d_metrics = discriminator_update(
      state, real_images, jax.random.fold_in(rng, 1), loss=loss,
      gradient_penalty_weight=gradient_penalty_weight, pack=pack, axis_name=axis_name,
      real_labels=real_labels, generated=(fake_images, generator_stats, labels))

  def loss_fn(images):
    fake_logits, _ = _apply(state.discriminator, state.discriminator.variables(),
                            pack_samples(images, pack), train=True, rng=jax.random.fold_in(rng, 2),
                            axis_name=axis_name, labels=labels)
    return losses.generator_loss(fake_logits, generator_loss, loss)

  value, image_grads = jax.value_and_grad(loss_fn)(fake_images)
  (grads,) = generator_vjp(image_grads)
  generator = state.generator.apply_gradients(_pmean(grads, axis_name))
  return state.replace(generator=generator), {
      **d_metrics, **_generator_metrics(value, fake_images, axis_name)}


def train_step(state, batch, rng, *, loss="bce", generator_loss="non_saturating",
               gradient_penalty_weight=0.0, n_discriminator_steps=1, pack=1,
               share_generator_forward=False, axis_name=None):
  """`n_discriminator_steps` discriminator updates, then one generator update.

  Args:
    state: a `GANState`.
    batch: {"image": [n_discriminator_steps * batch_size, H, W, C]} (this device's shard under an
      axis), and "label" [n_discriminator_steps * batch_size] for conditional networks; each
      discriminator update sees its own `batch_size` real images (update k: rows k, k + n, ...).
    rng: the run's base PRNG key; the step folds in `state.step`, so the same key can be passed at
      every step and a resumed run draws the same noise as an uninterrupted one.
    loss: "bce", "wasserstein", "hinge" or "least_squares" (see `gan_jax.losses`).
    generator_loss: for loss="bce": "non_saturating" or "minimax".
    gradient_penalty_weight: weight of the WGAN-GP penalty in the discriminator's loss (0: off).
    n_discriminator_steps: discriminator updates per generator update (WGAN's n_critic).
    pack: PacGAN's m: D judges groups of `pack` samples joined by `pack_samples` (1: off); the
      state's discriminator must be built for packed inputs (`create_train_state(pack=...)`).
    share_generator_forward: one generator forward for both updates (`shared_forward_updates`;
      needs n_discriminator_steps=1).
    axis_name: the mapped device axis when run under `shard_map`/`pmap`, else None.

  Returns:
    (new state, metrics): scalar metrics d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z))
    (probabilities for BCE, critic values otherwise), fake/real pixel mean and std, plus
    critic_loss = E[D(G(z))] - E[D(x)] for the Wasserstein loss and gradient_penalty when it is
    on; discriminator metrics are those of the last discriminator update; all averaged over the
    devices.
  """
  rng = jax.random.fold_in(rng, state.step)
  discriminator_rng, generator_rng = jax.random.split(rng)
  images = batch["image"]
  # Update k takes rows k, k + n, k + 2n, ... (n = n_discriminator_steps): under a device axis
  # every shard holds its part of each update's batch, so N devices train on exactly the batches
  # 1 device does (contiguous blocks would give each update different images per device count).
  split = lambda x: jnp.swapaxes(x.reshape((-1, n_discriminator_steps) + x.shape[1:]), 0, 1)
  real_batches = split(images)
  real_labels = split(batch["label"]) if _num_classes(state) else None
  update = functools.partial(discriminator_update, loss=loss,
                             gradient_penalty_weight=gradient_penalty_weight, pack=pack,
                             axis_name=axis_name)
  first_labels = None if real_labels is None else real_labels[0]
  if share_generator_forward:
    if n_discriminator_steps != 1:
      raise ValueError("share_generator_forward needs n_discriminator_steps=1.")
    state, metrics = shared_forward_updates(
        state, real_batches[0], rng, loss=loss, generator_loss=generator_loss,
        gradient_penalty_weight=gradient_penalty_weight, pack=pack, axis_name=axis_name,
        real_labels=first_labels)
  else:
    if n_discriminator_steps == 1:
      state, d_metrics = update(state, real_batches[0], discriminator_rng,
                                real_labels=first_labels)
    else:
      rngs = jax.random.split(discriminator_rng, n_discriminator_steps)
      # Unrolled: as a rolled loop, XLA:CPU ran the DCGAN critic updates 4-6x slower (small
      # Fashion-MNIST DCGAN, 2 cores: 0.45 vs 2.6 steps/s at n = 5); n is small (WGAN: 5).
      state, all_metrics = lax.scan(
          lambda s, xs: update(s, xs[0], xs[1], real_labels=xs[2]), state,
          (real_batches, rngs, real_labels), unroll=True)
      d_metrics = jax.tree_util.tree_map(lambda m: m[-1], all_metrics)
    state, g_metrics = generator_update(
        state, real_batches.shape[1], generator_rng, generator_loss=generator_loss, loss=loss,
        pack=pack, axis_name=axis_name)
    metrics = {**d_metrics, **g_metrics}
  real_mean, real_std = _moments(real_batches[-1], axis_name)
  metrics = {**metrics, "real_mean": real_mean, "real_std": real_std}
  return state.replace(step=state.step + 1), metrics
