"""What each player minimises on a batch, and the pieces every step is built from.

Latents and labels are drawn per device as slices of one global draw, networks are applied with
BatchNorm synced over the device axis, samples are packed for PacGAN, and D's and G's objectives
and metrics are computed here; `gan_jax.train_step` orders the updates. Everything takes a
`train_step.StepOptions` (`options`) for its static choices, axis name included.

With `options.axis_name` set, everything runs per device on its shard of the global batch:
gradients, BatchNorm statistics and metrics are averaged over the axis and the latents are sliced
from one global draw, so N devices compute what 1 device computes on the whole batch. The same
holds for the WGAN-GP interpolation weights and the augmentations' random parameters; dropout
masks differ per device (as they differ per example).
"""

import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import augment, latent_space, losses


def pmean(tree, axis_name):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def _per_device_draw(draw, rng, num, axis_name):
  """draw(rng, num) (an array or a pytree of arrays with leading axis num); under a device axis,
  this device's slice of one global draw.

  So N devices use exactly the random numbers 1 device would use on the whole batch.
  """
  if axis_name is None:
    return draw(rng, num)
  values = draw(rng, lax.psum(1, axis_name) * num)
  return jax.tree_util.tree_map(
      lambda v: lax.dynamic_slice_in_dim(v, lax.axis_index(axis_name) * num, num), values)


def sample_latents(rng, num, latent_dim, axis_name=None, distribution="normal"):
  """Latents from the prior `distribution` (`latent_space.draw`); under a device axis, this
  device's slice of one global draw."""
  return _per_device_draw(
      lambda key, n: latent_space.draw(key, (n, latent_dim), distribution), rng, num, axis_name)


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


def num_classes(state):
  return getattr(state.generator.module, "num_classes", 0)


def draw_fake_labels(state, latent_rng, num, axis_name):
  """Labels for a generated batch (None for an unconditional GAN)."""
  if not num_classes(state):
    return None
  return sample_labels(jax.random.fold_in(latent_rng, 2), num, num_classes(state), axis_name)


def apply(network, variables, x, *, train, rng, axis_name, labels=None):
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


def generate(generator, variables, z, rng, options, labels=None):
  """G in training mode on latents z [n, d]: (images, new batch_stats).

  With `options.generator_groups` = m > 1, latent i*m + j belongs to group j and each group is
  its own BatchNorm batch, as when G runs once per pack slot (PacGAN's code draws m latent
  batches and applies G to each); the moving statistics take the mean of the m groups' updates
  (what its Blocks code does when it merges the duplicate updates). Row i*m + j is G(z[i*m + j]).
  """
  groups, axis_name = options.generator_groups, options.axis_name
  if groups == 1:
    return apply(generator, variables, z, train=True, rng=rng, axis_name=axis_name,
                 labels=labels)
  to_groups = lambda x: jnp.swapaxes(x.reshape((-1, groups) + x.shape[1:]), 0, 1)
  slots = (to_groups(z), None if labels is None else to_groups(labels), jnp.arange(groups))

  def one_group(group_z, group_labels, index):
    return apply(generator, variables, group_z, train=True, rng=jax.random.fold_in(rng, index),
                 axis_name=axis_name, labels=group_labels)

  images, batch_stats = jax.vmap(one_group)(*slots)
  images = jnp.swapaxes(images, 0, 1).reshape((-1,) + images.shape[2:])
  return images, jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), batch_stats)


def moments(x, axis_name):
  """Mean and std of all elements of x over the global batch."""
  mean, mean_sq = pmean((jnp.mean(x), jnp.mean(jnp.square(x))), axis_name)
  return mean, jnp.sqrt(jnp.maximum(mean_sq - jnp.square(mean), 0.0))


def generator_metrics(value, fake_images, axis_name):
  """g_loss and the generated pixels' mean and std, averaged over the devices."""
  fake_mean, fake_std = moments(fake_images, axis_name)
  return {"g_loss": pmean(value, axis_name), "fake_mean": fake_mean, "fake_std": fake_std}


def discriminator_metrics(loss_value, real_logits, fake_logits, extra_metrics, loss):
  """d_real/d_fake: mean D(x), D(G(z)) as probabilities for BCE, raw critic values otherwise;
  `extra_metrics`: those `discriminator_objective` computed (penalties, ADA's r_t)."""
  to_output = jax.nn.sigmoid if loss == "bce" else (lambda logits: logits)
  metrics = {"d_loss": loss_value, "d_real": jnp.mean(to_output(real_logits)),
             "d_fake": jnp.mean(to_output(fake_logits))}
  if loss == "wasserstein":
    # E[D(G(z))] - E[D(x)]: the negated Wasserstein estimate, which tracks sample quality (WGAN).
    metrics["critic_loss"] = jnp.mean(fake_logits) - jnp.mean(real_logits)
  return {**metrics, **extra_metrics}


def augment_probability(state):
  """ADA's p of a `GANState` (None without ADA's controller)."""
  ada = getattr(state, "ada", None)
  return None if ada is None else ada.p


def augmenter(options, rng, shape, p=None):
  """x -> x augmented (`gan_jax.augment`) for a batch of `shape` [n, H, W, C] unpacked images on
  this device, its random parameters this device's slice of one global draw; the identity when
  augmentation is off. `p`: ADA's probability."""
  if not options.augmentation.enabled:
    return lambda x: x
  params = _per_device_draw(
      lambda key, n: augment.draw(key, n, shape[1:], options.augmentation), rng, shape[0],
      options.axis_name)
  return lambda x: augment.apply(x, params, options.augmentation, p)


def discriminator_objective(discriminator, params, real_images, fake_images, rng, options, *,
                            real_labels, fake_labels, penalty_rng, augment_p=None, step=0):
  """D's loss on real and generated (unpacked) images: (value, (real logits, fake logits, new
  batch_stats, extra metrics)).

  Both batches are augmented (`augmenter`, per sample, before packing) when the options say
  so; `augment_p` is ADA's p. The R1/R2 penalties (`options.r1_gamma`, `r2_gamma`) are taken on
  steps `step` that are multiples of `options.regularization_interval` (`lazy_penalties`).
  """
  pack, axis_name = options.pack, options.axis_name
  augment_real = augmenter(options, jax.random.fold_in(rng, 2), real_images.shape, augment_p)
  augment_fake = augmenter(options, jax.random.fold_in(rng, 3), fake_images.shape, augment_p)

  def critic(batch_stats, images, key, labels):
    variables = {"params": params, "batch_stats": batch_stats} if batch_stats else {
        "params": params}
    return apply(discriminator.replace(batch_stats=batch_stats), variables, images, train=True,
                 rng=key, axis_name=axis_name, labels=labels)

  # What D sees of each batch, as a function of the unpacked images (R1/R2 differentiate it).
  real_critic = lambda stats, x: critic(stats, pack_samples(augment_real(x), pack),
                                        jax.random.fold_in(rng, 0), real_labels)
  fake_critic = lambda stats, x: critic(stats, pack_samples(augment_fake(x), pack),
                                        jax.random.fold_in(rng, 1), fake_labels)
  # Real and generated images in separate calls, as in the DCGAN and WGAN reference code: a
  # BatchNorm critic then sees generated-only batches here exactly as in G's update. (With one
  # mixed batch it learns on mixed statistics, and G, judged on generated-only statistics, got
  # no useful gradient: a WGAN stuck at noise.)
  real_logits, real_stats = real_critic(discriminator.batch_stats, real_images)
  fake_logits, batch_stats = fake_critic(real_stats, fake_images)
  value = losses.discriminator_loss(real_logits, fake_logits, options.loss)
  metrics = {}
  if options.gradient_penalty_weight:
    real_inputs = pack_samples(augment_real(real_images), pack)
    fake_inputs = pack_samples(augment_fake(fake_images), pack)
    mix = _per_device_draw(lambda key, n: jax.random.uniform(key, (n,)), penalty_rng,
                           real_inputs.shape[0], axis_name)
    penalty = losses.gradient_penalty(
        lambda x: critic(batch_stats, x, rng, real_labels)[0], real_inputs, fake_inputs, mix)
    value = value + options.gradient_penalty_weight * penalty
    metrics["gradient_penalty"] = penalty
  if options.r1_gamma or options.r2_gamma:

    def penalties():
      r1 = (losses.input_gradient_penalty(
          lambda x: real_critic(discriminator.batch_stats, x)[0], real_images)
            if options.r1_gamma else jnp.zeros(()))
      r2 = (losses.input_gradient_penalty(lambda x: fake_critic(real_stats, x)[0], fake_images)
            if options.r2_gamma else jnp.zeros(()))
      return r1, r2

    r1, r2 = lazy_penalties(penalties, step, options.regularization_interval)
    value = value + options.r1_gamma / 2 * r1 + options.r2_gamma / 2 * r2
    if options.r1_gamma:
      metrics["r1_penalty"] = r1
    if options.r2_gamma:
      metrics["r2_penalty"] = r2
  if options.augmentation.method == "ada":
    # ADA's overfitting heuristic r_t = E[sign(D(x))] on the augmented real batch.
    metrics["ada_rt"] = jnp.mean(jnp.sign(real_logits.astype(jnp.float32)))
  return value, (real_logits, fake_logits, batch_stats, metrics)


def lazy_penalties(penalties, step, interval):
  """`penalties()` (a tuple of scalars) times `interval` at steps that are multiples of it, zeros
  at the others: StyleGAN2's lazy regularization (Karras et al., "Analyzing and Improving the
  Image Quality of StyleGAN", 2020), whose expected weight per step is that of the penalty at
  every step. (Their code takes the penalty in a separate optimizer step scaled by the interval,
  stylegan2-ada-pytorch training/training_loop.py; here it joins that step's D loss.) Under
  `jax.vmap` (`config.num_seeds` > 1 on accelerators, `seeds.map_train_step`) `lax.cond` becomes
  a select: the same values, but the penalties are computed at every step."""
  if interval == 1:
    return penalties()
  shapes = jax.eval_shape(penalties)
  zeros = lambda: jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
  values = lax.cond(step % interval == 0, penalties, zeros)
  return tuple(interval * value for value in values)


def generator_objective(discriminator, fake_images, rng, options, labels, augment_p=None):
  """G's loss on generated (unpacked) images against `discriminator` (its statistics unchanged:
  D's BatchNorm statistics, if any, are only updated by the discriminator's own step), augmented
  as D's update augments them (`augmenter`; `augment_p` is ADA's p)."""
  augment_fake = augmenter(options, jax.random.fold_in(rng, 3), fake_images.shape, augment_p)
  fake_logits, _ = apply(discriminator, discriminator.variables(),
                         pack_samples(augment_fake(fake_images), options.pack), train=True,
                         rng=rng, axis_name=options.axis_name, labels=labels)
  return losses.generator_loss(fake_logits, options.generator_loss, options.loss)


def check_penalty(state, options):
  penalties = options.gradient_penalty_weight or options.r1_gamma or options.r2_gamma
  if penalties and getattr(state.discriminator.module, "batch_norm", False):
    raise ValueError("Gradient penalties (WGAN-GP, R1, R2) are per example; use a discriminator "
                     "without BatchNorm.")
