"""Mode counting on classifier predictions: class coverage and Stacked MNIST's 1,000 modes.

A generator that collapses onto a few classes can still score a fair FD on them; counting the
classes it produces makes the collapse a number. KL divergences are in nats, with 0 log 0 = 0.

Class coverage (classifier-labelled datasets): the histogram of predicted classes, the number of
classes holding at least `min_fraction` (1%) of the samples, KL(histogram || uniform) and
KL(histogram || the classifier's histogram on the real reference images).

Stacked MNIST (Metz et al. 2017, "Unrolled Generative Adversarial Networks"; protocol of
Srivastava et al. 2017, "VEEGAN", and Lin et al. 2018, "PacGAN"): each channel of a 28x28x3
sample is classified by the MNIST classifier, giving one of 1,000 modes 100 d0 + 10 d1 + d2;
reported are the number of modes with at least one of 26,000 samples and KL(mode histogram ||
uniform over 1,000).
"""

import numpy as np

from gan_jax.data import catalog

_STACKED_MNIST = catalog.get(catalog.STACKED_MNIST_SOURCE)
STACKED_MNIST_MODES = _STACKED_MNIST.num_classes
STACKED_MNIST_NUM_SAMPLES = _STACKED_MNIST.num_eval_samples


def histogram(labels, num_classes):
  """Counts of each label in [0, num_classes), int64 [num_classes]."""
  return np.bincount(np.asarray(labels).ravel(), minlength=num_classes).astype(np.int64)


def kl_divergence(p, q):
  """KL(p || q) in nats for histograms or distributions p, q (normalised here); inf where
  q is 0 and p is not."""
  p = np.asarray(p, np.float64) / np.sum(p)
  q = np.asarray(q, np.float64) / np.sum(q)
  support = p > 0
  if np.any(q[support] == 0):
    return float("inf")
  return float(np.sum(p[support] * np.log(p[support] / q[support])))


def class_coverage(predicted_classes, num_classes, reference_histogram=None, min_fraction=0.01):
  """Coverage of the classes by predicted labels [N].

  Returns:
    {"classes_covered": number of classes with >= min_fraction of the samples,
     "kl_uniform": KL(histogram || uniform),
     "kl_reference": KL(histogram || reference_histogram) (only if one is given),
     "histogram": the counts, a list}.
  """
  counts = histogram(predicted_classes, num_classes)
  result = {
      "classes_covered": int(np.sum(counts >= min_fraction * counts.sum())),
      "kl_uniform": kl_divergence(counts, np.ones(num_classes)),
      "histogram": counts.tolist(),
  }
  if reference_histogram is not None:
    result["kl_reference"] = kl_divergence(counts, reference_histogram)
  return result


def stacked_mnist_modes(channel_digits):
  """Mode index 100 d0 + 10 d1 + d2 of digits [N, 3] (one predicted digit per channel)."""
  channel_digits = np.asarray(channel_digits)
  return channel_digits[:, 0] * 100 + channel_digits[:, 1] * 10 + channel_digits[:, 2]


def stacked_mnist_coverage(channel_digits):
  """{"modes_covered": modes with >= 1 sample (of 1000), "kl_uniform", "histogram"}."""
  counts = histogram(stacked_mnist_modes(channel_digits), STACKED_MNIST_MODES)
  return {
      "modes_covered": int(np.sum(counts > 0)),
      "kl_uniform": kl_divergence(counts, np.ones(STACKED_MNIST_MODES)),
      "histogram": counts.tolist(),
  }


def make_stacked_mnist(images, labels, num_samples, rng):
  """Real Stacked MNIST: `num_samples` images [N, 28, 28, 3] whose channels are random digits.

  Args:
    images: MNIST images [K, 28, 28, 1].
    labels: their labels [K].
    num_samples: number of stacked images.
    rng: a numpy Generator.

  Returns:
    (stacked images, their true modes 100 l0 + 10 l1 + l2).
  """
  index = rng.integers(0, len(images), size=(num_samples, 3))
  stacked = np.concatenate([images[index[:, c]] for c in range(3)], axis=-1)
  return stacked, stacked_mnist_modes(np.asarray(labels)[index])
