"""Training state of a GAN: both networks' parameters, BatchNorm statistics and optimizer states.

Everything a run needs to continue exactly lives in the pytree (checkpointed by Orbax); the Flax
modules and optax transformations are static fields, rebuilt from the config on restore. That
includes the exponential moving average (EMA) of the generator's weights when a run keeps one,
and ADA's augmentation probability and controller sums when a run augments with ADA.
"""

import functools
from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from gan_jax import augment, latent_space, optimizers
from gan_jax.errors import UserError, is_number, require
from gan_jax.models import registry


class NetworkState(struct.PyTreeNode):
  """One network of the pair: its variables, its optimizer and how to apply it."""

  params: Any
  batch_stats: Any  # {} for networks without BatchNorm.
  opt_state: Any
  module: nn.Module = struct.field(pytree_node=False)
  tx: optax.GradientTransformation = struct.field(pytree_node=False)
  # EMA of `params` (None: not kept, and no leaves in the pytree or the checkpoint).
  ema_params: Any = None
  ema_decay: Optional[float] = struct.field(pytree_node=False, default=None)

  def variables(self):
    if self.batch_stats:
      return {"params": self.params, "batch_stats": self.batch_stats}
    return {"params": self.params}

  def inference_variables(self):
    """`variables()` with the EMA parameters in place of the live ones when the state keeps them.

    BatchNorm's moving statistics are the live network's (the usual choice, e.g. in Progressive
    GAN's and StyleGAN's EMA generators): they were accumulated for the live weights, not the
    averaged ones, which is close enough for a slow average; BigGAN recomputes "standing
    statistics" for the EMA weights instead, which we do not.
    """
    if self.ema_params is None:
      return self.variables()
    return {**self.variables(), "params": self.ema_params}

  def apply_gradients(self, grads):
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    state = self.replace(params=optax.apply_updates(self.params, updates), opt_state=opt_state)
    if state.ema_params is None:
      return state
    return state.replace(ema_params=ema_update(state.ema_params, state.params, state.ema_decay))


def ema_update(ema_params, params, decay):
  """decay * ema_params + (1 - decay) * params, leaf by leaf (after each update of the network).

  The average starts at the initial weights and has no bias correction: with decay 0.999 the
  initial weights still weigh 0.999^n after n updates (37% at 1,000, 0.7% at 5,000), so it needs
  a few thousand steps before it helps (Yazici et al., "The Unusual Effectiveness of Averaging in
  GAN Training", 2019).
  """
  return optax.incremental_update(params, ema_params, step_size=1.0 - decay)


class GANState(struct.PyTreeNode):
  """Generator and discriminator states plus the number of completed train steps."""

  step: jax.Array
  generator: NetworkState
  discriminator: NetworkState
  # ADA's p and controller sums (`augment.AdaState`); None without ADA (no leaves).
  ada: Optional[augment.AdaState]
  latent_dim: int = struct.field(pytree_node=False)
  # The generator's prior p(z), one of `latent_space.LATENT_DISTRIBUTIONS`.
  latent_distribution: str = struct.field(pytree_node=False, default="normal")

  def draw_latents(self, rng, num):
    """num latents [num, latent_dim] from the generator's prior."""
    return latent_space.draw(rng, (num, self.latent_dim), self.latent_distribution)


def _init_network(rng, module, tx, example_input, ema_decay=None):
  inputs = (example_input,)
  if getattr(module, "num_classes", 0):
    inputs += (jnp.zeros((example_input.shape[0],), jnp.int32),)
  variables = module.init({"params": rng, "dropout": rng}, *inputs, train=False)
  params = variables["params"]
  return NetworkState(
      params=params,
      batch_stats=variables.get("batch_stats", {}),
      opt_state=tx.init(params),
      module=module,
      tx=tx,
      # A copy: donated state buffers must not be shared between two leaves.
      ema_params=jax.tree_util.tree_map(jnp.copy, params) if ema_decay else None,
      ema_decay=ema_decay or None,
  )


def create_train_state(rng, generator, discriminator, generator_tx, discriminator_tx, *,
                       latent_dim, image_shape, pack=1, ema_decay=None, ada_p=None,
                       latent_distribution="normal"):
  """Initialises both networks and their optimizers.

  Args:
    rng: PRNG key for parameter initialisation.
    generator: Flax module mapping [batch, latent_dim] latents to [batch, *image_shape] images.
    discriminator: Flax module mapping images to one logit per image.
    generator_tx: optax transformation updating the generator.
    discriminator_tx: optax transformation updating the discriminator.
    latent_dim: size of the generator's latent vector z.
    image_shape: (height, width, channels) of the images ((2,) for 2-D points).
    pack: PacGAN's number of samples D judges jointly; D's input has `pack` times the channels.
    ema_decay: keep an EMA of the generator's weights with this decay (e.g. 0.999); None or 0:
      none. Modules with `num_classes` > 0 are initialised with labels.
    ada_p: ADA's initial augmentation probability: the state then holds ADA's controller
      (`augment.AdaState`); None: no ADA.
    latent_distribution: the generator's prior, one of `latent_space.LATENT_DISTRIBUTIONS`.

  Returns:
    A `GANState` at step 0.
  """
  generator_rng, discriminator_rng = jax.random.split(rng)
  return GANState(
      step=jnp.zeros((), jnp.int32),
      generator=_init_network(
          generator_rng, generator, generator_tx, jnp.zeros((1, latent_dim), jnp.float32),
          ema_decay),
      discriminator=_init_network(
          discriminator_rng, discriminator, discriminator_tx,
          jnp.zeros((1, *image_shape[:-1], pack * image_shape[-1]), jnp.float32)),
      ada=None if ada_p is None else augment.AdaState.create(ada_p),
      latent_dim=latent_dim,
      latent_distribution=latent_distribution,
  )


def validate(config):
  """The state's own fields: the generator's EMA and class conditioning."""
  ema_decay = config.ema_decay
  require(ema_decay is None or (is_number(ema_decay) and 0 <= ema_decay < 1), "ema_decay",
          ema_decay, "it must be in [0, 1), e.g. 0.999 (None or 0: no EMA)")
  require(isinstance(config.conditional, bool), "conditional", config.conditional,
          "it must be True or False")


def state_from_config(config, image_shape, rng, num_classes=0):
  """The initial `GANState` of a run's config: its models (`registry`), optimizers, packing, EMA
  and ADA's controller; conditional on `num_classes` classes when > 0 (`conditioning_classes`)."""
  generator, discriminator = registry.create_models(config.model, image_shape, num_classes,
                                                    dtype=config.dtype)
  generator_tx, discriminator_tx = optimizers.create_optimizers(config)
  return create_train_state(rng, generator, discriminator, generator_tx, discriminator_tx,
                            latent_dim=config.model.latent_dim, image_shape=image_shape,
                            pack=config.pack, ema_decay=config.ema_decay,
                            ada_p=(float(config.augment.ada_p)
                                   if config.augment.method == "ada" else None),
                            latent_distribution=config.model.latent_distribution)


def conditioning_classes(config, data_num_classes, data_source):
  """Number of classes a run's networks are conditioned on: 0 unless config.conditional."""
  if not config.conditional:
    return 0
  if not data_num_classes or data_num_classes < 2:
    raise UserError(f"config.conditional=True but {data_source} has no class labels; use a "
                    "labelled dataset (mnist, fashion_mnist, rock_paper_scissors, ...) or set "
                    "--config.conditional=False.")
  return data_num_classes


@functools.partial(jax.jit, static_argnums=0)
def apply_generator(module, variables, z, labels=None):
  """The generator in inference mode (BatchNorm on its moving statistics), jitted per module."""
  return module.apply(variables, z, *(() if labels is None else (labels,)), train=False)


def generate(state, z, labels=None):
  """Generator output of a `GANState` for latents z (and labels, if conditional), with the EMA
  weights when the state keeps them."""
  return apply_generator(state.generator.module, state.generator.inference_variables(), z,
                         labels)


def count_parameters(variables):
  """Number of scalars in a variables pytree (params and, if given, BatchNorm statistics)."""
  return sum(int(x.size) for x in jax.tree_util.tree_leaves(variables))
