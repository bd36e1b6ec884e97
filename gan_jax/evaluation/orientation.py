"""Do generated digits come out flipped or rotated? ADA's leak check, measured with a classifier.

Augmenting what D sees must not change what G learns: if flips or 90° rotations "leak", G
produces flipped or rotated images (Karras et al. 2020, "Training Generative Adversarial Networks
with Limited Data", Section 2.2 and Figure 3). For digits the shipped MNIST classifier tells: an
image's orientation is the one of the 8 flips and quarter-turns whose undoing the classifier
reads with the highest confidence. Many upright digits also read well turned (0, 1, 8, and 6
against 9), so real digits are not all "identity": the measure is the difference to real digits
of the same classes' mix. A generator that leaked shows a larger share of the other seven
("turned") than real digits do.
"""

import jax
import numpy as np

from gan_jax.evaluation import domain

# The 8 symmetries of the square, as (flip left-right first?, quarter-turns counter-clockwise).
ORIENTATIONS = {"identity": (False, 0), "rot90": (False, 1), "rot180": (False, 2),
                "rot270": (False, 3), "flip": (True, 0), "flip_rot90": (True, 1),
                "flip_rot180": (True, 2), "flip_rot270": (True, 3)}


def orient(images, name):
  """images [n, H, W, C] turned by orientation `name` (flip, then quarter-turns)."""
  flip, turns = ORIENTATIONS[name]
  images = images[:, :, ::-1] if flip else images
  return np.rot90(images, turns, axes=(1, 2))


def undo(images, name):
  """The inverse of `orient(., name)`."""
  flip, turns = ORIENTATIONS[name]
  images = np.rot90(images, -turns, axes=(1, 2))
  return images[:, :, ::-1] if flip else images


def orientations(dataset, images, value_range=(0.0, 1.0), batch_size=500):
  """Index into ORIENTATIONS of each image's orientation: the one whose undoing the classifier
  of `dataset` ("mnist", "fashion_mnist") reads with the highest top-class probability."""
  classifier = domain.classifier_extractor(dataset)
  confidence = []
  for name in ORIENTATIONS:
    logits = classifier(np.ascontiguousarray(undo(np.asarray(images), name)), batch_size,
                        value_range)["logits"]
    confidence.append(np.asarray(jax.nn.softmax(logits, axis=-1)).max(-1))
  return np.argmax(np.stack(confidence, axis=1), axis=1)


def shares(indices):
  """{orientation: share of `indices` (from `orientations`)}, and "turned": all but identity."""
  counts = np.bincount(indices, minlength=len(ORIENTATIONS))
  result = {name: float(c) / len(indices) for name, c in zip(ORIENTATIONS, counts)}
  return {**result, "turned": 1.0 - result["identity"]}


def orientation_shares(dataset, images, value_range=(0.0, 1.0)):
  """`shares` of the orientations of `images`."""
  return shares(orientations(dataset, images, value_range))
