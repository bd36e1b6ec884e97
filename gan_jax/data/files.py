"""Data a user brings as files: a folder tree of images, or an .npz array file.

Both are read whole into memory before training, so every problem with them (a corrupt file, an
empty folder, images of mixed sizes, a missing array) shows up before the first step: corrupt
files are skipped and counted in one warning, the others are one `UserError`.
"""

import logging
import os

import numpy as np

from gan_jax.data import arrays as arrays_lib
from gan_jax.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# How many skipped files the warning names.
NUM_NAMED_BAD_FILES = 5


def list_image_folder(root):
  """Image paths under `root` (sorted) and their class names (top-level sub-folder, or None).

  Raises:
    UserError: `root` is not a folder, holds no images, or mixes images at its top level with
      class sub-folders.
  """
  if not root or not os.path.isdir(root):
    raise UserError(f"config.data.path={root!r} is not a folder; point it at a folder of "
                    "PNG/JPEG images (one sub-folder per class, or none).")
  paths, classes = [], []
  for directory, subdirs, files in os.walk(root):
    subdirs.sort()
    relative = os.path.relpath(directory, root)
    for name in sorted(files):
      if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
        paths.append(os.path.join(directory, name))
        classes.append(None if relative == "." else relative.split(os.sep)[0])
  if not paths:
    raise UserError(f"config.data.path={root!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}, "
                    "searched recursively).")
  at_top = [p for p, c in zip(paths, classes) if c is None]
  if at_top and len(at_top) < len(paths):
    in_class = next(p for p, c in zip(paths, classes) if c is not None)
    raise UserError(f"config.data.path={root!r} has images both directly inside it (e.g. "
                    f"{at_top[0]}) and in class sub-folders (e.g. {in_class}); move them all into "
                    "sub-folders (one per class) or all into the top folder.")
  return paths, classes


def load_image_folder(root, settings):
  """Decodes every image under `root` into memory, `transforms.prepare`d, skipping bad files.

  Labels are the index of the class sub-folder in sorted order (0 for all when there are none).

  Returns:
    An `ArrayDataset`.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from gan_jax.data import transforms  # pylint: disable=g-import-not-at-top

  paths, classes = list_image_folder(root)
  class_names = sorted({c for c in classes if c is not None})
  labels = np.asarray([class_names.index(c) if c is not None else 0 for c in classes], np.int32)

  def decode(index, path):
    image = tf.io.decode_image(tf.io.read_file(path), channels=settings.channels or 0,
                               expand_animations=False)
    return index, transforms.prepare(image, settings), tf.gather(labels, index)

  dataset = tf.data.Dataset.from_tensor_slices(paths).enumerate().map(
      decode, num_parallel_calls=tf.data.AUTOTUNE)
  # A file that fails to read or decode drops out here; the indices tell which ones did.
  dataset = dataset.ignore_errors()
  images, kept_labels, kept = arrays_lib.stack_examples(
      dataset, len(paths), lambda i: paths[i],
      fix="set config.data.image_size to resize them (and config.data.channels=3 if some "
      "are grayscale)")
  bad = sorted(set(range(len(paths))) - set(kept.tolist()))
  if bad:
    logging.warning("Skipped %d of %d files in %s that could not be read as images: %s%s",
                    len(bad), len(paths), root,
                    ", ".join(paths[i] for i in bad[:NUM_NAMED_BAD_FILES]),
                    ", ..." if len(bad) > NUM_NAMED_BAD_FILES else "")
  if len(kept) == 0:
    raise UserError(f"None of the {len(paths)} image files in config.data.path={root!r} could "
                    "be decoded.")
  source = f"image folder {root} ({len(kept)} images"
  source += f", {len(class_names)} classes)" if class_names else ")"
  return arrays_lib.ArrayDataset(images=images, labels=kept_labels, source=source,
                                 num_classes=len(class_names) or None)


def load_npz(path, image_key="image", label_key="label", value_range=(0.0, 1.0)):
  """Images (and labels, if present) from an .npz file, e.g. samples this codebase generated.

  Args:
    path: the .npz file.
    image_key: name of the image array: [N, H, W] or [N, H, W, C] with C in {1, 3, 4}; uint8, or
      floats in `value_range` (rounded to uint8, as a PNG of them would be).
    label_key: name of an optional int array [N]; labels are 0 without it.
    value_range: (low, high) of float images.

  Returns:
    An `ArrayDataset`.
  """
  if not path or not os.path.isfile(path):
    raise UserError(f"config.data.path={path!r} is not a file; point it at an .npz file.")
  try:
    archive = np.load(path, allow_pickle=False)
  except (OSError, ValueError) as e:
    raise UserError(f"config.data.path={path!r} is not a readable .npz file ({e}).") from e
  with archive:
    names = list(archive.keys())
    if image_key not in names:
      raise UserError(f"{path} has no image array {image_key!r} (config.data.image_key); its "
                      f"arrays: {names}. Set config.data.image_key to the one with the images.")
    images = archive[image_key]
    labels = archive[label_key] if label_key and label_key in names else None
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3, 4) or len(images) == 0:
    raise UserError(f"Array {image_key!r} in {path} has shape {images.shape}; expected images "
                    "[N, H, W] or [N, H, W, C] with C in 1, 3, 4 and N > 0.")
  if np.issubdtype(images.dtype, np.floating):
    low, high = value_range
    images = np.round(np.clip((images - low) / (high - low), 0.0, 1.0) * 255.0).astype(np.uint8)
  elif images.dtype != np.uint8:
    raise UserError(f"Array {image_key!r} in {path} has dtype {images.dtype}; expected uint8 "
                    "or float images.")
  num_classes = None
  if labels is None:
    labels = np.zeros(len(images), np.int32)
  else:
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
      raise UserError(f"Array {label_key!r} in {path} has shape {labels.shape} and dtype "
                      f"{labels.dtype}; expected {len(images)} integer labels (or set "
                      "config.data.label_key=None).")
    labels = labels.astype(np.int32)
    num_classes = int(labels.max()) + 1
  return arrays_lib.ArrayDataset(images=np.ascontiguousarray(images), labels=labels,
                                 source=f"npz file {path} (array {image_key!r})",
                                 num_classes=num_classes)
