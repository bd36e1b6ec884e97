"""The shipped domain classifiers as feature extractors: MNIST, Fashion-MNIST, Stacked MNIST.

Weights live next to this file (`weights/<dataset>_classifier.msgpack`, with a JSON recording
the test accuracy and the command that trained them: `scripts/train_eval_classifier.py`).
"""

import functools
import json
import os

import flax
import jax
import jax.numpy as jnp

from gan_jax.data import catalog
from gan_jax.errors import UserError
from gan_jax.evaluation import classifier, features

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def weights_path(dataset):
  return os.path.join(WEIGHTS_DIR, f"{dataset}_classifier.msgpack")


@functools.lru_cache(maxsize=None)
def load_classifier_params(dataset):
  """(params, info) of the shipped classifier for `dataset`."""
  if dataset not in catalog.classifier_datasets():
    raise UserError(f"No domain classifier for dataset {dataset!r}; there are classifiers for "
                    f"{catalog.classifier_datasets()} (or use the Inception extractor with your "
                    "weights file).")
  path = weights_path(dataset)
  if not os.path.exists(path):
    raise UserError(f"The {dataset} classifier weights {path} are missing; reinstall gan_jax or "
                    f"run: python scripts/train_eval_classifier.py --dataset={dataset}")
  model = classifier.DomainClassifier()
  target = model.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)))["params"]
  with open(path, "rb") as f:
    params = flax.serialization.from_bytes(target, f.read())
  with open(path.replace(".msgpack", ".json")) as f:
    info = json.load(f)
  info["weights"] = os.path.basename(path)
  return params, info


@functools.lru_cache(maxsize=None)
def classifier_extractor(dataset):
  """The `FeatureExtractor` of the shipped `dataset` classifier (28x28x1 images).

  Cached: every evaluator of a process shares one jitted network, compiled once per batch size.
  """
  params, info = load_classifier_params(dataset)
  model = classifier.DomainClassifier()
  apply_fn = jax.jit(lambda images: model.apply({"params": params}, images))
  return features.FeatureExtractor(
      name=f"{dataset}_classifier", apply_fn=apply_fn, input_shape=(28, 28, 1),
      num_classes=model.num_classes, info=info)


@functools.lru_cache(maxsize=None)
def stacked_mnist_extractor():
  """The MNIST classifier on each of the 3 channels of a Stacked MNIST image.

  Outputs "logits" [batch, 3, 10] (one digit per channel) and "features" [batch, 3 * 128]
  (the channels' features side by side).
  """
  params, info = load_classifier_params("mnist")
  model = classifier.DomainClassifier()

  def apply(images):
    channels = jnp.moveaxis(images, -1, 0)[..., None]  # [3, batch, 28, 28, 1]
    outputs = jax.vmap(lambda x: model.apply({"params": params}, x))(channels)
    batch = images.shape[0]
    return {"logits": jnp.moveaxis(outputs["logits"], 0, 1),
            "features": jnp.moveaxis(outputs["features"], 0, 1).reshape(batch, -1)}

  return features.FeatureExtractor(
      name="mnist_classifier_per_channel", apply_fn=jax.jit(apply), input_shape=(28, 28, 3),
      num_classes=1000, info=info)
