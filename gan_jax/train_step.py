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


def _generate(generator, variables, z, *, rng, axis_name, labels=None, groups=1):
  """G in training mode on latents z [n, d]: (images, new batch_stats).

  With `groups` = m > 1, latent i*m + j belongs to group j and each group is its own BatchNorm
  batch, as when G runs once per pack slot (PacGAN's code draws m latent batches and applies G
  to each); the moving statistics take the mean of the m groups' updates (what its Blocks code
  does when it merges the duplicate updates). Output row i*m + j is G(z[i*m + j]).
  """
  if groups == 1:
    return _apply(generator, variables, z, train=True, rng=rng, axis_name=axis_name,
                  labels=labels)
  to_groups = lambda x: jnp.swapaxes(x.reshape((-1, groups) + x.shape[1:]), 0, 1)
  slots = (to_groups(z), None if labels is None else to_groups(labels),
           jnp.arange(groups))

  def one_group(group_z, group_labels, index):
    return _apply(generator, variables, group_z, train=True, rng=jax.random.fold_in(rng, index),
                  axis_name=axis_name, labels=group_labels)

  images, batch_stats = jax.vmap(one_group)(*slots)
  images = jnp.swapaxes(images, 0, 1).reshape((-1,) + images.shape[2:])
  return images, jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), batch_stats)


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


def _discriminator_objective(discriminator, params, real_images, fake_images, rng, *, loss,
                             gradient_penalty_weight, pack, axis_name, real_labels, fake_labels,
                             penalty_rng):
  """D's loss on real and generated (unpacked) images: (value, (real logits, fake logits, new
  batch_stats, penalty))."""
  real_images, fake_images = pack_samples(real_images, pack), pack_samples(fake_images, pack)

  def critic(batch_stats, images, key, labels):
    variables = {"params": params, "batch_stats": batch_stats} if batch_stats else {
        "params": params}
    return _apply(discriminator.replace(batch_stats=batch_stats), variables, images, train=True,
                  rng=key, axis_name=axis_name, labels=labels)

  # Real and generated images in separate calls, as in the DCGAN and WGAN reference code: a
  # BatchNorm critic then sees generated-only batches here exactly as in G's update. (With one
  # mixed batch it learns on mixed statistics, and G, judged on generated-only statistics, got
  # no useful gradient: a WGAN stuck at noise.)
  real_logits, batch_stats = critic(discriminator.batch_stats, real_images,
                                    jax.random.fold_in(rng, 0), real_labels)
  fake_logits, batch_stats = critic(batch_stats, fake_images, jax.random.fold_in(rng, 1),
                                    fake_labels)
  value = losses.discriminator_loss(real_logits, fake_logits, loss)
  penalty = None
  if gradient_penalty_weight:
    mix = _per_device_draw(lambda key, n: jax.random.uniform(key, (n,)), penalty_rng,
                           real_images.shape[0], axis_name)
    penalty = losses.gradient_penalty(
        lambda x: critic(batch_stats, x, rng, real_labels)[0], real_images, fake_images, mix)
    value = value + gradient_penalty_weight * penalty
  return value, (real_logits, fake_logits, batch_stats, penalty)


def _check_penalty(state, gradient_penalty_weight):
  if gradient_penalty_weight and getattr(state.discriminator.module, "batch_norm", False):
    raise ValueError("The gradient penalty is per example; use a discriminator without BatchNorm.")


def discriminator_update(state, real_images, rng, loss="bce", gradient_penalty_weight=0.0,
                         pack=1, axis_name=None, real_labels=None, generated=None,
                         generator_groups=1):
  """One discriminator (critic) step on a real batch and a fresh generated batch.

  A conditional critic's gradient penalty is taken with the real labels at the interpolates.
  `generated`: (images, G's new batch_stats, labels) of a generator forward the caller already
  ran (`share_generator_forward`); None draws and generates a fresh batch here, in
  `generator_groups` BatchNorm groups (`_generate`).
  """
  _check_penalty(state, gradient_penalty_weight)
  latent_rng, dropout_rng = jax.random.split(rng)
  num = real_images.shape[0]
  if generated is None:
    z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
    fake_labels = _fake_labels(state, latent_rng, num, axis_name)
    fake_images, generator_stats = _generate(
        state.generator, state.generator.variables(), z, rng=dropout_rng, axis_name=axis_name,
        labels=fake_labels, groups=generator_groups)
  else:
    fake_images, generator_stats, fake_labels = generated
  fake_images = lax.stop_gradient(fake_images)
  discriminator = state.discriminator
  loss_fn = functools.partial(
      _discriminator_objective, discriminator, real_images=real_images, fake_images=fake_images,
      rng=dropout_rng, loss=loss, gradient_penalty_weight=gradient_penalty_weight, pack=pack,
      axis_name=axis_name, real_labels=real_labels, fake_labels=fake_labels,
      penalty_rng=jax.random.fold_in(latent_rng, 1))
  (value, (real_logits, fake_logits, batch_stats, penalty)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(discriminator.params)
  discriminator = discriminator.apply_gradients(_pmean(grads, axis_name))
  state = state.replace(
      generator=state.generator.replace(batch_stats=generator_stats),
      discriminator=discriminator.replace(batch_stats=batch_stats))
  metrics = _discriminator_metrics(value, real_logits, fake_logits, penalty, loss)
  return state, _pmean(metrics, axis_name)


def _generator_objective(discriminator, fake_images, rng, *, generator_loss, loss, pack,
                         axis_name, labels):
  """G's loss on generated (unpacked) images against `discriminator` (its statistics unchanged:
  D's BatchNorm statistics, if any, are only updated by the discriminator's own step)."""
  fake_logits, _ = _apply(discriminator, discriminator.variables(),
                          pack_samples(fake_images, pack), train=True, rng=rng,
                          axis_name=axis_name, labels=labels)
  return losses.generator_loss(fake_logits, generator_loss, loss)


def generator_update(state, num, rng, generator_loss="non_saturating", loss="bce", pack=1,
                     axis_name=None, generator_groups=1):
  """One generator step against the current discriminator (which is not updated)."""
  latent_rng, dropout_rng = jax.random.split(rng)
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
  labels = _fake_labels(state, latent_rng, num, axis_name)
  generator = state.generator

  def loss_fn(params):
    variables = {**generator.variables(), "params": params}
    fake_images, batch_stats = _generate(generator, variables, z, rng=dropout_rng,
                                         axis_name=axis_name, labels=labels,
                                         groups=generator_groups)
    value = _generator_objective(state.discriminator, fake_images, dropout_rng,
                                 generator_loss=generator_loss, loss=loss, pack=pack,
                                 axis_name=axis_name, labels=labels)
    return value, (fake_images, batch_stats)

  (value, (fake_images, batch_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(generator.params)
  generator = generator.apply_gradients(_pmean(grads, axis_name)).replace(batch_stats=batch_stats)
  return state.replace(generator=generator), _generator_metrics(value, fake_images, axis_name)


def shared_forward_updates(state, real_images, rng, loss="bce", generator_loss="non_saturating",
                           gradient_penalty_weight=0.0, pack=1, axis_name=None, real_labels=None,
                           generator_groups=1):
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
    return _generate(generator, {**generator.variables(), "params": params}, z, rng=dropout_rng,
                     axis_name=axis_name, labels=labels, groups=generator_groups)

  fake_images, generator_vjp, generator_stats = jax.vjp(generate, generator.params, has_aux=True)
  state, d_metrics = discriminator_update(
      state, real_images, jax.random.fold_in(rng, 1), loss=loss,
      gradient_penalty_weight=gradient_penalty_weight, pack=pack, axis_name=axis_name,
      real_labels=real_labels, generated=(fake_images, generator_stats, labels))

  loss_fn = functools.partial(
      _generator_objective, state.discriminator, rng=jax.random.fold_in(rng, 2),
      generator_loss=generator_loss, loss=loss, pack=pack, axis_name=axis_name, labels=labels)
  value, image_grads = jax.value_and_grad(loss_fn)(fake_images)
  (grads,) = generator_vjp(image_grads)
  generator = state.generator.apply_gradients(_pmean(grads, axis_name))
  return state.replace(generator=generator), {
      **d_metrics, **_generator_metrics(value, fake_images, axis_name)}


def simultaneous_updates(state, real_images, rng, loss="bce", generator_loss="non_saturating",
                         gradient_penalty_weight=0.0, pack=1, axis_name=None, real_labels=None,
                         generator_groups=1):
  """D's and G's gradients from one forward, both applied at once (ALI's and PacGAN's code).

  Both losses are computed from the same generated batch and the same (old) discriminator;
  neither player sees the other's update of this step. One G forward and one D forward on the
  generated batch serve both gradients: D's loss sees the fakes with their gradient stopped,
  G's loss sees D's parameters with theirs stopped, so one backward pass of the sum gives each
  player exactly the gradient of its own loss.
  """
  _check_penalty(state, gradient_penalty_weight)
  latent_rng, dropout_rng = jax.random.split(rng)
  num = real_images.shape[0]
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name)
  labels = _fake_labels(state, latent_rng, num, axis_name)
  generator, discriminator = state.generator, state.discriminator

  def both_losses(generator_params, discriminator_params):
    fake_images, generator_stats = _generate(
        generator, {**generator.variables(), "params": generator_params}, z,
        rng=jax.random.fold_in(dropout_rng, 2), axis_name=axis_name, labels=labels,
        groups=generator_groups)
    d_value, d_aux = _discriminator_objective(
        discriminator, discriminator_params, real_images, lax.stop_gradient(fake_images),
        dropout_rng, loss=loss, gradient_penalty_weight=gradient_penalty_weight, pack=pack,
        axis_name=axis_name, real_labels=real_labels, fake_labels=labels,
        penalty_rng=jax.random.fold_in(latent_rng, 1))
    frozen = discriminator.replace(params=lax.stop_gradient(discriminator_params))
    g_value = _generator_objective(frozen, fake_images, jax.random.fold_in(dropout_rng, 1),
                                   generator_loss=generator_loss, loss=loss, pack=pack,
                                   axis_name=axis_name, labels=labels)
    return d_value + g_value, (d_value, g_value, d_aux, fake_images, generator_stats)

  (_, (d_value, g_value, d_aux, fake_images, generator_stats)), (g_grads, d_grads) = (
      jax.value_and_grad(both_losses, argnums=(0, 1), has_aux=True)(
          generator.params, discriminator.params))
  real_logits, fake_logits, discriminator_stats, penalty = d_aux
  state = state.replace(
      generator=generator.apply_gradients(_pmean(g_grads, axis_name)).replace(
          batch_stats=generator_stats),
      discriminator=discriminator.apply_gradients(_pmean(d_grads, axis_name)).replace(
          batch_stats=discriminator_stats))
  d_metrics = _discriminator_metrics(d_value, real_logits, fake_logits, penalty, loss)
  return state, {**_pmean(d_metrics, axis_name),
                 **_generator_metrics(g_value, fake_images, axis_name)}


# How the two players' updates of one step are ordered (`config.update_order`).
UPDATE_ORDERS = ("alternating", "shared_forward", "simultaneous")


def train_step(state, batch, rng, *, loss="bce", generator_loss="non_saturating",
               gradient_penalty_weight=0.0, n_discriminator_steps=1, pack=1,
               update_order="alternating", generator_groups=1, axis_name=None):
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
    pack: PacGAN's m: D judges groups of `pack` consecutive samples joined by `pack_samples`
      (1: off); the state's discriminator must be built for packed inputs
      (`create_train_state(pack=...)`). Each update generates as many samples as it has real
      ones, so a batch of m * b rows gives D b inputs per side.
    update_order: one of `UPDATE_ORDERS`: "alternating" (D, then G on a fresh forward),
      "shared_forward" (`shared_forward_updates`) or "simultaneous" (`simultaneous_updates`);
      the last two need n_discriminator_steps=1.
    generator_groups: G's forward splits its batch into this many BatchNorm groups (`_generate`;
      PacGAN's code: one per pack slot); 1: one batch.
    axis_name: the mapped device axis when run under `shard_map`/`pmap`, else None.

  Returns:
    (new state, metrics): scalar metrics d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z))
    (probabilities for BCE, critic values otherwise), fake/real pixel mean and std, plus
    critic_loss = E[D(G(z))] - E[D(x)] for the Wasserstein loss and gradient_penalty when it is
    on; discriminator metrics are those of the last discriminator update; all averaged over the
    devices.
  """
  if update_order not in UPDATE_ORDERS:
    raise ValueError(f"Unknown update_order {update_order!r}; expected one of {UPDATE_ORDERS}.")
  rng = jax.random.fold_in(rng, state.step)
  discriminator_rng, generator_rng = jax.random.split(rng)
  images = batch["image"]
  # Update k takes rows k, k + n, k + 2n, ... (n = n_discriminator_steps): under a device axis
  # every shard holds its part of each update's batch, so N devices train on exactly the batches
  # 1 device does (contiguous blocks would give each update different images per device count).
  split = lambda x: jnp.swapaxes(x.reshape((-1, n_discriminator_steps) + x.shape[1:]), 0, 1)
  real_batches = split(images)
  real_labels = split(batch["label"]) if _num_classes(state) else None
  options = dict(loss=loss, gradient_penalty_weight=gradient_penalty_weight, pack=pack,
                 axis_name=axis_name, generator_groups=generator_groups)
  first_labels = None if real_labels is None else real_labels[0]
  if update_order != "alternating":
    if n_discriminator_steps != 1:
      raise ValueError(f"update_order={update_order!r} needs n_discriminator_steps=1.")
    both_updates = (shared_forward_updates if update_order == "shared_forward" else
                    simultaneous_updates)
    state, metrics = both_updates(state, real_batches[0], rng, generator_loss=generator_loss,
                                  real_labels=first_labels, **options)
  else:
    update = functools.partial(discriminator_update, **options)
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
        pack=pack, axis_name=axis_name, generator_groups=generator_groups)
    metrics = {**d_metrics, **g_metrics}
  real_mean, real_std = _moments(real_batches[-1], axis_name)
  metrics = {**metrics, "real_mean": real_mean, "real_std": real_std}
  return state.replace(step=state.step + 1), metrics
