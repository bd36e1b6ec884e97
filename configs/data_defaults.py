"""The `config.data` section every config starts from: `config.data = data_config(name, ...)`.

Not a runnable config itself. The fields, their defaults and what each means are those of
`gan_jax.data.settings.DataSettings` (and `Toy2DSettings` for `config.data.toy2d`), written once
there; docs/data.md describes each source and how to point it at data.
"""

import dataclasses
import typing

import ml_collections

from gan_jax.data import settings


def _config_dict(dataclass):
  """A ConfigDict of a settings dataclass's defaults; None defaults become typed placeholders
  (so `--config.data.image_size=64` is checked as an int), nested dataclasses nested dicts."""
  hints = typing.get_type_hints(type(dataclass))
  config = ml_collections.ConfigDict()
  for field in dataclasses.fields(dataclass):
    value = getattr(dataclass, field.name)
    if dataclasses.is_dataclass(value):
      value = _config_dict(value)
    elif value is None:
      kind = [a for a in typing.get_args(hints[field.name]) if a is not type(None)][0]
      value = ml_collections.config_dict.placeholder(typing.get_origin(kind) or kind)
    config[field.name] = value
  return config


def data_config(name="fashion_mnist", **overrides):
  """`config.data` for dataset `name`, with `overrides` applied (e.g. image_size=64)."""
  data = _config_dict(settings.DataSettings(name=name))
  data.update(overrides)
  return data
