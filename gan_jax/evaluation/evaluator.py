"""`Evaluator`: every metric of a dataset for a generator, against a fixed reference set.

The reference side (features, Gaussian statistics, k-NN radii, class histogram) is computed once,
when the evaluator is built; each `evaluate` call then generates `num_samples` samples from the
same latent seeds and computes the metrics on device. What each number was computed from (sample
count, reference split and size, feature extractor) is recorded next to it.

What each dataset gets is its catalog entry's `evaluation` (`gan_jax.data.catalog`):
  classifier     FD (or FID), KID, precision, recall, density, coverage on the extractor's
                 features; class coverage from the domain classifier; class histogram.
  stacked_modes  modes covered of 1,000 and KL to uniform (26,000 samples); histogram.
  mixture        modes captured, high-quality fraction, reverse KL (2,500 points); scatter plot.
  inception      FID, KID, precision, recall, density, coverage with Inception weights.
"""

import dataclasses
import json
import logging
import os
import time
from typing import Any, Dict

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import images as images_lib
from gan_jax.data import catalog
from gan_jax.errors import UserError
from gan_jax.evaluation import domain, frechet, inception, kid, manifold, mixtures
from gan_jax.evaluation import modes, plots

EXTRACTORS = ("classifier", "inception")


@dataclasses.dataclass
class EvaluationResult:
  """What one evaluation gives.

  Attributes:
    scalars: metric name -> float, for TensorBoard (the loop prefixes "eval/").
    images: picture name -> RGB uint8 [H, W, 3] ("class_histogram", "mode_histogram" or
      "samples_scatter").
    record: JSON-able dict: every metric with its sample count, reference split and size,
      feature extractor and parameters (k, subset size, ...), plus histograms and wall times
      ("seconds": this evaluation; "reference"/"seconds": preparing the reference, once).
  """

  scalars: Dict[str, float]
  images: Dict[str, np.ndarray]
  record: Dict[str, Any]

  def to_json(self):
    return json.dumps(self.record, indent=2, allow_nan=True)

  def save(self, json_path):
    """Writes the record to `json_path` and each image next to it as `<stem>_<name>.png`.

    Returns:
      The paths written, JSON first.
    """
    directory = os.path.dirname(os.path.abspath(json_path))
    os.makedirs(directory, exist_ok=True)
    with open(json_path, "w") as f:
      f.write(self.to_json())
    paths = [json_path]
    for name, image in self.images.items():
      paths.append(os.path.splitext(json_path)[0] + f"_{name}.png")
      images_lib.save_png(image, paths[-1])
    return paths


class Evaluator:
  """Metrics of generated samples for one dataset against one reference set.

  Example (the training loop):

      evaluator = Evaluator("fashion_mnist", test_images, num_samples=10_000,
                            value_range=(0.0, 1.0), reference_split="test")
      result = evaluator.evaluate(
          lambda rng, n: train_state.generate(state, state.draw_latents(rng, n)))
      writer.write_scalars(step, {f"eval/{k}": v for k, v in result.scalars.items()})
      writer.write_images(step, {f"eval/{k}": v[None] for k, v in result.images.items()})
      result.save(os.path.join(workdir, "evaluation", f"step_{step:06d}.json"))
  """

  def __init__(self, dataset_name, reference_images=None, *, num_samples=None,
               value_range=(0.0, 1.0), reference_split="test", extractor="classifier",
               inception_weights=None, batch_size=500, kid_subset_size=1000,
               kid_num_subsets=100, precision_recall_k=3, density_coverage_k=5, seed=0,
               mixture=None):
    """Builds the evaluator and computes everything about the reference set.

    Args:
      dataset_name: a name of `gan_jax.data.catalog` (its entry says how the samples are
        evaluated: classifier, Stacked MNIST modes, 2-D mixture) or any other name with
        extractor="inception".
      reference_images: real images [N, H, W, C], uint8 (taken as [0, 255]) or float in
        `value_range`; not needed for the 2-D mixtures (their centres are known) nor for
        Stacked MNIST (its target is the uniform distribution over 1,000 modes).
      num_samples: samples generated per evaluation; default the catalog's (10,000; 26,000
        for Stacked MNIST, 2,500 for the 2-D mixtures, as in the papers).
      value_range: (low, high) of float images, reference and generated.
      reference_split: name of the reference set, recorded with every metric.
      extractor: "classifier" (the shipped domain classifier: "fd") or "inception" (FID).
      inception_weights: path of the Inception .npz (extractor="inception").
      batch_size: images per generator call and per feature-extractor call.
      kid_subset_size: samples per KID subset (capped at the smaller set's size).
      kid_num_subsets: KID subsets.
      precision_recall_k: k of precision and recall (Kynkäänniemi et al. 2019: 3).
      density_coverage_k: k of density and coverage (Naeem et al. 2020: 5).
      seed: fixes the generator's latents and the KID subsets, so evaluations of one run at
        different steps see the same noise.
      mixture: for a 2-D points dataset, the `mixtures.Mixture` the run trained on
        (`mixtures.from_data_config(config.data)`); default the catalog entry's fixed mixture.
    """
    self.dataset_name = dataset_name
    entry = catalog.get(dataset_name)
    self.num_samples = int(num_samples or entry.num_eval_samples)
    self.value_range = tuple(value_range)
    self.reference_split = reference_split
    self.batch_size = batch_size
    self.kid_subset_size = kid_subset_size
    self.kid_num_subsets = kid_num_subsets
    self.precision_recall_k = precision_recall_k
    self.density_coverage_k = density_coverage_k
    self.seed = seed
    if self.num_samples < 2:
      raise UserError(f"num_samples={self.num_samples} is invalid: it must be at least 2.")
    if extractor not in EXTRACTORS:
      raise UserError(f"extractor={extractor!r} is invalid: choose one of {EXTRACTORS}.")

    self.class_names = entry.class_names
    self.kind = entry.evaluation
    self.mixture = mixture if mixture is not None else mixtures.of_catalog(entry)
    if self.kind == "mixture" and self.mixture is None:
      raise UserError(f"Evaluating {dataset_name!r} needs its mixture (the run's "
                      "config.data.toy2d).")
    self.extractor = None  # Features for FD, KID and the manifold metrics.
    self.classifier = None  # Predicted classes for class coverage.
    if self.kind == "stacked_modes":
      self.classifier = domain.stacked_mnist_extractor()
    elif self.kind in ("classifier", "inception"):
      if self.kind == "classifier":
        self.classifier = domain.classifier_extractor(dataset_name)
      if extractor == "inception":
        self.extractor = inception.inception_extractor(inception_weights)
      elif self.classifier is not None:
        self.extractor = self.classifier
      else:
        raise UserError(
            f"There is no domain classifier for dataset {dataset_name!r} (only for "
            f"{catalog.classifier_datasets()}); evaluate it with extractor='inception' and an "
            "Inception weights file (config.evaluation.inception_weights).")
      if reference_images is None:
        raise UserError(f"Evaluating {dataset_name!r} needs real reference images.")
    self.num_reference = 0 if reference_images is None else len(reference_images)
    self._prepare_reference(reference_images)

  # Reference side.

  def _prepare_reference(self, reference_images):
    self.reference_histogram = None
    self.reference_statistics = None
    self.reference_manifold = None
    self.reference_features = None
    self.reference_seconds = 0.0
    if self.extractor is None:
      return
    start = time.time()
    needed = max(2 * self.precision_recall_k + 1, self.density_coverage_k + 1)
    if self.num_reference < needed:
      raise UserError(f"The reference set has {self.num_reference} images; the metrics (k="
                      f"{self.precision_recall_k} and {self.density_coverage_k}) need at least "
                      f"{needed}: raise the number of reference images or lower k.")
    if self.num_samples < self.precision_recall_k + 1:
      raise UserError(f"num_samples={self.num_samples} is too few for precision and recall with "
                      f"k={self.precision_recall_k}: use at least {self.precision_recall_k + 1}.")
    reference_images = np.asarray(reference_images)
    outputs = self._network_outputs(
        reference_images[i:i + self.batch_size]
        for i in range(0, len(reference_images), self.batch_size))
    self.reference_features = outputs["features"]
    self.reference_statistics = frechet.gaussian_statistics(self.reference_features)
    self.reference_manifold = manifold.real_manifold(
        self.reference_features, self.precision_recall_k, self.density_coverage_k)
    if self.classifier is not None:
      self.reference_histogram = modes.histogram(outputs["classes"], self.classifier.num_classes)
    self.reference_seconds = round(time.time() - start, 3)
    logging.info("Evaluator %s: %d reference images (%s) prepared in %.1f s.", self.dataset_name,
                 self.num_reference, self.reference_split, self.reference_seconds)

  # Samples.

  def _generated_batches(self, generate_fn):
    """`num_samples` samples from `generate_fn`, batch by batch, on the same rngs every call."""
    rng = jax.random.key(self.seed)
    # Never generate more than is evaluated (a 12-sample check of a 300x300 model).
    size = min(self.batch_size, self.num_samples)
    for index in range(-(-self.num_samples // size)):
      batch = generate_fn(jax.random.fold_in(rng, index), size)
      yield batch[:self.num_samples - index * size]

  def generate(self, generate_fn):
    """All `num_samples` samples at once (what `evaluate` sees, batch by batch)."""
    return jnp.concatenate(list(self._generated_batches(generate_fn)))

  def _network_outputs(self, batches):
    """{"features": [N, D] (device), "classes": [N] or [N, 3] (numpy)} over sample batches.

    Batches are processed as they come, so the samples never need to be on device all at once.
    """
    features, classes = [], []
    for batch in batches:
      outputs = None
      if self.extractor is not None:
        outputs = self.extractor(batch, self.batch_size, self.value_range)
        features.append(outputs["features"])
      if self.classifier is not None:
        if self.classifier is not self.extractor:
          outputs = self.classifier(batch, self.batch_size, self.value_range)
        classes.append(np.asarray(jnp.argmax(outputs["logits"], -1)))
    return {"features": jnp.concatenate(features) if features else None,
            "classes": np.concatenate(classes) if classes else None}

  def evaluate(self, generate_fn):
    """Generates `num_samples` samples and evaluates them.

    Args:
      generate_fn: (rng, batch_size) -> samples [batch_size, H, W, C] in `value_range` (or
        [batch_size, 2] points for the 2-D mixtures), e.g. the generator in inference mode
        applied to `batch_size` latents of its prior drawn with rng.

    Returns:
      An `EvaluationResult`.
    """
    return self._evaluate(self._generated_batches(generate_fn))

  def evaluate_samples(self, samples):
    """Evaluates given samples (uint8 images, float images in `value_range`, or 2-D points)."""
    if len(samples) < 2:
      raise UserError(f"Evaluation needs at least 2 samples; got {len(samples)}.")
    return self._evaluate(samples[i:i + self.batch_size]
                          for i in range(0, len(samples), self.batch_size))

  def _evaluate(self, batches):
    start = time.time()
    record = {
        "dataset": self.dataset_name,
        "reference": {"split": self.reference_split, "num_images": self.num_reference,
                      "seconds": self.reference_seconds},
        "value_range": list(self.value_range),
        "metrics": {},
    }
    scalars, images = {}, {}
    if self.kind == "mixture":
      points = np.concatenate([np.asarray(b, np.float64) for b in batches])
      record["num_samples"] = len(points)
      self._evaluate_mixture(points, record, scalars, images)
    else:
      outputs = self._network_outputs(batches)
      record["num_samples"] = len(outputs["classes"] if outputs["features"] is None else
                                  outputs["features"])
      if self.kind == "stacked_modes":
        self._evaluate_stacked_mnist(outputs["classes"], record, scalars, images)
      else:
        self._evaluate_images(outputs, record, scalars, images)
    record["seconds"] = round(time.time() - start, 3)
    return EvaluationResult(scalars=scalars, images=images, record=record)

  def _provenance(self, extractor, num_samples):
    return {"extractor": extractor.name, "num_samples": num_samples,
            "reference_split": self.reference_split, "num_reference": self.num_reference}

  def _evaluate_images(self, outputs, record, scalars, images):
    sample_features = outputs["features"]
    num_samples = sample_features.shape[0]
    provenance = self._provenance(self.extractor, num_samples)
    record["extractor"] = {"name": self.extractor.name, "info": self.extractor.info}

    fd_name = "fid" if self.extractor.name.startswith("inception") else "fd"
    value = frechet.frechet_distance(*frechet.gaussian_statistics(sample_features),
                                     *self.reference_statistics)
    record["metrics"][fd_name] = {"value": value, **provenance}
    scalars[fd_name] = value

    kid_rng = jax.random.fold_in(jax.random.key(self.seed), 1)
    kernel = kid.kernel_distance(self.reference_features, sample_features, kid_rng,
                                 self.kid_subset_size, self.kid_num_subsets)
    record["metrics"]["kid"] = {"value": kernel["kid"], "std": kernel["kid_std"],
                                "subset_size": kernel["kid_subset_size"],
                                "num_subsets": kernel["kid_num_subsets"], **provenance}
    scalars["kid"], scalars["kid_std"] = kernel["kid"], kernel["kid_std"]

    prdc = manifold.precision_recall_density_coverage(
        self.reference_manifold, sample_features, self.precision_recall_k,
        self.density_coverage_k)
    for name, value in prdc.items():
      k = self.precision_recall_k if name in ("precision", "recall") else self.density_coverage_k
      record["metrics"][name] = {"value": value, "k": k, **provenance}
      scalars[name] = value

    if self.classifier is not None:
      predicted = outputs["classes"]
      coverage = modes.class_coverage(predicted, self.classifier.num_classes,
                                      self.reference_histogram)
      record["metrics"]["class_coverage"] = {
          **coverage, "reference_histogram": self.reference_histogram.tolist(),
          "min_fraction": 0.01, "kl_units": "nats",
          **self._provenance(self.classifier, num_samples)}
      scalars["classes_covered"] = float(coverage["classes_covered"])
      scalars["class_kl_uniform"] = coverage["kl_uniform"]
      scalars["class_kl_reference"] = coverage["kl_reference"]
      images["class_histogram"] = plots.class_histogram_image(
          coverage["histogram"], self.reference_histogram, self.class_names,
          title=f"{self.dataset_name}: {coverage['classes_covered']} classes >= 1% of "
                f"{num_samples} samples")

  def _evaluate_stacked_mnist(self, channel_digits, record, scalars, images):
    num_samples = len(channel_digits)
    coverage = modes.stacked_mnist_coverage(channel_digits)
    record["extractor"] = {"name": self.classifier.name, "info": self.classifier.info}
    record["metrics"]["stacked_mnist_modes"] = {
        **coverage, "num_modes": self.classifier.num_classes, "kl_units": "nats",
        **self._provenance(self.classifier, num_samples), "reference_split": "uniform"}
    scalars["modes_covered"] = float(coverage["modes_covered"])
    scalars["modes_kl_uniform"] = coverage["kl_uniform"]
    images["mode_histogram"] = plots.class_histogram_image(
        coverage["histogram"], title=f"Stacked MNIST: {coverage['modes_covered']} of 1000 modes, "
        f"{num_samples} samples")

  def _evaluate_mixture(self, points, record, scalars, images):
    if points.ndim != 2 or points.shape[1] != 2:
      raise UserError(f"{self.dataset_name} samples must be 2-D points [N, 2]; got shape "
                      f"{points.shape}.")
    statistics = mixtures.mode_statistics(points, self.mixture)
    record["extractor"] = {"name": "none (2-D points)", "info": None}
    record["metrics"]["mixture_modes"] = {
        **statistics, "num_modes": self.mixture.num_modes, "std": self.mixture.std,
        "high_quality_stds": mixtures.HIGH_QUALITY_STDS,
        "centres": self.mixture.centres.tolist(), "num_samples": len(points),
        "reference_split": "known mixture centres", "extractor": "none"}
    scalars["modes_captured"] = float(statistics["modes_captured"])
    scalars["high_quality_fraction"] = statistics["high_quality_fraction"]
    scalars["reverse_kl"] = statistics["reverse_kl"]
    images["samples_scatter"] = plots.mixture_scatter_image(
        points, self.mixture,
        title=f"{self.mixture.name}: {statistics['modes_captured']}/{self.mixture.num_modes} "
              f"modes, {100 * statistics['high_quality_fraction']:.1f}% high quality")
