"""A run's folder: its layout, its config.json (read back in today's fields), and when it resumes.

    <workdir>/config.json      the run's config (process 0 writes it, atomically)
    <workdir>/checkpoints/N/   Orbax checkpoints (gan_jax.checkpointing)
    <workdir>/samples/         sample grids, training.gif
    <workdir>/evaluation/      step_XXXXXX.json and its pictures

A config.json written by an older version is upgraded once, when it is read (`upgrade`): fields
added since get the value the run trained under, renamed fields their new name. Tools and the
loop read runs only through `read_config`, so no other code needs defaults for old runs.
"""

import copy
import dataclasses
import json
import os

from gan_jax.data import settings
from gan_jax.errors import UserError

CONFIG_FILE = "config.json"
CHECKPOINTS = "checkpoints"
SAMPLES = "samples"
EVALUATION = "evaluation"


def checkpoint_dir(workdir):
  return os.path.join(os.path.abspath(workdir), CHECKPOINTS)


def check_writable(directory, what):
  """Creates `directory` and proves it is writable; `what` names the flag in the error."""
  try:
    os.makedirs(directory, exist_ok=True)
    probe = os.path.join(directory, f".write_test.{os.getpid()}")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise UserError(f"{what} is not writable ({e.strerror}); choose a folder you can write "
                    "to.") from e


def prepare(workdir):
  """Creates `workdir` (and its samples folder) before any work starts."""
  check_writable(os.path.join(workdir, SAMPLES), f"--workdir={workdir!r}")


# Fields added after runs were saved, with the value an older config.json (which lacks them)
# trained under. Model fields are per model family: a DCGAN run never had the MLP's fields.
ADDED_FIELDS = {
    "r1_gamma": 0.0,
    "r2_gamma": 0.0,
    "regularization_interval": 1,
    # A section: its fields are filled one by one.
    "augment": {"method": "none", "diffaugment_policy": "color,translation,cutout",
                "ada_pipeline": "blit,color", "ada_p": 0.0, "ada_target": 0.6,
                "ada_interval": 4, "ada_kimg": 500.0},
    "pack": 1,
    "pack_batch": "samples",
    "ema_decay": None,
    "conditional": False,
    "num_seeds": 1,
    "update_order": "alternating",
    "dtype": "float32",
    "steps_per_dispatch": 1,
    "nonfinite_policy": "stop",
    "n_generator_steps": 1,
    "generator_latents": "fresh",
}
ADDED_MODEL_FIELDS = {
    "mlp": {"generator_activation": "leaky_relu", "generator_output_activation": "sigmoid",
            "discriminator_maxout_pieces": 1, "batch_norm_after_activation": True,
            "generator_hidden_bias": True, "init_std": None, "latent_distribution": "normal"},
    "dcgan": {"upsampling": "auto", "latent_distribution": "normal",
              "generator_dense_projection": False, "generator_exact_layer_sizes": False,
              "discriminator_truncated_init": False},
}


def upgrade(config):
  """A config dict (a saved config.json, or any config) in today's fields: renamed fields under
  their new names, fields added since filled with the values older runs trained under."""
  config = copy.deepcopy(config)
  shared = config.pop("share_generator_forward", None)
  if "update_order" not in config and shared is not None:
    config["update_order"] = "shared_forward" if shared else "alternating"
  for field, value in ADDED_FIELDS.items():
    if isinstance(value, dict):
      config[field] = {**value, **(config.get(field) or {})}
    else:
      config.setdefault(field, value)
  model = config.get("model") or {}
  for field, value in ADDED_MODEL_FIELDS.get(model.get("name"), {}).items():
    model.setdefault(field, value)
  # The data fields' defaults are `DataSettings`' (a run without a field read it that way).
  data = config.setdefault("data", {})
  defaults = json.loads(json.dumps(dataclasses.asdict(settings.DataSettings())))  # As saved.
  for field, value in defaults.items():
    if isinstance(value, dict) and isinstance(data.get(field), dict):  # Nested settings.
      for nested_field, nested_value in value.items():
        data[field].setdefault(nested_field, nested_value)
    data.setdefault(field, value)
  return config


class SavedConfig:
  """A read-only config from JSON with ConfigDict's access (`config.model.name`, `.get`), so
  tools read runs without ml_collections."""

  def __init__(self, values):
    self._values = values

  def __getattr__(self, name):
    if name.startswith("_"):
      raise AttributeError(name)
    try:
      return self[name]
    except KeyError:
      raise AttributeError(f"the run's config has no field {name!r}") from None

  def __getitem__(self, name):
    value = self._values[name]
    return SavedConfig(value) if isinstance(value, dict) else value

  def get(self, name, default=None):
    return self[name] if name in self._values else default

  def __contains__(self, name):
    return name in self._values

  def keys(self):
    return self._values.keys()

  def to_dict(self):
    return copy.deepcopy(self._values)


def read_config(workdir):
  """The run's config.json, upgraded (`upgrade`), as a `SavedConfig`."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.isfile(path):
    raise UserError(f"--workdir={workdir!r} has no {CONFIG_FILE}; pass the folder a training run "
                    "wrote (main.py --workdir=...).")
  with open(path) as f:
    return SavedConfig(upgrade(json.load(f)))


def save_config(config, workdir, process_index):
  """Writes config.json (process 0), atomically: other processes may be reading it."""
  if process_index != 0:
    return
  path = os.path.join(workdir, CONFIG_FILE)
  with open(path + ".tmp", "w") as f:
    f.write(config.to_json_best_effort(indent=2))
  os.replace(path + ".tmp", path)


# What a resumed run may change: how long it trains, how often it reports, where the data lives,
# the learning rates (the non-finite message suggests lowering them), and how the steps are
# computed (steps per dispatch gives the same steps; bfloat16 compute keeps float32 parameters,
# so a checkpoint continues on a machine where the other dtype is faster; both up-sampling
# implementations compute the same function of the same parameters). Everything else decides
# what is trained, so a workdir's checkpoints only continue under the same values.
RESUMABLE_CHANGES = ("num_train_steps", "steps_per_dispatch", "dtype", "log_every_steps",
                     "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                     "eval_every_steps", "num_sample_images", "nonfinite_policy",
                     "data.data_dir", "data.path", "distributed.", "model.upsampling",
                     "optimizer.generator_learning_rate",
                     "optimizer.discriminator_learning_rate", "evaluation.")


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
  saved = _flatten(upgrade(saved_config))
  current = _flatten(upgrade(json.loads(config.to_json_best_effort())))
  lines = []
  for field in sorted(saved.keys() | current.keys()):
    if any(field == allowed or (allowed.endswith(".") and field.startswith(allowed))
           for allowed in RESUMABLE_CHANGES):
      continue
    old, new = saved.get(field, "<absent>"), current.get(field, "<absent>")
    if old != new:
      lines.append(f"  {field}: {old!r} in the saved run -> {new!r} now")
  return lines


def checkpoint_steps(workdir):
  """The steps of the run's checkpoints, oldest first."""
  directory = checkpoint_dir(workdir)
  if not os.path.isdir(directory):
    return []
  return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def check_same_run(config, workdir):
  """Refuses to resume a workdir whose checkpoints were trained under a different config."""
  saved_path = os.path.join(workdir, CONFIG_FILE)
  if not (checkpoint_steps(workdir) and os.path.exists(saved_path)):
    return
  with open(saved_path) as f:
    differences = resume_differences(json.load(f), config)
  if differences:
    raise UserError(
        f"--workdir={workdir!r} holds checkpoints of a run with a different config:\n"
        + "\n".join(differences) + "\nResume with the saved config (" + saved_path + "), or "
        "pass a new --workdir for the new config.")


def resolve_step(workdir, step=None):
  """`step` if the run has a checkpoint of it (None: the newest step); else a `UserError`."""
  steps = checkpoint_steps(workdir)
  if not steps:
    raise UserError(f"--workdir={workdir!r} has no checkpoints yet; train first (main.py "
                    f"--workdir={workdir}).")
  if step is None:
    return steps[-1]
  if step not in steps:
    raise UserError(f"--step={step}: {workdir} has no checkpoint of that step; it has steps "
                    f"{', '.join(map(str, steps))}.")
  return step
