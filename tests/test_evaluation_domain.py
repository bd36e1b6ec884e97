"""The shipped domain classifiers: small files, the recorded test accuracy reproduced exactly,
Stacked MNIST per-channel classification, and the script that trains them."""

import importlib.util
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import input_pipeline
from gan_jax.errors import UserError
from gan_jax.evaluation import classifier, domain, modes
from gan_jax.data import sources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _script():
  spec = importlib.util.spec_from_file_location(
      "train_eval_classifier", os.path.join(REPO, "scripts", "train_eval_classifier.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _predict(dataset, images):
  logits = domain.classifier_extractor(dataset)(images.astype(np.float32) / 255.0)["logits"]
  return np.asarray(jnp.argmax(logits, -1))


def test_architecture_parameter_count():
  variables = jax.eval_shape(classifier.DomainClassifier().init, jax.random.key(0),
                             jnp.zeros((1, 28, 28, 1)))
  assert sum(np.prod(x.shape) for x in jax.tree_util.tree_leaves(variables)) == 63_898


@pytest.mark.parametrize("dataset, min_accuracy", [("fashion_mnist", 0.90), ("mnist", 0.98)])
def test_weights_are_small_and_record_their_accuracy(dataset, min_accuracy):
  path = domain.weights_path(dataset)
  assert os.path.getsize(path) < 1_000_000
  with open(path.replace(".msgpack", ".json")) as f:
    info = json.load(f)
  assert info["dataset"] == dataset and info["test_accuracy"] >= min_accuracy
  assert info["command"].startswith("python scripts/train_eval_classifier.py")


def test_fashion_mnist_test_accuracy_is_the_recorded_one():
  test = sources.load_arrays("fashion_mnist", "test")
  accuracy = float(np.mean(_predict("fashion_mnist", test.images) == test.labels))
  assert accuracy == pytest.approx(domain.load_classifier_params("fashion_mnist")[1][
      "test_accuracy"], abs=1e-9)


def test_mnist_held_out_accuracy_is_the_recorded_one():
  info = domain.load_classifier_params("mnist")[1]
  _, _, test_images, test_labels, description = _script().load_splits("mnist", info["seed"])
  assert len(test_labels) == info["num_test"] == 1000 and description == info["data"]
  accuracy = float(np.mean(_predict("mnist", test_images) == test_labels))
  assert accuracy == pytest.approx(info["test_accuracy"], abs=1e-9)


def test_stacked_mnist_classifies_each_channel():
  mnist = sources.load_arrays("mnist")
  stacked, true_modes = modes.make_stacked_mnist(mnist.images, mnist.labels, 300,
                                                 np.random.default_rng(0))
  outputs = domain.stacked_mnist_extractor()(stacked.astype(np.float32) / 255.0)
  assert outputs["logits"].shape == (300, 3, 10) and outputs["features"].shape == (300, 384)
  predicted = modes.stacked_mnist_modes(np.asarray(jnp.argmax(outputs["logits"], -1)))
  # Per digit ~99% on these (partly training) digits, so ~97% of 3-digit modes.
  assert np.mean(predicted == true_modes) > 0.95
  # Channel c alone gives the same digit as classifying that channel as an MNIST image.
  np.testing.assert_array_equal(np.asarray(jnp.argmax(outputs["logits"][:, 1], -1)),
                                _predict("mnist", stacked[..., 1:2]))


def test_unknown_dataset():
  with pytest.raises(UserError, match="No domain classifier for dataset 'food101'"):
    domain.classifier_extractor("food101")


def test_training_script_writes_loadable_weights(tmp_path):
  _script().main(["--dataset=mnist", "--epochs=1", f"--out_dir={tmp_path}"])
  with open(tmp_path / "mnist_classifier.json") as f:
    info = json.load(f)
  assert info["num_train"] == 4000 and info["num_test"] == 1000 and info["epochs"] == 1
  assert info["test_accuracy"] > 0.5  # One epoch on 4,000 digits already reaches ~85%.
  assert os.path.getsize(tmp_path / "mnist_classifier.msgpack") < 1_000_000
