"""`ArrayDataset`: a whole split held in memory, the form most sources take before batching."""

import dataclasses
from typing import Optional

import numpy as np

from gan_jax.errors import UserError


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
  """Images (uint8, [N, H, W, C]) and labels (int32, [N]) with the source they came from.

  `num_classes` is None when the source has no class labels (the labels are then all 0).
  """

  images: np.ndarray
  labels: np.ndarray
  source: str
  num_classes: Optional[int] = None

  @property
  def image_shape(self):
    return self.images.shape[1:]


def stack_examples(dataset, num_examples, describe, fix, chunk=256):
  """Fills uint8 [N, H, W, C] and int32 [N] arrays from a tf.data dataset of (image, label).

  Args:
    dataset: a `tf.data.Dataset` of (uint8 image [H, W, C], int label) pairs, or of
      (index, image, label) triples when some elements may be missing (then only the listed
      indices are kept, in order).
    num_examples: the most elements the dataset yields (sizes the arrays).
    describe: index -> how to name that element in an error message.
    fix: what the user should do when the images differ in size.
    chunk: images per tf.data batch when their shape is static.

  Returns:
    (images, labels, indices), trimmed to the elements present; indices says which they were.
  """
  with_index = len(dataset.element_spec) == 3
  if not with_index:
    dataset = dataset.enumerate()
    dataset = dataset.map(lambda i, example: (i, *example))
  static = dataset.element_spec[1].shape.is_fully_defined()
  dataset = dataset.batch(chunk if static else 1)
  images = labels = indices = None
  filled = 0
  first_shape = None
  for index, image, label in dataset.as_numpy_iterator():
    if images is None:
      first_shape = image.shape[1:]
      images = np.empty((num_examples, *first_shape), np.uint8)
      labels = np.empty((num_examples,), np.int32)
      indices = np.empty((num_examples,), np.int64)
      first_index = index[0]
    if image.shape[1:] != first_shape:
      raise UserError(f"Images differ in size: {describe(first_index)} is "
                      f"{'x'.join(map(str, first_shape))}, {describe(index[0])} is "
                      f"{'x'.join(map(str, image.shape[1:]))}; {fix}.")
    count = len(index)
    images[filled:filled + count] = image
    labels[filled:filled + count] = label
    indices[filled:filled + count] = index
    filled += count
  if images is None:
    return (np.zeros((0,), np.uint8), np.zeros((0,), np.int32), np.zeros((0,), np.int64))
  return images[:filled], labels[:filled], indices[:filled]
