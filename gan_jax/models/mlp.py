"""The fully connected GAN of the MNIST article (seeds/001): small enough to train on a laptop CPU.

Layer table (article 001), with the parameter counts the tests assert:

    Generator                              Discriminator
    z(100)                                 28x28x1 -> flatten 784
    Dense 256  + LeakyReLU(0.2) + BN         Dense 512 + LeakyReLU(0.2)
    Dense 512  + LeakyReLU(0.2) + BN         Dense 256 + LeakyReLU(0.2)
    Dense 1024 + LeakyReLU(0.2) + BN         Dense 1 (logit)
    Dense 784  + sigmoid -> 28x28x1
    1,493,520 parameters incl. BN moving      533,505 parameters
    statistics (1,489,936 trainable)

The article's Keras code uses BatchNormalization(momentum=0.8) with Keras' epsilon of 1e-3; we keep
both so the seed configs reproduce it. The discriminator returns logits: the sigmoid lives in the
losses (numerically stable BCE) and in the metrics.

`dtype` is the compute dtype (`config.dtype`, e.g. bfloat16); parameters stay float32, BatchNorm
reduces in float32, and both networks return float32 so losses and metrics are float32 too.
"""

import math
from typing import Any, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp


class MLPGenerator(nn.Module):
  """Maps latents [batch, latent_dim] to images [batch, *image_shape] in [0, 1]."""

  image_shape: Sequence[int] = (28, 28, 1)
  hidden_features: Sequence[int] = (256, 512, 1024)
  leaky_relu_slope: float = 0.2
  batch_norm_momentum: float = 0.8
  batch_norm_epsilon: float = 1e-3
  # Compute dtype of every layer (parameters stay float32).
  dtype: Any = jnp.float32
  # Name of the mapped device axis; set by the data-parallel step so BatchNorm computes its
  # statistics over the global batch (the same numbers on 1 or N devices).
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z
    for features in self.hidden_features:
      x = nn.Dense(features, dtype=self.dtype)(x)
      x = nn.leaky_relu(x, self.leaky_relu_slope)
      x = nn.BatchNorm(
          dtype=self.dtype,
          use_running_average=not train,
          momentum=self.batch_norm_momentum,
          epsilon=self.batch_norm_epsilon,
          axis_name=self.axis_name,
      )(x)
    x = nn.Dense(math.prod(self.image_shape), dtype=self.dtype)(x)
    x = nn.sigmoid(x.astype(jnp.float32))
    return x.reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """Maps images [batch, H, W, C] to one real/fake logit per image, shape [batch]."""

  hidden_features: Sequence[int] = (512, 256)
  leaky_relu_slope: float = 0.2
  dtype: Any = jnp.float32
  axis_name: Optional[str] = None  # No cross-device statistics here; kept for a uniform interface.

  @nn.compact
  def __call__(self, x, train: bool = True):
    del train  # No dropout or BatchNorm in the article's discriminator.
    x = x.reshape((x.shape[0], -1))
    for features in self.hidden_features:
      x = nn.Dense(features, dtype=self.dtype)(x)
      x = nn.leaky_relu(x, self.leaky_relu_slope)
    return nn.Dense(1, dtype=self.dtype)(x)[:, 0].astype(jnp.float32)
