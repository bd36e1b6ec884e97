"""Training state of a GAN: both networks' parameters, BatchNorm statistics and optimizer states.

Everything a run needs to continue exactly lives in the pytree (checkpointed by Orbax); the Flax
modules and optax transformations are static fields, rebuilt from the config on restore.
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct


class NetworkState(struct.PyTreeNode):
  """One network of the pair: its variables, its optimizer and how to apply it."""

  params: Any
  batch_stats: Any  # {} for networks without BatchNorm.
  opt_state: Any
  module: nn.Module = struct.field(pytree_node=False)
  tx: optax.GradientTransformation = struct.field(pytree_node=False)

  def variables(self):
    if self.batch_stats:
      return {"params": self.params, "batch_stats": self.batch_stats}
    return {"params": self.params}

  def apply_gradients(self, grads):
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    return self.replace(params=optax.apply_updates(self.params, updates), opt_state=opt_state)


class GANState(struct.PyTreeNode):
  """Generator and discriminator states plus the number of completed train steps."""

  step: jax.Array
  generator: NetworkState
  discriminator: NetworkState
  latent_dim: int = struct.field(pytree_node=False)


def _init_network(rng, module, tx, example_input):
  variables = module.init({"params": rng, "dropout": rng}, example_input, train=False)
  params = variables["params"]
  return NetworkState(
      params=params,
      batch_stats=variables.get("batch_stats", {}),
      opt_state=tx.init(params),
      module=module,
      tx=tx,
  )


def create_train_state(rng, generator, discriminator, generator_tx, discriminator_tx, *,
                       latent_dim, image_shape, pack=1):
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

  Returns:
    A `GANState` at step 0.
  """
  generator_rng, discriminator_rng = jax.random.split(rng)
  return GANState(
      step=jnp.zeros((), jnp.int32),
      generator=_init_network(
          generator_rng, generator, generator_tx, jnp.zeros((1, latent_dim), jnp.float32)),
      discriminator=_init_network(
          discriminator_rng, discriminator, discriminator_tx,
          jnp.zeros((1, *image_shape[:-1], pack * image_shape[-1]), jnp.float32)),
      latent_dim=latent_dim,
  )


def count_parameters(variables):
  """Number of scalars in a variables pytree (params and, if given, BatchNorm statistics)."""
  return sum(int(x.size) for x in jax.tree_util.tree_leaves(variables))
