"""GAN losses on discriminator outputs (logits, or critic values for the non-BCE losses).

`config.loss` chooses the game:

  * "bce": Goodfellow et al., "Generative Adversarial Nets" (2014). D maximises
    E[log D(x)] + E[log(1 - D(G(z)))]; the generator minimises E[log(1 - D(G(z)))] ("minimax")
    or, as the paper recommends for strong gradients early on, maximises E[log D(G(z))]
    ("non_saturating"; `config.generator_loss` picks one). Computed from logits with log-sigmoid,
    so no probability is rounded to 0 or 1 before the log (the classic source of NaN).
  * "wasserstein": Arjovsky et al., "Wasserstein GAN" (2017). The critic minimises
    E[D(G(z))] - E[D(x)], i.e. the negated estimate of the Wasserstein-1 distance (its weights
    kept in a box, `gan_jax.constraints`, or its gradient penalised, `gradient_penalty`); the
    generator minimises -E[D(G(z))].
  * "hinge": Lim & Ye, "Geometric GAN" (2017), as used with spectral normalisation (Miyato et
    al. 2018): D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))].
  * "least_squares": Mao et al., "Least Squares Generative Adversarial Networks" (2017) with
    targets 0 (fake) and 1 (real): D minimises 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2];
    G minimises 1/2 E[(D(G(z)) - 1)^2].
"""

import jax
import jax.numpy as jnp

from gan_jax.errors import is_int, is_number, require

LOSSES = ("bce", "wasserstein", "hinge", "least_squares")
GENERATOR_LOSSES = ("non_saturating", "minimax")


def _check_loss(loss):
  if loss not in LOSSES:
    raise ValueError(f"Unknown loss {loss!r}; expected one of {LOSSES}.")


def sigmoid_binary_cross_entropy(logits, labels):
  """Mean BCE between sigmoid(logits) and labels in [0, 1], computed stably from logits."""
  log_p = jax.nn.log_sigmoid(logits)
  log_not_p = jax.nn.log_sigmoid(-logits)
  return -jnp.mean(labels * log_p + (1.0 - labels) * log_not_p)


def discriminator_loss(real_logits, fake_logits, loss="bce"):
  """The loss D (or the critic) minimises, from its outputs on real and generated images.

  Args:
    real_logits: D's outputs for real images, [batch].
    fake_logits: D's outputs for generated images, [batch].
    loss: one of `LOSSES`.

  Returns:
    A scalar. For "bce": the summed BCE of both halves (target 1 real, 0 fake).
  """
  _check_loss(loss)
  if loss == "bce":
    real_loss = sigmoid_binary_cross_entropy(real_logits, jnp.ones_like(real_logits))
    fake_loss = sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
    return real_loss + fake_loss
  if loss == "wasserstein":
    return jnp.mean(fake_logits) - jnp.mean(real_logits)
  if loss == "hinge":
    return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))
  return 0.5 * jnp.mean(jnp.square(real_logits - 1.0)) + 0.5 * jnp.mean(jnp.square(fake_logits))


def generator_loss(fake_logits, kind="non_saturating", loss="bce"):
  """The loss G minimises, from D's outputs for generated images.

  Args:
    fake_logits: D's outputs for G(z), [batch].
    kind: for loss="bce" only: "non_saturating" (-E[log D(G(z))], BCE with target 1) or
      "minimax" (E[log(1 - D(G(z)))], the negated discriminator term of the value function).
      The other losses have one generator loss each and ignore it.
    loss: one of `LOSSES`.

  Returns:
    The scalar loss the generator minimises.
  """
  _check_loss(loss)
  if loss in ("wasserstein", "hinge"):
    return -jnp.mean(fake_logits)
  if loss == "least_squares":
    return 0.5 * jnp.mean(jnp.square(fake_logits - 1.0))
  if kind == "non_saturating":
    return sigmoid_binary_cross_entropy(fake_logits, jnp.ones_like(fake_logits))
  if kind == "minimax":
    return -sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
  raise ValueError(f"Unknown generator loss {kind!r}; expected one of {GENERATOR_LOSSES}.")


def gradient_penalty(critic_fn, real_images, fake_images, mix):
  """WGAN-GP penalty E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates x_hat.

  Gulrajani et al., "Improved Training of Wasserstein GANs" (2017): x_hat = mix * x +
  (1 - mix) * G(z) with mix ~ U[0, 1] per example. The norm is per example, so the critic must
  not mix examples (no BatchNorm in training mode). The mean is over this call's examples; under
  a device axis, averaging the resulting gradients over the devices gives the global mean.

  Args:
    critic_fn: images [n, H, W, C] -> outputs [n].
    real_images: [n, H, W, C].
    fake_images: [n, H, W, C].
    mix: [n] interpolation weights in [0, 1].

  Returns:
    The scalar penalty (without its weight).
  """
  mix = mix.reshape((-1,) + (1,) * (real_images.ndim - 1))
  interpolates = mix * real_images + (1.0 - mix) * fake_images
  # Example i's output depends only on example i, so the gradient of the sum holds every
  # example's own input gradient.
  grads = jax.grad(lambda x: jnp.sum(critic_fn(x)))(interpolates)
  squared_norms = jnp.sum(jnp.square(grads), axis=tuple(range(1, grads.ndim)))
  # The tiny constant keeps the gradient of sqrt finite at a zero input gradient.
  norms = jnp.sqrt(squared_norms + 1e-12)
  return jnp.mean(jnp.square(norms - 1.0))


def input_gradient_penalty(critic_fn, images):
  """E‖∇_x D(x)‖²: the R1 penalty on real images, R2 on generated ones (without the γ/2).

  Mescheder et al., "Which Training Methods for GANs do actually Converge?" (2018) penalise
  γ/2 · E‖∇D(x)‖² on real data (R1) or on generated data (R2); StyleGAN2 uses R1, R3GAN (Huang
  et al., "The GAN is dead; long live the GAN! A Modern GAN Baseline", 2024) both.
  stylegan2-ada-pytorch's training/loss.py sums the squared gradient of D's summed outputs per
  example (taken with respect to the image before augmentation, as here). As in
  `gradient_penalty`, example i's output must depend only on example i (no BatchNorm).

  Args:
    critic_fn: images [n, ...] -> outputs [m]: D's outputs for what it sees of the images (they
      may be augmented and packed, m = n / pack; the squared norm of one output's gradient then
      sums over its pack's samples).
    images: [n, ...], where the gradient is taken.

  Returns:
    The scalar mean over D's m outputs of the squared gradient norm.
  """
  outputs, vjp = jax.vjp(critic_fn, images)
  (grads,) = vjp(jnp.ones_like(outputs))
  return jnp.sum(jnp.square(grads.astype(jnp.float32))) / outputs.shape[0]


def validate(config):
  """The loss fields of a run's config: `loss`, `generator_loss`, the WGAN-GP weight and the
  R1/R2 penalties."""
  require(config.loss in LOSSES, "loss", config.loss, f"choose one of {LOSSES}")
  require(config.generator_loss in GENERATOR_LOSSES, "generator_loss", config.generator_loss,
          f"choose one of {GENERATOR_LOSSES}")
  weight = config.gradient_penalty_weight
  require(is_number(weight) and weight >= 0, "gradient_penalty_weight", weight,
          "it must be a number >= 0 (0 turns the penalty off)")
  if weight > 0:
    require(not config.model.get("discriminator_batch_norm", False),
            "model.discriminator_batch_norm", config.model.get("discriminator_batch_norm"),
            "the gradient penalty is per example and BatchNorm mixes the examples of a batch; "
            "set it to False (WGAN-GP uses no BatchNorm in the critic)")
  for field in ("r1_gamma", "r2_gamma"):
    gamma = config[field]
    require(is_number(gamma) and gamma >= 0, field, gamma,
            "it must be a number >= 0, the γ of γ/2 · E‖∇D(x)‖² (0 turns the penalty off)")
  interval = config.regularization_interval
  require(is_int(interval) and interval > 0, "regularization_interval", interval,
          "it must be a positive integer: R1/R2 every that many steps, scaled by it (1 = every "
          "step; StyleGAN2: 16)")
  if config.r1_gamma or config.r2_gamma:
    # With batch statistics D(x_i) depends on the whole batch: ∇_{x_i} of ΣD would add every
    # other output's dependence on x_i to example i's gradient, which is not R1's ‖∇D(x_i)‖.
    # Computing it per example instead needs D on batches of one, where BatchNorm in training
    # mode is undefined; the R1/R2 references use no BatchNorm in D.
    require(not config.model.get("discriminator_batch_norm", False),
            "model.discriminator_batch_norm", True, "R1/R2 penalise each image's own input "
            "gradient and BatchNorm mixes the examples of a batch; set it to False")
