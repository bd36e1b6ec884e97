"""`Evaluator` on real data with known answers: real vs real, real vs noise, one class only,
Stacked MNIST with countable modes, 2-D mixtures; provenance recorded with every metric."""

import json
import math

import jax
import numpy as np
import pytest

from gan_jax import input_pipeline
from gan_jax.errors import UserError
from gan_jax.evaluation import Evaluator, domain, mixtures, modes
from gan_jax.data import sources

NUM = 2000


@pytest.fixture(scope="module")
def fashion():
  train = sources.load_arrays("fashion_mnist", "train")
  test = sources.load_arrays("fashion_mnist", "test")
  return train, test


@pytest.fixture(scope="module")
def fashion_evaluator(fashion):
  _, test = fashion
  return Evaluator("fashion_mnist", test.images[:NUM], num_samples=NUM, reference_split="test",
                   kid_subset_size=500, kid_num_subsets=20)


@pytest.fixture(scope="module")
def real_vs_real(fashion, fashion_evaluator):
  train, _ = fashion
  return fashion_evaluator.evaluate_samples(train.images[:NUM])


def test_real_vs_real(real_vs_real):
  s = real_vs_real.scalars
  assert s["classes_covered"] == 10 and s["class_kl_reference"] < 0.01
  assert s["precision"] > 0.8 and s["recall"] > 0.8 and s["coverage"] > 0.9
  assert s["density"] == pytest.approx(1.0, abs=0.15)
  assert abs(s["kid"]) < 3 * s["kid_std"]
  assert set(real_vs_real.images) == {"class_histogram"}
  assert real_vs_real.images["class_histogram"].dtype == np.uint8


def test_every_metric_records_what_it_was_computed_from(real_vs_real):
  record = json.loads(real_vs_real.to_json())
  assert set(record["metrics"]) == {"fd", "kid", "precision", "recall", "density", "coverage",
                                    "class_coverage"}
  for metric in record["metrics"].values():
    assert metric["num_samples"] == NUM and metric["num_reference"] == NUM
    assert metric["reference_split"] == "test"
    assert metric["extractor"] == "fashion_mnist_classifier"
  assert record["metrics"]["precision"]["k"] == 3 and record["metrics"]["coverage"]["k"] == 5
  assert record["metrics"]["kid"]["subset_size"] == 500
  assert record["metrics"]["kid"]["num_subsets"] == 20
  assert sum(record["metrics"]["class_coverage"]["histogram"]) == NUM
  assert record["extractor"]["info"]["test_accuracy"] > 0.9


def test_noise_is_far(fashion_evaluator, real_vs_real):
  """FD, KID, recall and coverage flag uniform noise. Precision does not on these features (it
  is ~0.98: noise lands inside the large k-NN balls of atypical real images; docs/evaluation.md)."""
  noise = np.random.default_rng(0).uniform(0, 1, size=(NUM, 28, 28, 1)).astype(np.float32)
  s = fashion_evaluator.evaluate_samples(noise).scalars
  assert s["fd"] > 50 * real_vs_real.scalars["fd"]
  assert s["kid"] > 10 * s["kid_std"]
  assert s["recall"] == 0.0 and s["coverage"] < 0.05
  assert s["density"] < real_vs_real.scalars["density"] - 0.2
  assert s["classes_covered"] <= 2


def test_one_class_only(fashion, fashion_evaluator):
  train, _ = fashion
  trousers = train.images[train.labels == 1][:NUM]
  s = fashion_evaluator.evaluate_samples(trousers).scalars
  assert s["classes_covered"] == 1
  # KL(p || uniform) = log 10 - H(p): log 10 if every trouser were classified as one.
  assert math.log(10) - 0.1 < s["class_kl_uniform"] <= math.log(10)
  assert s["recall"] < 0.2 and s["coverage"] < 0.2 and s["precision"] > 0.8


def test_generated_samples_in_minus_one_one_and_fixed_latents(fashion, fashion_evaluator):
  """A 'generator' drawing real training images, in [-1, 1]: same numbers as the uint8 path
  for the same images, and the same samples on every call (fixed latent seeds)."""
  train, test = fashion
  pool = train.images[:NUM].astype(np.float32) / 127.5 - 1.0
  generate = lambda rng, n: pool[np.asarray(jax.random.randint(rng, (n,), 0, NUM))]
  evaluator = Evaluator("fashion_mnist", test.images[:NUM].astype(np.float32) / 127.5 - 1.0,
                        num_samples=1100, value_range=(-1.0, 1.0), kid_subset_size=500,
                        kid_num_subsets=20)
  first, second = evaluator.evaluate(generate), evaluator.evaluate(generate)
  assert first.scalars == second.scalars and first.record["num_samples"] == 1100
  as_uint8 = fashion_evaluator.evaluate_samples(
      np.round((np.asarray(evaluator.generate(generate)) + 1.0) * 127.5).astype(np.uint8))
  assert first.scalars["fd"] == pytest.approx(as_uint8.scalars["fd"], rel=1e-3)


def test_stacked_mnist_counts_modes():
  mnist = sources.load_arrays("mnist")
  evaluator = Evaluator("stacked_mnist", num_samples=30)
  assert evaluator.num_samples == 30
  assert Evaluator("stacked_mnist").num_samples == 26_000

  # Three hand-picked modes (123, 456, 789), ten samples each, from correctly classified digits.
  logits = domain.classifier_extractor("mnist")(mnist.images.astype(np.float32) / 255.0)["logits"]
  correct = np.asarray(np.argmax(logits, -1)) == mnist.labels
  pick = lambda digit, i: mnist.images[np.flatnonzero(correct & (mnist.labels == digit))[i]]
  samples = np.stack([np.concatenate([pick(d, i) for d in digits], axis=-1)
                      for digits in ((1, 2, 3), (4, 5, 6), (7, 8, 9)) for i in range(10)])
  result = evaluator.evaluate_samples(samples)
  assert result.scalars["modes_covered"] == 3
  assert result.scalars["modes_kl_uniform"] == pytest.approx(math.log(1000 / 3))
  assert result.record["metrics"]["stacked_mnist_modes"]["num_samples"] == 30


def test_real_stacked_mnist_covers_nearly_all_modes():
  """5,000 uniform draws of 1,000 modes hit 1000 (1 - e^-5) = 993 of them on average."""
  mnist = sources.load_arrays("mnist")
  stacked, _ = modes.make_stacked_mnist(mnist.images, mnist.labels, 5000, np.random.default_rng(1))
  result = Evaluator("stacked_mnist", num_samples=5000).evaluate_samples(stacked)
  assert result.scalars["modes_covered"] > 975
  assert "mode_histogram" in result.images


@pytest.mark.parametrize("name", ["toy2d_ring8", "toy2d_grid25"])
def test_mixtures(name, tmp_path):
  mixture = mixtures.MIXTURES[name]
  evaluator = Evaluator(name)
  assert evaluator.num_samples == 2500
  result = evaluator.evaluate(mixture.sample)
  assert result.scalars["modes_captured"] == mixture.num_modes
  assert result.scalars["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
  collapsed = evaluator.evaluate(lambda rng, n: mixture.sample(rng, n) * 0 + mixture.centres[0])
  assert collapsed.scalars == {"modes_captured": 1.0, "high_quality_fraction": 1.0,
                               "reverse_kl": pytest.approx(math.log(mixture.num_modes))}
  assert result.images["samples_scatter"].shape[2] == 3
  json_path, png_path = result.save(str(tmp_path / "eval" / "step_000010.json"))
  assert png_path == str(tmp_path / "eval" / "step_000010_samples_scatter.png")
  with open(json_path) as f:
    assert json.load(f)["metrics"]["mixture_modes"]["modes_captured"] == mixture.num_modes


@pytest.mark.parametrize("kwargs, message", [
    (dict(dataset_name="food101", reference_images=np.zeros((20, 8, 8, 3), np.uint8)),
     "no domain classifier for dataset 'food101'"),
    (dict(dataset_name="fashion_mnist"), "needs real reference images"),
    (dict(dataset_name="fashion_mnist", reference_images=np.zeros((20, 28, 28, 1), np.uint8),
          extractor="inception", inception_weights="/nonexistent/pt_inception.npz"),
     "Inception weights file '/nonexistent/pt_inception.npz' not found"),
    (dict(dataset_name="mnist", reference_images=np.zeros((20, 28, 28, 1), np.uint8),
          extractor="clip"), "extractor='clip' is invalid"),
    (dict(dataset_name="toy2d_ring8", num_samples=1), "num_samples=1 is invalid"),
    (dict(dataset_name="mnist", reference_images=np.zeros((12, 28, 28, 1), np.uint8),
          density_coverage_k=12), r"need at least 13: raise the number of reference images"),
    (dict(dataset_name="mnist", reference_images=np.zeros((12, 28, 28, 1), np.uint8),
          num_samples=3), "num_samples=3 is too few for precision and recall with k=3"),
])
def test_user_errors(kwargs, message):
  with pytest.raises(UserError, match=message):
    Evaluator(**kwargs)


def test_mixture_samples_must_be_points():
  with pytest.raises(UserError, match=r"must be 2-D points \[N, 2\]"):
    Evaluator("toy2d_ring8").evaluate_samples(np.zeros((10, 28, 28, 1), np.float32))
