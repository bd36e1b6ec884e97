"""optax transformations for the two players, built from a config."""

import optax

from gan_jax import constraints
from gan_jax.errors import is_number, require

OPTIMIZERS = ("adam", "rmsprop")


def create_optimizer(optimizer_config, learning_rate, weight_clip=None):
  """One player's optimizer, optionally followed by WGAN weight clipping.

  Args:
    optimizer_config: `config.optimizer` with `name` and the chosen optimizer's fields:
      "adam" (`b1`, `b2`; the articles use lr 2e-4, b1 0.5 as in DCGAN) or "rmsprop"
      (`decay`; the WGAN paper's optimizer, lr 5e-5).
    learning_rate: the player's learning rate (G and D may differ).
    weight_clip: None, or c > 0: after each update every parameter is projected onto [-c, c]
      (`gan_jax.constraints.clip_weights`), as for the WGAN critic.
  """
  if optimizer_config.name == "adam":
    tx = optax.adam(learning_rate, b1=optimizer_config.b1, b2=optimizer_config.b2)
  elif optimizer_config.name == "rmsprop":
    # eps outside the square root, decay 0.99: PyTorch's RMSprop, which the WGAN authors used.
    tx = optax.rmsprop(learning_rate, decay=optimizer_config.decay, eps=1e-8)
  else:
    raise ValueError(f"Unknown optimizer {optimizer_config.name!r}; expected one of {OPTIMIZERS}.")
  if weight_clip is None:
    return tx
  return optax.chain(tx, constraints.clip_weights(weight_clip))


def create_optimizers(config):
  """(generator_tx, discriminator_tx) for a run's config; only the critic's weights are clipped."""
  generator_tx = create_optimizer(config.optimizer, config.optimizer.generator_learning_rate)
  discriminator_tx = create_optimizer(
      config.optimizer, config.optimizer.discriminator_learning_rate,
      weight_clip=config.discriminator_weight_clip)
  return generator_tx, discriminator_tx


def validate(config):
  """`config.optimizer` and the critic's weight clip."""
  optimizer = config.optimizer
  require(optimizer.name in OPTIMIZERS, "optimizer.name", optimizer.name,
          f"choose one of {OPTIMIZERS}")
  for field in ("generator_learning_rate", "discriminator_learning_rate"):
    value = optimizer[field]
    require(is_number(value) and value > 0, f"optimizer.{field}", value,
            "it must be a positive number")
  for field in (("b1", "b2") if optimizer.name == "adam" else ("decay",)):
    value = optimizer.get(field)
    require(is_number(value) and 0 <= value < 1, f"optimizer.{field}", value,
            f"{optimizer.name} needs it in [0, 1)")
  clip = config.discriminator_weight_clip
  require(clip is None or (is_number(clip) and clip > 0), "discriminator_weight_clip", clip,
          "it must be a positive number (WGAN: 0.01) or None")
