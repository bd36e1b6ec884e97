"""GAN losses on discriminator logits.

Everything works on logits and uses log-sigmoid, so no probability is ever rounded to 0 or 1
before the log (the classic source of NaN in BCE GANs).

Goodfellow et al., "Generative Adversarial Nets" (2014): the discriminator maximises
E[log D(x)] + E[log(1 - D(G(z)))]; the generator minimises E[log(1 - D(G(z)))] ("minimax") or,
as the paper recommends for strong gradients early on, maximises E[log D(G(z))]
("non_saturating").
"""

import jax
import jax.numpy as jnp

GENERATOR_LOSSES = ("non_saturating", "minimax")


def sigmoid_binary_cross_entropy(logits, labels):
  """Mean BCE between sigmoid(logits) and labels in [0, 1], computed stably from logits."""
  log_p = jax.nn.log_sigmoid(logits)
  log_not_p = jax.nn.log_sigmoid(-logits)
  return -jnp.mean(labels * log_p + (1.0 - labels) * log_not_p)


def discriminator_loss(real_logits, fake_logits):
  """BCE with target 1 for real and 0 for generated images, summed over the two halves."""
  real_loss = sigmoid_binary_cross_entropy(real_logits, jnp.ones_like(real_logits))
  fake_loss = sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
  return real_loss + fake_loss


def generator_loss(fake_logits, kind="non_saturating"):
  """Generator loss on D's logits for generated images.

  Args:
    fake_logits: discriminator logits for G(z).
    kind: "non_saturating" (-E[log D(G(z))], BCE with target 1) or "minimax"
      (E[log(1 - D(G(z)))], the negated discriminator term of the value function).

  Returns:
    The scalar loss the generator minimises.
  """
  if kind == "non_saturating":
    return sigmoid_binary_cross_entropy(fake_logits, jnp.ones_like(fake_logits))
  if kind == "minimax":
    return -sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
  raise ValueError(f"Unknown generator loss {kind!r}; expected one of {GENERATOR_LOSSES}.")
