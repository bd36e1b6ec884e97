"""Small CNN classifiers for 28x28 grayscale digits and clothes: the domain feature extractor.

Inception-v3 was trained on ImageNet photographs; on 28x28 grayscale MNIST it sees upsampled
blurs. A classifier trained on the domain itself separates its classes (and so counts modes)
and gives features that are meaningful for the Fréchet distance ("FD", as opposed to FID).

    28x28x1 in [0, 1]
    Conv 3x3 16, ReLU; Conv 3x3 16, ReLU; max-pool 2      -> 14x14x16
    Conv 3x3 32, ReLU; Conv 3x3 32, ReLU; max-pool 2      -> 7x7x32
    Conv 3x3 32, ReLU; max-pool 2                         -> 3x3x32 -> flatten 288
    Dense 128, ReLU  (the features)
    Dense 10         (the logits)
    63,898 parameters (250 KB as float32)

`scripts/train_eval_classifier.py` trains it and writes the weights shipped in `weights/`.
"""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


class DomainClassifier(nn.Module):
  """Maps images [batch, 28, 28, 1] in [0, 1] to {"features": [batch, D], "logits": [batch, K]}."""

  num_classes: int = 10
  # Output channels of the conv layers; a max-pool follows each group.
  conv_features: Sequence[Sequence[int]] = ((16, 16), (32, 32), (32,))
  feature_dim: int = 128

  @nn.compact
  def __call__(self, images):
    # Centred inputs train faster; the mapping is fixed so callers always pass [0, 1].
    x = images * 2.0 - 1.0
    for group in self.conv_features:
      for features in group:
        x = nn.relu(nn.Conv(features, (3, 3), padding="SAME")(x))
      x = nn.max_pool(x, (2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))
    features = nn.relu(nn.Dense(self.feature_dim)(x))
    logits = nn.Dense(self.num_classes)(features)
    return {"features": features, "logits": logits}


def accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)
