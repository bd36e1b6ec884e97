"""Image folders (real Fashion-MNIST written as PNG, plus corrupt files) and .npz files."""

import logging

import numpy as np
import pytest
from PIL import Image

from gan_jax import input_pipeline
from gan_jax.data import files
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError

CLASS_NAMES = ("ankle_boot", "trouser", "tshirt")  # sorted: labels 0, 1, 2
FASHION_LABELS = (9, 1, 0)  # Fashion-MNIST's labels of those classes


@pytest.fixture(scope="module")
def fashion_folder(tmp_path_factory, fashion_mnist):
  """4 real Fashion-MNIST images of each of 3 classes as PNGs, a truncated PNG and a fake JPEG."""
  root = tmp_path_factory.mktemp("fashion_folder")
  expected = {}
  for class_name, fashion_label in zip(CLASS_NAMES, FASHION_LABELS):
    (root / class_name).mkdir()
    picks = np.flatnonzero(fashion_mnist.labels == fashion_label)[:4]
    for i in picks:
      path = root / class_name / f"{i:05d}.png"
      Image.fromarray(fashion_mnist.images[i, ..., 0]).save(path)
      expected[str(path)] = fashion_mnist.images[i]
  whole = sorted((root / "trouser").iterdir())[0].read_bytes()
  (root / "trouser" / "zz_truncated.png").write_bytes(whole[:len(whole) // 2])
  (root / "tshirt" / "zz_not_an_image.jpg").write_bytes(b"this is text, not a JPEG")
  (root / "tshirt" / "notes.txt").write_text("ignored: not an image extension")
  return root, expected


def test_image_folder_of_real_pngs_skips_and_counts_corrupt_files(fashion_folder, caplog):
  root, expected = fashion_folder
  with caplog.at_level(logging.WARNING):
    arrays = files.load_image_folder(str(root), DataSettings())
  assert arrays.images.shape == (12, 28, 28, 1) and arrays.images.dtype == np.uint8
  # Sorted paths: class folders in order, files in order; PNG is lossless, so pixels are exact.
  np.testing.assert_array_equal(arrays.images, np.stack([expected[p] for p in sorted(expected)]))
  assert arrays.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
  assert arrays.num_classes == 3
  warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
  assert len(warnings) == 1
  assert "Skipped 2 of 14 files" in warnings[0]
  assert "zz_truncated.png" in warnings[0] and "zz_not_an_image.jpg" in warnings[0]


def test_image_folder_through_the_pipeline_resized_to_rgb(fashion_folder):
  root, _ = fashion_folder
  settings = DataSettings(source="image_folder", path=str(root), image_size=16, channels=3,
                          value_range=(-1.0, 1.0), random_flip=True)
  train_input = input_pipeline.create_train_input(settings, 6, seed=0, process_index=0,
                                                  process_count=1)
  assert train_input.info.image_shape == (16, 16, 3)
  assert train_input.info.num_examples == 12 and train_input.info.num_classes == 3
  batch = next(train_input.batches())
  assert batch["image"].shape == (6, 16, 16, 3) and batch["image"].dtype == np.float32
  assert -1.0 <= batch["image"].min() and batch["image"].max() <= 1.0
  # Gray converted to RGB: the three channels are equal.
  np.testing.assert_array_equal(batch["image"][..., 0], batch["image"][..., 2])


def test_empty_folder(tmp_path):
  (tmp_path / "cats").mkdir()
  (tmp_path / "readme.txt").write_text("no images here")
  with pytest.raises(UserError, match="holds no images"):
    files.load_image_folder(str(tmp_path), DataSettings())


def test_missing_folder(tmp_path):
  with pytest.raises(UserError, match="is not a folder"):
    files.load_image_folder(str(tmp_path / "nothing"), DataSettings())


def test_folder_of_only_corrupt_files(tmp_path):
  (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
  with pytest.raises(UserError, match="None of the 1 image files"):
    files.load_image_folder(str(tmp_path), DataSettings())


def test_mixed_sizes_need_a_resize(tmp_path):
  Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "a.png")
  Image.fromarray(np.zeros((32, 30), np.uint8)).save(tmp_path / "b.png")
  with pytest.raises(UserError) as e:
    files.load_image_folder(str(tmp_path), DataSettings())
  message = str(e.value)
  assert "a.png is 28x28x1" in message and "b.png is 32x30x1" in message
  assert "config.data.image_size" in message
  arrays = files.load_image_folder(str(tmp_path), DataSettings(image_size=20))
  assert arrays.images.shape == (2, 20, 20, 1) and arrays.num_classes is None


def test_mixed_top_level_and_class_folders(tmp_path):
  (tmp_path / "cats").mkdir()
  Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "stray.png")
  Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "cats" / "a.png")
  with pytest.raises(UserError, match="both directly inside it"):
    files.load_image_folder(str(tmp_path), DataSettings())


def test_npz_uint8_with_labels(tmp_path, fashion_mnist):
  path = tmp_path / "real.npz"
  np.savez(path, image=fashion_mnist.images[:10], label=fashion_mnist.labels[:10])
  arrays = files.load_npz(str(path))
  np.testing.assert_array_equal(arrays.images, fashion_mnist.images[:10])
  np.testing.assert_array_equal(arrays.labels, fashion_mnist.labels[:10])


def test_npz_of_generated_float_samples(tmp_path):
  """Samples in [-1, 1] (a tanh generator) come back as the uint8 a PNG of them would hold."""
  samples = np.array([-1.0, -0.5, 0.0, 1.0, 1.5], np.float32).reshape(5, 1, 1)
  np.savez(tmp_path / "samples.npz", samples=samples)
  arrays = files.load_npz(str(tmp_path / "samples.npz"), image_key="samples",
                          value_range=(-1.0, 1.0))
  # (x + 1) / 2 * 255, rounded; 1.5 is clipped to 255.
  assert arrays.images[:, 0, 0, 0].tolist() == [0, 64, 128, 255, 255]
  assert arrays.labels.tolist() == [0] * 5 and arrays.num_classes is None


def test_npz_without_the_image_array(tmp_path):
  np.savez(tmp_path / "x.npz", x=np.zeros((3, 4, 4)), y=np.zeros(3))
  with pytest.raises(UserError, match=r"has no image array 'image'.*arrays: \['x', 'y'\]"):
    files.load_npz(str(tmp_path / "x.npz"))


def test_npz_bad_shape_and_missing_file(tmp_path):
  np.savez(tmp_path / "flat.npz", image=np.zeros((3, 16)))
  with pytest.raises(UserError, match="has shape"):
    files.load_npz(str(tmp_path / "flat.npz"))
  with pytest.raises(UserError, match="is not a file"):
    files.load_npz(str(tmp_path / "missing.npz"))
  (tmp_path / "junk.npz").write_bytes(b"not a zip")
  with pytest.raises(UserError, match="not a readable .npz"):
    files.load_npz(str(tmp_path / "junk.npz"))
