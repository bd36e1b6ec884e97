"""The GAN train step: a pure function `(state, batch, rng) -> (state, metrics)`.

No I/O, no globals, no logging. Its static choices are one frozen `StepOptions`, bound with
`functools.partial` where the step is used, and the caller applies `jax.jit` / `jax.shard_map`
/ `jax.pmap` (see `gan_jax.data_parallel`, which sets the options' device axis name):

    options = StepOptions(loss="bce", pack=2)        # or StepOptions.from_config(config)
    step = jax.jit(functools.partial(train_step, options=options))

The pieces (latents, packing, augmentation, objectives, metrics) live in `gan_jax.objectives`.

Class-conditional networks (`module.num_classes` > 0) take labels: D sees the real batch with its
labels and generated images with the labels they were generated for, drawn uniformly (like the
latents, one global draw); G's update draws its own. When the generator's state keeps an EMA of
its weights, `NetworkState.apply_gradients` updates it after each generator update.

With augmentation (`options.augmentation`, `gan_jax.augment`) every image D sees is augmented,
in both players' updates and every update order; with ADA, each D update adds E[sign(D(x_real))]
to the state's controller sums and the step ends by adjusting p (`augment.adjust_ada`).
"""

import dataclasses
import functools
from typing import Optional

import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import augment, objectives
from gan_jax.errors import is_int, positive_int, require
from gan_jax.objectives import pack_samples, pmean, sample_labels, sample_latents  # noqa: F401

# How the two players' updates of one step are ordered (`config.update_order`).
UPDATE_ORDERS = ("alternating", "shared_forward", "simultaneous")
# What `config.batch_size` counts when pack > 1 (`config.pack_batch`).
PACK_BATCHES = ("samples", "inputs")
# Where the generator's updates take their latents (`config.generator_latents`): a fresh draw
# per update, or the batch the step's (last) discriminator update generated.
GENERATOR_LATENTS = ("fresh", "discriminator")


@dataclasses.dataclass(frozen=True)
class StepOptions:
  """The step's static choices (hashable: a change compiles a new step).

  Attributes:
    loss: "bce", "wasserstein", "hinge" or "least_squares" (see `gan_jax.losses`).
    generator_loss: for loss="bce": "non_saturating" or "minimax".
    gradient_penalty_weight: weight of the WGAN-GP penalty in the discriminator's loss (0: off).
    n_discriminator_steps: discriminator updates per generator update (WGAN's n_critic).
    n_generator_steps: generator updates after the discriminator's in each step (the Stacked
      MNIST code of PacGAN and VEEGAN, DCGAN-tensorflow: 2); alternating order only.
    generator_latents: one of `GENERATOR_LATENTS`: "fresh" (each generator update draws its own
      latents) or "discriminator" (every generator update reuses the latents, and labels, of
      the step's last discriminator update: DCGAN-tensorflow feeds one z batch to all three).
    pack: PacGAN's m: D judges groups of `pack` consecutive samples joined by `pack_samples`
      (1: off); the state's discriminator must be built for packed inputs
      (`create_train_state(pack=...)`). Each update generates as many samples as it has real
      ones, so a batch of m * b rows gives D b inputs per side.
    update_order: one of `UPDATE_ORDERS`: "alternating" (D, then G on a fresh forward),
      "shared_forward" (`shared_forward_updates`) or "simultaneous" (`simultaneous_updates`);
      the last two need n_discriminator_steps=1.
    generator_groups: G's forward splits its batch into this many BatchNorm groups
      (`objectives.generate`; PacGAN's code: one per pack slot); 1: one batch.
    augmentation: `augment.AugmentOptions`: DiffAugment or ADA on every image D sees (ADA's p
      is the state's `ada.p`, `create_train_state(ada_p=...)`).
    r1_gamma, r2_gamma: γ of the R1 (real) and R2 (generated) penalties γ/2 · E‖∇D(x)‖² in D's
      loss (`losses.input_gradient_penalty`; 0: off); D must be without BatchNorm.
    regularization_interval: R1/R2 are taken every this many steps, scaled by it (StyleGAN2's
      lazy regularization; 1: every step).
    axis_name: the mapped device axis when run under `shard_map`/`pmap`, else None.
  """

  loss: str = "bce"
  generator_loss: str = "non_saturating"
  gradient_penalty_weight: float = 0.0
  n_discriminator_steps: int = 1
  n_generator_steps: int = 1
  generator_latents: str = "fresh"
  pack: int = 1
  update_order: str = "alternating"
  generator_groups: int = 1
  augmentation: augment.AugmentOptions = augment.AugmentOptions()
  r1_gamma: float = 0.0
  r2_gamma: float = 0.0
  regularization_interval: int = 1
  axis_name: Optional[str] = None

  def __post_init__(self):
    if self.update_order not in UPDATE_ORDERS:
      raise ValueError(f"Unknown update_order {self.update_order!r}; expected one of "
                       f"{UPDATE_ORDERS}.")
    if self.update_order != "alternating" and (self.n_discriminator_steps, self.n_generator_steps,
                                               self.generator_latents) != (1, 1, "fresh"):
      raise ValueError(f"update_order={self.update_order!r} needs n_discriminator_steps=1, "
                       "n_generator_steps=1 and generator_latents='fresh'.")
    if self.generator_latents not in GENERATOR_LATENTS:
      raise ValueError(f"Unknown generator_latents {self.generator_latents!r}; expected one of "
                       f"{GENERATOR_LATENTS}.")

  @classmethod
  def from_config(cls, config):
    """The options of a run's config (pack_batch="inputs": G once per pack slot)."""
    return cls(loss=config.loss, generator_loss=config.generator_loss,
               gradient_penalty_weight=float(config.gradient_penalty_weight),
               n_discriminator_steps=config.n_discriminator_steps,
               n_generator_steps=config.n_generator_steps,
               generator_latents=config.generator_latents, pack=config.pack,
               update_order=config.update_order,
               generator_groups=config.pack if config.pack_batch == "inputs" else 1,
               augmentation=augment.AugmentOptions.from_config(config),
               r1_gamma=float(config.r1_gamma), r2_gamma=float(config.r2_gamma),
               regularization_interval=config.regularization_interval)


def rows_per_step(config):
  """Real rows of one step's global batch: batch_size per D update, times pack when batch_size
  counts packed inputs (pack_batch="inputs")."""
  packs = config.pack if config.pack_batch == "inputs" else 1
  return config.batch_size * config.n_discriminator_steps * packs


def validate(config, num_devices, fixed_points=False):
  """The step's config fields; `fixed_points`: the data are a fixed set of packed 2-D examples."""
  batch_size = positive_int(config, "batch_size")
  n = positive_int(config, "n_discriminator_steps")
  require(batch_size % num_devices == 0, "batch_size", batch_size,
          f"it must be divisible by the number of devices ({num_devices})")
  pack = config.pack
  require(is_int(pack) and pack >= 1, "pack", pack,
          "it must be an integer >= 1 (1 = no packing; PacGAN uses 2-4)")
  require(config.pack_batch in PACK_BATCHES, "pack_batch", config.pack_batch,
          f"choose one of {PACK_BATCHES} (what batch_size counts when pack > 1)")
  if config.pack_batch == "samples":
    require(batch_size // num_devices % pack == 0, "pack", pack,
            f"each device's batch ({batch_size // num_devices} of batch_size={batch_size} on "
            f"{num_devices} devices) must be divisible by it (or set config.pack_batch="
            "'inputs': batch_size packed inputs of pack samples each)")
  fixed_packs = config.data.get("fixed_packs", False)
  if fixed_packs:
    require(config.pack_batch == "inputs", "data.fixed_packs", True,
            "PacGAN's packed examples are the inputs of D: set config.pack_batch='inputs'")
  if (fixed_points or fixed_packs) and config.pack_batch == "inputs" and pack > 1:
    require(n == 1, "n_discriminator_steps", n, "a fixed set of packed examples "
            "(config.data.fixed_packs, or config.data.toy2d.num_examples with pack_batch="
            "'inputs') is fed to one discriminator update per step; set it to 1")
  require(pack == 1 or not config.conditional, "pack", pack,
          "packing is for unconditional GANs (a pack has no one label); use pack=1 with "
          "conditional=True")
  require(config.update_order in UPDATE_ORDERS, "update_order", config.update_order,
          f"choose one of {UPDATE_ORDERS}")
  n_generator = positive_int(config, "n_generator_steps")
  require(config.generator_latents in GENERATOR_LATENTS, "generator_latents",
          config.generator_latents, f"choose one of {GENERATOR_LATENTS}")
  if config.update_order != "alternating":
    why = (f"config.update_order={config.update_order!r} makes one D and one G update from one "
           "generator forward")
    require(n == 1, "n_discriminator_steps", n, f"{why}; set it to 1")
    require(n_generator == 1, "n_generator_steps", n_generator, f"{why}; set it to 1")
    require(config.generator_latents == "fresh", "generator_latents", config.generator_latents,
            f"{why}; set it to 'fresh'")


def discriminator_update(state, real_images, rng, options=StepOptions(), real_labels=None,
                         generated=None):
  """One discriminator (critic) step on a real batch and a fresh generated batch.

  A conditional critic's gradient penalty is taken with the real labels at the interpolates.
  `generated`: (images, G's new batch_stats, labels) of a generator forward the caller already
  ran (`shared_forward_updates`); None draws and generates a fresh batch here.
  """
  objectives.check_penalty(state, options)
  axis_name = options.axis_name
  latent_rng, dropout_rng = jax.random.split(rng)
  num = real_images.shape[0]
  if generated is None:
    z = sample_latents(latent_rng, num, state.latent_dim, axis_name, state.latent_distribution)
    fake_labels = objectives.draw_fake_labels(state, latent_rng, num, axis_name)
    fake_images, generator_stats = objectives.generate(
        state.generator, state.generator.variables(), z, dropout_rng, options, fake_labels)
  else:
    fake_images, generator_stats, fake_labels = generated
  discriminator = state.discriminator
  loss_fn = functools.partial(
      objectives.discriminator_objective, discriminator, real_images=real_images,
      fake_images=lax.stop_gradient(fake_images), rng=dropout_rng, options=options,
      real_labels=real_labels, fake_labels=fake_labels,
      penalty_rng=jax.random.fold_in(latent_rng, 1),
      augment_p=objectives.augment_probability(state), step=state.step)
  (value, (real_logits, fake_logits, batch_stats, extra_metrics)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(discriminator.params)
  discriminator = discriminator.apply_gradients(pmean(grads, axis_name))
  metrics = pmean(objectives.discriminator_metrics(value, real_logits, fake_logits,
                                                   extra_metrics, options.loss), axis_name)
  state = state.replace(
      generator=state.generator.replace(batch_stats=generator_stats),
      discriminator=discriminator.replace(batch_stats=batch_stats),
      ada=augment.accumulate_signs(state.ada, metrics.get("ada_rt")))
  return state, metrics


def generator_update(state, num, rng, options=StepOptions(), latents_of=None):
  """One generator step against the current discriminator (which is not updated).

  `latents_of`: the rng of a `discriminator_update` whose latents and labels this update reuses
  (both functions split their rng into (latents, dropout) alike); None draws fresh ones.
  """
  latent_rng, dropout_rng = jax.random.split(rng)
  if latents_of is not None:
    latent_rng = jax.random.split(latents_of)[0]
  z = sample_latents(latent_rng, num, state.latent_dim, options.axis_name,
                     state.latent_distribution)
  labels = objectives.draw_fake_labels(state, latent_rng, num, options.axis_name)
  generator = state.generator

  def loss_fn(params):
    fake_images, batch_stats = objectives.generate(
        generator, {**generator.variables(), "params": params}, z, dropout_rng, options, labels)
    value = objectives.generator_objective(state.discriminator, fake_images, dropout_rng,
                                           options, labels,
                                           objectives.augment_probability(state))
    return value, (fake_images, batch_stats)

  (value, (fake_images, batch_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(generator.params)
  generator = generator.apply_gradients(pmean(grads, options.axis_name)).replace(
      batch_stats=batch_stats)
  return state.replace(generator=generator), objectives.generator_metrics(
      value, fake_images, options.axis_name)


def shared_forward_updates(state, real_images, rng, options=StepOptions(), real_labels=None):
  """One D and one G update from a single generator forward (PyTorch's DCGAN example).

  D learns on the detached fakes; G then backpropagates through the same fakes (the forward's
  saved activations, `jax.vjp`) against the updated D. One G forward a step instead of two. What
  changes against `discriminator_update` + `generator_update`: G's update reuses D's latents,
  labels and dropout mask, its BatchNorm sees one batch per step (moving statistics updated
  once, not twice), and its BatchNorm statistics are those of the generated batch D saw.
  """
  axis_name = options.axis_name
  latent_rng, dropout_rng = jax.random.split(jax.random.fold_in(rng, 0))
  num = real_images.shape[0]
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name, state.latent_distribution)
  labels = objectives.draw_fake_labels(state, latent_rng, num, axis_name)
  generator = state.generator

  def generate(params):
    return objectives.generate(generator, {**generator.variables(), "params": params}, z,
                               dropout_rng, options, labels)

  fake_images, generator_vjp, generator_stats = jax.vjp(generate, generator.params, has_aux=True)
  state, d_metrics = discriminator_update(
      state, real_images, jax.random.fold_in(rng, 1), options, real_labels=real_labels,
      generated=(fake_images, generator_stats, labels))

  loss_fn = functools.partial(objectives.generator_objective, state.discriminator,
                              rng=jax.random.fold_in(rng, 2), options=options, labels=labels,
                              augment_p=objectives.augment_probability(state))
  value, image_grads = jax.value_and_grad(loss_fn)(fake_images)
  (grads,) = generator_vjp(image_grads)
  generator = state.generator.apply_gradients(pmean(grads, axis_name))
  return state.replace(generator=generator), {
      **d_metrics, **objectives.generator_metrics(value, fake_images, axis_name)}


def simultaneous_updates(state, real_images, rng, options=StepOptions(), real_labels=None):
  """D's and G's gradients from one forward, both applied at once (ALI's and PacGAN's code).

  Both losses are computed from the same generated batch and the same (old) discriminator;
  neither player sees the other's update of this step. One G forward and one D forward on the
  generated batch serve both gradients: D's loss sees the fakes with their gradient stopped,
  G's loss sees D's parameters with theirs stopped, so one backward pass of the sum gives each
  player exactly the gradient of its own loss.
  """
  objectives.check_penalty(state, options)
  axis_name = options.axis_name
  latent_rng, dropout_rng = jax.random.split(rng)
  num = real_images.shape[0]
  z = sample_latents(latent_rng, num, state.latent_dim, axis_name, state.latent_distribution)
  labels = objectives.draw_fake_labels(state, latent_rng, num, axis_name)
  generator, discriminator = state.generator, state.discriminator
  augment_p = objectives.augment_probability(state)

  def both_losses(generator_params, discriminator_params):
    fake_images, generator_stats = objectives.generate(
        generator, {**generator.variables(), "params": generator_params}, z,
        jax.random.fold_in(dropout_rng, 2), options, labels)
    d_value, d_aux = objectives.discriminator_objective(
        discriminator, discriminator_params, real_images, lax.stop_gradient(fake_images),
        dropout_rng, options, real_labels=real_labels, fake_labels=labels,
        penalty_rng=jax.random.fold_in(latent_rng, 1), augment_p=augment_p, step=state.step)
    frozen = discriminator.replace(params=lax.stop_gradient(discriminator_params))
    g_value = objectives.generator_objective(frozen, fake_images,
                                             jax.random.fold_in(dropout_rng, 1), options, labels,
                                             augment_p)
    return d_value + g_value, (d_value, g_value, d_aux, fake_images, generator_stats)

  (_, (d_value, g_value, d_aux, fake_images, generator_stats)), (g_grads, d_grads) = (
      jax.value_and_grad(both_losses, argnums=(0, 1), has_aux=True)(
          generator.params, discriminator.params))
  real_logits, fake_logits, discriminator_stats, extra_metrics = d_aux
  d_metrics = pmean(objectives.discriminator_metrics(d_value, real_logits, fake_logits,
                                                     extra_metrics, options.loss), axis_name)
  state = state.replace(
      generator=generator.apply_gradients(pmean(g_grads, axis_name)).replace(
          batch_stats=generator_stats),
      discriminator=discriminator.apply_gradients(pmean(d_grads, axis_name)).replace(
          batch_stats=discriminator_stats),
      ada=augment.accumulate_signs(state.ada, d_metrics.get("ada_rt")))
  return state, {**d_metrics, **objectives.generator_metrics(g_value, fake_images, axis_name)}


def train_step(state, batch, rng, options=StepOptions(), axis_name=None):
  """`options.n_discriminator_steps` discriminator updates, then `options.n_generator_steps`
  generator updates.

  Args:
    state: a `GANState`.
    batch: {"image": [n_discriminator_steps * batch_size, H, W, C]} (this device's shard under an
      axis), and "label" [n_discriminator_steps * batch_size] for conditional networks; each
      discriminator update sees its own `batch_size` real images (update k: rows k, k + n, ...).
    rng: the run's base PRNG key; the step folds in `state.step`, so the same key can be passed at
      every step and a resumed run draws the same noise as an uninterrupted one.
    options: a `StepOptions`.
    axis_name: the mapped device axis (overrides `options.axis_name`), as `data_parallel` and
      `jax.pmap(..., axis_name=...)` pass it.

  Returns:
    (new state, metrics): scalar metrics d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z))
    (probabilities for BCE, critic values otherwise), fake/real pixel mean and std, plus
    critic_loss = E[D(G(z))] - E[D(x)] for the Wasserstein loss, gradient_penalty, r1_penalty and
    r2_penalty when they are on (the lazy R1/R2 scaled by their interval at the steps they are
    taken, 0 between them), ada_rt = E[sign(D(x))] and ada_p (after this step) with ADA;
    each player's metrics are those of its last update; all averaged over the
    devices.
  """
  if axis_name is not None:
    options = dataclasses.replace(options, axis_name=axis_name)
  n = options.n_discriminator_steps
  rng = jax.random.fold_in(rng, state.step)
  discriminator_rng, generator_rng = jax.random.split(rng)
  # Update k takes rows k, k + n, k + 2n, ...: under a device axis every shard holds its part of
  # each update's batch, so N devices train on exactly the batches 1 device does (contiguous
  # blocks would give each update different images per device count).
  split = lambda x: jnp.swapaxes(x.reshape((-1, n) + x.shape[1:]), 0, 1)
  real_batches = split(batch["image"])
  real_labels = split(batch["label"]) if objectives.num_classes(state) else None
  first_labels = None if real_labels is None else real_labels[0]
  if options.update_order != "alternating":
    both_updates = (shared_forward_updates if options.update_order == "shared_forward" else
                    simultaneous_updates)
    state, metrics = both_updates(state, real_batches[0], rng, options, real_labels=first_labels)
  else:
    if n == 1:
      last_discriminator_rng = discriminator_rng
      state, d_metrics = discriminator_update(state, real_batches[0], discriminator_rng, options,
                                              real_labels=first_labels)
    else:
      discriminator_rngs = jax.random.split(discriminator_rng, n)
      last_discriminator_rng = discriminator_rngs[-1]
      # Unrolled: as a rolled loop, XLA:CPU ran the DCGAN critic updates 4-6x slower (small
      # Fashion-MNIST DCGAN, 2 cores: 0.45 vs 2.6 steps/s at n = 5); n is small (WGAN: 5).
      state, all_metrics = lax.scan(
          lambda s, xs: discriminator_update(s, xs[0], xs[1], options, real_labels=xs[2]), state,
          (real_batches, discriminator_rngs, real_labels), unroll=True)
      d_metrics = jax.tree_util.tree_map(lambda m: m[-1], all_metrics)
    latents_of = (last_discriminator_rng if options.generator_latents == "discriminator" else
                  None)
    for k in range(options.n_generator_steps):
      state, g_metrics = generator_update(
          state, real_batches.shape[1],
          generator_rng if k == 0 else jax.random.fold_in(generator_rng, k), options,
          latents_of=latents_of)
    metrics = {**d_metrics, **g_metrics}
  real_mean, real_std = objectives.moments(real_batches[-1], options.axis_name)
  metrics = {**metrics, "real_mean": real_mean, "real_std": real_std}
  if state.ada is not None:
    num_devices = 1 if options.axis_name is None else lax.psum(1, options.axis_name)
    state = state.replace(ada=augment.adjust_ada(state.ada, state.step + 1,
                                                 real_batches.shape[1] * num_devices,
                                                 options.augmentation))
    metrics["ada_p"] = state.ada.p
  return state.replace(step=state.step + 1), metrics
