"""gan_jax.data.catalog: one entry per dataset, consistent with the code that reads it."""

import pytest

from gan_jax.data import catalog, sources
from gan_jax.evaluation import domain, mixtures


@pytest.mark.parametrize("name", sorted(catalog.DATASETS))
def test_entries_are_consistent(name):
  entry = catalog.get(name)
  assert entry.evaluation in catalog.EVALUATIONS
  assert set(entry.sources) <= set(sources.SOURCES)
  if entry.class_names is not None:
    assert len(entry.class_names) == entry.num_classes
  if entry.mixture is not None:
    assert mixtures.of_catalog(entry).num_modes == entry.num_classes


def test_every_classifier_dataset_ships_its_classifier():
  for name in catalog.classifier_datasets():
    assert domain.classifier_extractor(name).num_classes == catalog.get(name).num_classes


def test_unlisted_names_are_tfds_datasets_evaluated_with_inception():
  entry = catalog.get("cifar10")
  assert entry.sources == ("tfds",) and entry.evaluation == "inception"
  assert entry.image_shape is None and entry.needs_reference


def test_a_synthetic_source_describes_the_run_whatever_its_name():
  assert catalog.of_run("fashion_mnist", catalog.TOY2D_SOURCE).name == "toy2d"
  assert catalog.of_run("fashion_mnist", "tfds").name == "fashion_mnist"
