"""Checks a config before any data loads or anything compiles: one message per bad field."""

import json

from gan_jax import input_pipeline, losses, nonfinite
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
  _require(config.data.name in input_pipeline.DATASETS, "data.name", config.data.name,
           f"choose one of {input_pipeline.DATASETS}")
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
                     "num_sample_images", "nonfinite_policy", "data.data_dir",
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
