"""optax transformations for the two players, built from a config."""

import optax


def create_optimizer(optimizer_config, learning_rate):
  """Adam with the DCGAN-style betas the articles use (lr 2e-4, b1 0.5 by default).

  Args:
    optimizer_config: `config.optimizer` with `name`, `b1`, `b2`.
    learning_rate: the player's learning rate (G and D may differ).
  """
  if optimizer_config.name == "adam":
    return optax.adam(learning_rate, b1=optimizer_config.b1, b2=optimizer_config.b2)
  raise ValueError(f"Unknown optimizer {optimizer_config.name!r}.")
