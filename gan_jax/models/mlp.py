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
"""

import math
from typing import Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

# Hidden activations of the generator and the functions its output may pass through.
ACTIVATIONS = ("leaky_relu", "relu")
OUTPUT_ACTIVATIONS = {"sigmoid": nn.sigmoid, "tanh": jnp.tanh, "linear": lambda x: x}


class MLPGenerator(nn.Module):
  """Maps latents [batch, latent_dim] to images [batch, *image_shape] (in [0, 1] for sigmoid).

  `image_shape=(2,)` with a linear output is the generator of the 2-D mixture benchmarks
  (VEEGAN, PacGAN), which draw points in the plane rather than pixels.
  """

  image_shape: Sequence[int] = (28, 28, 1)
  hidden_features: Sequence[int] = (256, 512, 1024)
  leaky_relu_slope: float = 0.2
  # "leaky_relu" (article 001) or "relu" (the PacGAN 2-D generator).
  activation: str = "leaky_relu"
  # "sigmoid" (pixels in [0, 1]), "tanh" ([-1, 1]) or "linear" (unbounded, e.g. 2-D points).
  output_activation: str = "sigmoid"
  batch_norm_momentum: float = 0.8
  batch_norm_epsilon: float = 1e-3
  # Name of the mapped device axis; set by the data-parallel step so BatchNorm computes its
  # statistics over the global batch (the same numbers on 1 or N devices).
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z
    for features in self.hidden_features:
      x = nn.Dense(features)(x)
      x = (nn.relu(x) if self.activation == "relu" else
           nn.leaky_relu(x, self.leaky_relu_slope))
      x = nn.BatchNorm(
          use_running_average=not train,
          momentum=self.batch_norm_momentum,
          epsilon=self.batch_norm_epsilon,
          axis_name=self.axis_name,
      )(x)
    x = nn.Dense(math.prod(self.image_shape))(x)
    x = OUTPUT_ACTIVATIONS[self.output_activation](x)
    return x.reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """Maps images [batch, H, W, C] (or points [batch, 2]) to one real/fake logit each, [batch].

  With `maxout_pieces=k > 1` each hidden layer is a linear maxout unit (the max over k linear
  pieces; Goodfellow et al. 2013, "Maxout Networks"), as in the PacGAN 2-D discriminator;
  otherwise Dense + LeakyReLU as in article 001.
  """

  hidden_features: Sequence[int] = (512, 256)
  leaky_relu_slope: float = 0.2
  maxout_pieces: int = 1
  axis_name: Optional[str] = None  # No cross-device statistics here; kept for a uniform interface.

  @nn.compact
  def __call__(self, x, train: bool = True):
    del train  # No dropout or BatchNorm in the article's discriminator.
    x = x.reshape((x.shape[0], -1))
    for features in self.hidden_features:
      if self.maxout_pieces > 1:
        x = nn.Dense(features * self.maxout_pieces)(x)
        x = jnp.max(x.reshape((x.shape[0], features, self.maxout_pieces)), axis=-1)
      else:
        x = nn.Dense(features)(x)
        x = nn.leaky_relu(x, self.leaky_relu_slope)
    return nn.Dense(1)(x)[:, 0]
