"""Feature extractors: a network applied in fixed-size batches, on device, to images in [0, 1].

Every metric names the extractor its features came from (`FeatureExtractor.name`), so numbers
computed on different networks (the domain classifier's "FD", Inception's FID) are never mixed.
"""

import dataclasses
from typing import Any, Callable, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import UserError


@dataclasses.dataclass(frozen=True)
class FeatureExtractor:
  """A jitted network and what it expects.

  Attributes:
    name: recorded with every metric, e.g. "fashion_mnist_classifier".
    apply_fn: jitted map from float32 images [batch, *input_shape] in [0, 1] to a dict with
      "features" [batch, D] and, for classifiers, "logits" [batch, K].
    input_shape: (height, width, channels) the network takes; None if it resizes any input.
    num_classes: K for classifiers, None otherwise.
    info: JSON-able provenance (weights file, test accuracy, ...).
  """

  name: str
  apply_fn: Callable[[jax.Array], dict]
  input_shape: Optional[Tuple[int, int, int]]
  num_classes: Optional[int] = None
  info: Any = None

  def __call__(self, images, batch_size=500, value_range=(0.0, 1.0)):
    """Outputs for all `images` ([N, H, W, C]: uint8, or float in `value_range`).

    Images are converted and sent to the device `batch_size` at a time (10,000 299x299 RGB
    images would not fit at once); the last batch is padded, so the network compiles for one
    shape only.
    """
    if self.input_shape is not None and tuple(images.shape[1:]) != tuple(self.input_shape):
      raise UserError(f"The {self.name} feature extractor takes images of shape "
                      f"{tuple(self.input_shape)}; got {tuple(images.shape[1:])}.")
    num_images = images.shape[0]
    outputs = []
    for start in range(0, num_images, batch_size):
      batch = to_unit_range(images[start:start + batch_size], value_range)
      padding = batch_size - batch.shape[0]
      if padding:
        batch = jnp.concatenate([batch, jnp.zeros((padding, *batch.shape[1:]), batch.dtype)])
      outputs.append(self.apply_fn(batch))
    return jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs)[:num_images], *outputs)


def to_unit_range(images, value_range):
  """Images in `value_range` (uint8 arrays are taken as [0, 255]) -> float32 in [0, 1]."""
  if images.dtype == np.uint8:
    return jnp.asarray(images, jnp.float32) / 255.0
  low, high = value_range
  return jnp.clip((jnp.asarray(images, jnp.float32) - low) / (high - low), 0.0, 1.0)
